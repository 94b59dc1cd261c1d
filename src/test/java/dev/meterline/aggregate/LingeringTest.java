package dev.meterline.aggregate;

import dev.meterline.model.SeriesKey;
import org.junit.jupiter.api.Test;

import java.util.ArrayDeque;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The series that left a shard lately are given up oldest first, by the cutoff they left at, and only while they
 * still linger: one that came back, left again with another window, or left the table is passed over.
 */
class LingeringTest {

    private static final long WINDOW = 10;

    /** A state that had one window at {@code start} and has none now, as a shard leaves it. */
    private static SeriesState left(int i, long start) {
        SeriesState s = new SeriesState(SeriesKey.of("m", Map.of("host", "h" + i)), i);
        s.open(start, new SpareWindows());
        s.remove(start);
        new ClosedWindows(1, WINDOW, 1).take(s.key, start, true, s);
        return s;
    }

    @Test
    void givesUpTheSeriesThatLeftByTheCutoffOldestFirst() {
        Lingering lingering = new Lingering();
        SeriesState a = left(0, 0);
        SeriesState b = left(1, 0);
        lingering.add(a, 0, 15);
        lingering.add(b, 0, 16);
        assertNull(lingering.poll(14));
        assertSame(a, lingering.poll(16));
        assertSame(b, lingering.poll(16));
        assertNull(lingering.poll(Long.MAX_VALUE));
    }

    @Test
    void passesOverSeriesThatCameBackLeftAgainOrLeftTheTable() {
        Lingering lingering = new Lingering();
        SeriesState back = left(0, 0);
        SeriesState again = left(1, 0);
        SeriesState gone = left(2, 0);
        SeriesState still = left(3, 0);
        lingering.add(back, 0, 15);
        lingering.add(again, 0, 15);
        lingering.add(gone, 0, 15);
        lingering.add(still, 0, 15);
        back.open(10, new SpareWindows());
        again.open(10, new SpareWindows());
        again.remove(10);
        new ClosedWindows(1, WINDOW, 1).take(again.key, 10, true, again);
        lingering.add(again, 10, 25);
        gone.number = -1;
        assertSame(still, lingering.poll(15));
        assertNull(lingering.poll(24), "again lingers from its second leaving on");
        assertSame(again, lingering.poll(25));
        assertEquals(0, lingering.entries());
    }

    @Test
    void theRingGrowsAndShrinksWithItsEntries() {
        SplittableRandom rnd = new SplittableRandom(17);
        Lingering lingering = new Lingering();
        ArrayDeque<SeriesState> model = new ArrayDeque<>();
        long cutoff = 0;
        int next = 0;
        int peak = 0;
        for (int round = 0; round < 40; round++) {
            int leaving = round < 20 ? rnd.nextInt(2_000) : rnd.nextInt(50);
            cutoff += WINDOW;
            for (int i = 0; i < leaving; i++) {
                SeriesState s = left(next++, cutoff);
                lingering.add(s, cutoff, cutoff);
                model.add(s);
            }
            peak = Math.max(peak, lingering.capacity());
            for (SeriesState s; (s = lingering.poll(cutoff - WINDOW)) != null; ) {
                assertSame(model.poll(), s);
            }
            while (!model.isEmpty() && model.peek().lastStart() <= cutoff - WINDOW) {
                throw new AssertionError("not given up: " + model.peek().key);
            }
            assertTrue(lingering.entries() <= 2 * 2_000);
        }
        assertTrue(peak >= 2_048, "grew to " + peak);
        for (SeriesState s; (s = lingering.poll(Long.MAX_VALUE)) != null; ) {
            assertSame(model.poll(), s);
        }
        assertTrue(model.isEmpty());
        assertEquals(Lingering.INITIAL_CAPACITY, lingering.capacity(), "an empty ring shrinks back");
    }
}
