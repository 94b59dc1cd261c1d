package dev.meterline.aggregate;

import dev.meterline.model.Aggregate;
import dev.meterline.model.SeriesKey;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

/** A series' open windows answer like a map of start to aggregate, whichever order windows open and close in. */
class SeriesStateTest {

    @Test
    void agreesWithAMapOfOpenWindows() {
        SplittableRandom rnd = new SplittableRandom(11);
        SeriesState s = new SeriesState(SeriesKey.of("m", Map.of()));
        Map<Long, Aggregate> model = new HashMap<>();
        for (int step = 0; step < 20_000; step++) {
            long start = 10L * rnd.nextInt(step % 500 < 250 ? 3 : 9);
            if (rnd.nextBoolean()) {
                if (s.find(start) == null) {
                    Aggregate a = new Aggregate();
                    s.add(start, a);
                    model.put(start, a);
                }
            } else {
                assertSame(model.remove(start), s.remove(start), "step " + step);
            }
            assertEquals(model.size(), s.n);
            for (long t = -10; t <= 90; t += 10) {
                assertSame(model.get(t), s.find(t), "step " + step + " start " + t);
            }
            Map<Long, Aggregate> listed = new HashMap<>();
            for (int i = 0; i < s.n; i++) {
                listed.put(s.start(i), s.aggregate(i));
            }
            assertEquals(model, listed);
        }
    }

    @Test
    void theNewestWindowIsFoundFirstAndALateOneStaysBehindIt() {
        SeriesState s = new SeriesState(SeriesKey.of("m", Map.of()));
        Aggregate current = new Aggregate();
        Aggregate late = new Aggregate();
        s.add(20, current);
        s.add(10, late);
        assertSame(current, s.aggregate(0), "a reopened older window does not take the newest place");
        assertSame(late, s.remove(10));
        assertSame(current, s.remove(20));
        assertNull(s.find(20));
        assertNull(s.remove(20));
        assertEquals(0, s.n);
    }
}
