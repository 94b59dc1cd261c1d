package dev.meterline.wal;

import dev.meterline.model.Point;
import dev.meterline.model.SeriesKey;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

/** A segment's series references: one per series, whichever instance of its key asks, and none shared by two. */
class SeriesRefsTest {

    private static SeriesKey key(String host) {
        return SeriesKey.of("m", Map.of("host", host));
    }

    private static int refOf(SeriesRefs refs, SeriesKey key) {
        int ref = refs.find(key);
        return ref >= 0 ? ref : refs.add(key);
    }

    @Test
    void anotherInstanceOfASeriesGetsItsReference() {
        SeriesRefs refs = new SeriesRefs();
        SeriesKey a = key("a");
        SeriesKey aAgain = key("a");
        SeriesKey b = key("b");
        assertEquals(-1, refs.find(a));
        assertEquals(0, refs.add(a));
        assertEquals(1, refOf(refs, b));
        assertEquals(0, refs.find(aAgain));
        assertEquals(0, refs.find(aAgain));
        assertEquals(0, refs.find(a));
        assertEquals(2, refs.size());
    }

    @Test
    void seriesWithTheSameHashGetTheirOwnReferences() {
        // The key's hash runs over its content bytes with a factor of 31, like String's: "Aa" and "BB" hash alike.
        SeriesKey first = key("Aa");
        SeriesKey second = key("BB");
        assertEquals(first.hashCode(), second.hashCode());
        assertNotEquals(first, second);
        SeriesRefs refs = new SeriesRefs();
        assertEquals(0, refOf(refs, first));
        assertEquals(-1, refs.find(second));
        assertEquals(1, refs.add(second));
        assertEquals(0, refs.find(first));
        assertEquals(1, refs.find(second));
        assertEquals(1, refs.find(key(second.tag("host"))));
        assertEquals(0, refs.find(key(first.tag("host"))));
    }

    @Test
    void manySeriesKeepTheirReferencesAsTheTableGrowsAndClearStartsAfresh() {
        SeriesRefs refs = new SeriesRefs();
        int n = 50_000;
        for (int i = 0; i < n; i++) {
            assertEquals(i, refs.add(key("h" + i)));
        }
        for (int i = 0; i < n; i++) {
            assertEquals(i, refs.find(key("h" + i)), "series h" + i);
        }
        assertEquals(n, refs.size());
        refs.clear();
        assertEquals(0, refs.size());
        assertEquals(-1, refs.find(key("h7")));
        assertEquals(0, refOf(refs, key("h7")));
    }

    @Test
    void freshInstancesOnEveryPointAreComparedPastTheBoundNotRemembered() {
        // A client with more series than the key caches hold: every point brings a new instance of its key.
        SeriesRefs refs = new SeriesRefs();
        int series = 100;
        for (int round = 0; round < 10; round++) {
            for (int s = 0; s < series; s++) {
                assertEquals(s, refOf(refs, key("h" + s)));
            }
        }
        assertEquals(series, refs.size());
        assertEquals(SeriesRefs.MAX_INSTANCES_PER_SERIES * series, refs.instances());
    }

    @Test
    void aPartsReferencesFoundAtHomeAreTheInstancesOwnAndTheRestAreLeftToFind() {
        SeriesRefs refs = new SeriesRefs();
        SeriesKey first = key("Aa");
        SeriesKey second = key("BB"); // the same hash as "Aa": its home slot is taken, it sits in the next one
        SeriesKey other = key("c");
        assertEquals(0, refs.add(first));
        assertEquals(1, refs.add(second));
        assertEquals(2, refs.add(other));
        SeriesKey otherAgain = key("c");
        SeriesKey fresh = key("d");
        List<Point> part = new ArrayList<>();
        for (SeriesKey k : List.of(other, first, second, otherAgain, fresh, first)) {
            part.add(new Point(k, 1.0, 1_000L, 0));
        }
        int[] found = new int[part.size()];
        Arrays.fill(found, 99);
        refs.findAtHome(part, found);
        assertArrayEquals(new int[] {2, 0, -1, -1, -1, 0}, found);
        assertEquals(1, refs.find(second));
        assertEquals(2, refs.find(otherAgain));
        assertEquals(-1, refs.find(fresh));
    }

    @Test
    void anEmptyTableFindsNothingAtHome() {
        SeriesRefs refs = new SeriesRefs();
        List<Point> part = List.of(new Point(key("a"), 1.0, 1L, 0), new Point(key("b"), 2.0, 2L, 0));
        int[] found = {7, 7};
        refs.findAtHome(part, found);
        assertArrayEquals(new int[] {-1, -1}, found);
    }
}
