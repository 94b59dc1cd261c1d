package dev.meterline.aggregate;

import dev.meterline.model.SeriesKey;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The series that left a shard lately answer like a map from key to number that also gives them up oldest first,
 * through growth, holes left by series that came back, compaction and shrinking.
 */
class LingeringTest {

    private static SeriesKey key(int i) {
        return SeriesKey.of("m", Map.of("host", "h" + i));
    }

    @Test
    void aSeriesIsTakenBackByAnEqualKeyOnce() {
        Lingering lingering = new Lingering();
        SeriesKey a = key(1);
        lingering.add(a, a.hashCode(), 7, 100);
        assertEquals(-1, lingering.take(key(2), key(2).hashCode()));
        assertEquals(7, lingering.take(key(1), a.hashCode()), "another instance of the same series");
        assertEquals(-1, lingering.take(a, a.hashCode()));
        assertEquals(0, lingering.size());
        assertEquals(-1, lingering.pollOldest(Long.MAX_VALUE), "the hole it left is no entry");
    }

    @Test
    void givesUpOnlyTheSeriesThatLeftByTheCutoffOldestFirst() {
        Lingering lingering = new Lingering();
        for (int i = 0; i < 3; i++) {
            lingering.add(key(i), key(i).hashCode(), i, 100 * i);
        }
        lingering.take(key(0), key(0).hashCode());
        assertEquals(-1, lingering.pollOldest(99));
        assertEquals(1, lingering.pollOldest(100));
        assertEquals(-1, lingering.pollOldest(199));
        assertEquals(2, lingering.pollOldest(Long.MAX_VALUE));
        assertEquals(0, lingering.size());
    }

    @Test
    void answersLikeAnOrderedMapThroughGrowthHolesAndShrinking() {
        SplittableRandom rnd = new SplittableRandom(17);
        Lingering lingering = new Lingering();
        Map<SeriesKey, Integer> model = new LinkedHashMap<>();
        int peakCapacity = 0;
        long now = 0;
        int next = 0;
        for (int step = 0; step < 200_000; step++) {
            int op = rnd.nextInt(10);
            // Phases of leaving and of coming back, so that the ring grows, fills with holes and shrinks.
            boolean growing = (step / 20_000) % 2 == 0;
            if (op < (growing ? 6 : 2)) {
                SeriesKey k = key(next);
                lingering.add(k, k.hashCode(), next, now);
                model.put(k, next);
                next++;
            } else if (op < 8) {
                SeriesKey k = key(next == 0 ? 0 : rnd.nextInt(next));
                Integer expected = model.remove(k);
                assertEquals(expected == null ? -1 : expected, lingering.take(k, k.hashCode()));
            } else {
                Iterator<Map.Entry<SeriesKey, Integer>> it = model.entrySet().iterator();
                int expected = it.hasNext() ? it.next().getValue() : -1;
                if (expected >= 0) {
                    it.remove();
                }
                assertEquals(expected, lingering.pollOldest(Long.MAX_VALUE));
            }
            now++;
            assertEquals(model.size(), lingering.size());
            peakCapacity = Math.max(peakCapacity, lingering.capacity());
        }
        assertTrue(peakCapacity >= 4_096, "grew to " + peakCapacity);
        List<Integer> rest = new ArrayList<>(model.values());
        for (int expected : rest) {
            assertEquals(expected, lingering.pollOldest(Long.MAX_VALUE));
        }
        assertEquals(-1, lingering.pollOldest(Long.MAX_VALUE));
        assertEquals(Lingering.INITIAL_CAPACITY, lingering.capacity(), "an empty ring shrinks back");
    }
}
