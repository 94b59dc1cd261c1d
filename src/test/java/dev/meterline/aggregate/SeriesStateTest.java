package dev.meterline.aggregate;

import dev.meterline.model.Aggregate;
import dev.meterline.model.AggregateAssertions;
import dev.meterline.model.SeriesKey;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

/**
 * A series' open windows answer like a map of start to aggregate, whichever order windows open, take values and close
 * in, though the newest window's aggregate is the state itself and moves out when a newer one opens or it closes
 * first, and older windows are spares, emptied when they close and opened again for other starts.
 */
class SeriesStateTest {

    private static final SeriesKey KEY = SeriesKey.of("m", Map.of());

    private final SpareWindows spares = new SpareWindows();

    @Test
    void agreesWithAMapOfOpenWindows() {
        SplittableRandom rnd = new SplittableRandom(11);
        SeriesState s = new SeriesState(KEY);
        Map<Long, Aggregate> model = new HashMap<>();
        int spent = 0;
        for (int step = 0; step < 20_000; step++) {
            long start = 10L * rnd.nextInt(step % 500 < 250 ? 3 : 9);
            int action = rnd.nextInt(3);
            if (action == 0) {
                if (s.find(start) == null) {
                    Aggregate a = s.open(start, spares);
                    assertEquals(0, a.count(), "a window opens empty");
                    model.put(start, new Aggregate());
                }
            } else if (action == 1) {
                Aggregate a = s.find(start);
                assertEquals(model.containsKey(start), a != null, "step " + step);
                if (a != null) {
                    // Values of a spread wide enough to fill bins, and NaN now and then.
                    double v = rnd.nextInt(50) == 0 ? Double.NaN : rnd.nextDouble(-1e3, 1e6);
                    long t = rnd.nextLong(1_000);
                    a.accept(v, t);
                    model.get(start).accept(v, t);
                }
            } else {
                Aggregate expected = model.remove(start);
                Aggregate removed = s.remove(start);
                assertEquals(expected == null, removed == null, "step " + step);
                if (removed != null) {
                    AggregateAssertions.assertSameContents(expected, removed, "step " + step);
                }
                if (removed instanceof OlderWindow w) {
                    // Closed as the shard closes it, and reused by the windows opened after.
                    new ClosedWindows(1, 10, 1).take(KEY, start, true, w);
                    spares.give(w, 3);
                }
                if (s.n == 0 && removed == s) {
                    // The state gave itself away with its last window; the series would come back in a new one.
                    s = new SeriesState(KEY);
                    spent++;
                }
            }
            assertEquals(model.size(), s.n);
            for (long t = -10; t <= 90; t += 10) {
                Aggregate a = s.find(t);
                assertEquals(model.containsKey(t), a != null, "step " + step + " start " + t);
            }
            Map<Long, Aggregate> listed = new HashMap<>();
            for (int i = 0; i < s.n; i++) {
                listed.put(s.start(i), s.aggregate(i));
            }
            assertEquals(model.keySet(), listed.keySet());
            if (step % 97 == 0) {
                for (Map.Entry<Long, Aggregate> e : model.entrySet()) {
                    AggregateAssertions.assertSameContents(e.getValue(), listed.get(e.getKey()), "step " + step + " start " + e.getKey());
                }
            }
        }
        assertEquals(true, spent > 10, "states given away: " + spent);
        assertEquals(true, spares.size() <= 3, "spares kept up to their bound: " + spares.size());
    }

    @Test
    void theNewestWindowIsTheStateAndALateOneStaysBehindIt() {
        SeriesState s = new SeriesState(KEY);
        Aggregate current = s.open(20, spares);
        assertSame(s, current, "one object for a series with one window");
        current.accept(5, 21);
        Aggregate late = s.open(10, spares);
        assertNotSame(s, late);
        late.accept(7, 11);
        assertSame(s, s.aggregate(0), "a reopened older window does not take the newest place");
        assertSame(late, s.remove(10));
        assertSame(s, s.remove(20), "the last window is the state itself");
        assertEquals(5, s.sum());
        assertNull(s.find(20));
        assertNull(s.remove(20));
        assertEquals(0, s.n);
    }

    @Test
    void aNewerWindowMovesTheNewestOutWithItsValues() {
        SeriesState s = new SeriesState(KEY);
        s.open(10, spares).accept(1, 10);
        s.find(10).accept(2, 12);
        s.find(10).accept(3, 13);
        Aggregate next = s.open(20, spares);
        assertSame(s, next);
        assertEquals(0, next.count(), "the newer window starts empty");
        next.accept(100, 21);
        Aggregate moved = s.find(10);
        assertNotSame(s, moved);
        assertEquals(3, moved.count());
        assertEquals(6, moved.sum());
        assertEquals(3, moved.last());
        moved.accept(4, 14);

        // The newest closes first: it moves out, and the older window moves into the state.
        Aggregate closed = s.remove(20);
        assertNotSame(s, closed);
        assertEquals(100, closed.sum());
        assertEquals(1, s.n);
        assertSame(s, s.find(10));
        assertEquals(4, s.count());
        assertEquals(10, s.sum());
        s.accept(5, 15);
        assertEquals(1.0, s.min());
        assertEquals(5.0, s.max());
        assertSame(s, s.remove(10));
        assertEquals(5, s.count());
    }

    @Test
    void takingTheLastWindowLeavesTheStateEmptyAndTheWindowWhole() {
        for (int values : new int[] {3, 40}) {
            SeriesState s = new SeriesState(KEY);
            Aggregate a = s.open(10, spares);
            for (int i = 0; i < values; i++) {
                a.accept(i, 10 + i);
            }
            Aggregate before = a.copy();
            byte[] sketch = a.copy().sketchBytes();
            assertSame(s, s.remove(10));
            ClosedWindows closed = new ClosedWindows(1, 10, 1);
            closed.take(KEY, 10, true, s);
            Aggregate window = closed.get(0).aggregate();
            assertNotSame(s, window);
            AggregateAssertions.assertSameContents(before, window, values + " values");
            assertArrayEquals(sketch, window.sketchBytes());
            assertEquals(0, s.count());
            assertEquals(0, s.sketchBytes().length);
        }
    }
}
