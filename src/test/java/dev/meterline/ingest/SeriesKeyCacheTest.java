package dev.meterline.ingest;

import dev.meterline.model.SeriesKey;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The wire-bytes key cache: exact matches only, bounded, grows to the series it sees, keeps a client's cycling series. */
class SeriesKeyCacheTest {

    private static final int CAPACITY = 1024;

    /** The wire form of series {@code i}: the metric's characters, then the tags object. */
    private static byte[] wire(int i) {
        return ("m" + (i % 3) + "{\"host\":\"h" + i + "\"}").getBytes(StandardCharsets.US_ASCII);
    }

    private static int metricLength(int i) {
        return 2;
    }

    private static SeriesKey find(SeriesKeyCache cache, int i) {
        byte[] w = wire(i);
        int m = metricLength(i);
        return cache.find(SeriesKeyCache.hash(w, 0, m, m, w.length), w, 0, m, m, w.length);
    }

    private static SeriesKey put(SeriesKeyCache cache, int i) {
        byte[] w = wire(i);
        int m = metricLength(i);
        SeriesKey key = SeriesKey.of("m" + (i % 3), Map.of("host", "h" + i));
        cache.put(SeriesKeyCache.hash(w, 0, m, m, w.length), w, 0, m, m, w.length, key);
        return key;
    }

    @Test
    void givesBackTheKeyOfExactlyTheSameBytes() {
        SeriesKeyCache cache = new SeriesKeyCache(CAPACITY);
        SeriesKey k7 = put(cache, 7);
        assertSame(k7, find(cache, 7));
        assertNull(find(cache, 8));
        byte[] w = wire(7);
        // Same tags, other metric bytes: not the same series.
        byte[] other = ("m2" + new String(w, 2, w.length - 2, StandardCharsets.US_ASCII)).getBytes(StandardCharsets.US_ASCII);
        assertNull(cache.find(SeriesKeyCache.hash(other, 0, 2, 2, other.length), other, 0, 2, 2, other.length));
    }

    @Test
    void manyMoreSeriesThanSlotsNeverGiveAWrongKey() {
        SeriesKeyCache cache = new SeriesKeyCache(CAPACITY);
        int hits = 0;
        for (int round = 0; round < 3; round++) {
            for (int i = 0; i < 8 * CAPACITY; i++) {
                SeriesKey found = find(cache, i);
                if (found == null) {
                    put(cache, i);
                } else {
                    hits++;
                    assertEquals(SeriesKey.of("m" + (i % 3), Map.of("host", "h" + i)), found, "series " + i);
                }
            }
        }
        assertTrue(hits < 3 * 8 * CAPACITY / 4, "at most its capacity is remembered: " + hits);
    }

    @Test
    void aClientCyclingThroughAQuarterOfTheCapacityKeepsNearlyAllItsSeries() {
        SeriesKeyCache cache = new SeriesKeyCache(CAPACITY);
        int series = CAPACITY / 4;
        for (int i = 0; i < series; i++) {
            put(cache, i);
        }
        int misses = 0;
        for (int round = 0; round < 5; round++) {
            for (int i = 0; i < series; i++) {
                if (find(cache, i) == null) {
                    misses++;
                    put(cache, i);
                }
            }
        }
        assertTrue(misses < 5 * series * 3 / 100, "misses: " + misses + " of " + 5 * series);
    }

    /** Far more series than slots, each once per pass: most misses are not stored; once series repeat, all are. */
    @Test
    void aCacheThatHardlyHitsStoresFewMissesUntilSeriesRepeat() {
        SeriesKeyCache cache = new SeriesKeyCache(CAPACITY);
        for (int i = 0; i < SeriesKeyCache.PERIOD; i++) {
            if (find(cache, i) == null) {
                put(cache, i);
            }
        }
        assertTrue(cache.sparse(), "a period without hits");
        int repeated = CAPACITY / 8;
        int hitsWhileSparse = 0;
        for (int i = 0; i < SeriesKeyCache.PERIOD; i++) {
            int s = 10_000_000 + i % repeated;
            if (find(cache, s) == null) {
                put(cache, s);
            } else {
                hitsWhileSparse++;
            }
        }
        assertTrue(hitsWhileSparse > SeriesKeyCache.PERIOD / 2, "one miss in " + SeriesKeyCache.SPARSE_FILL
                + " is still stored, so a repeating set fills in: " + hitsWhileSparse);
        assertFalse(cache.sparse(), "hits again: every miss is stored");
    }

    /** Looks series {@code 0..series-1} up in turn, storing each miss, {@code lookups} times; returns the hits. */
    private static int cycle(SeriesKeyCache cache, int series, int lookups) {
        int hits = 0;
        for (int n = 0; n < lookups; n++) {
            int i = n % series;
            SeriesKey found = find(cache, i);
            if (found == null) {
                put(cache, i);
            } else {
                assertEquals(SeriesKey.of("m" + (i % 3), Map.of("host", "h" + i)), found, "series " + i);
                hits++;
            }
        }
        return hits;
    }

    @Test
    void growsUntilAClientsSeriesFitAndThenHitsNearlyAlways() {
        SeriesKeyCache cache = new SeriesKeyCache(64, 1 << 20);
        int series = 20_000;
        cycle(cache, series, 14 * SeriesKeyCache.PERIOD);
        assertEquals(65_536, cache.capacity(), "the first power of two where 20 000 series fill less than half");
        int hits = cycle(cache, series, SeriesKeyCache.PERIOD);
        assertTrue(hits > SeriesKeyCache.PERIOD * 9 / 10, "hits: " + hits);
        assertFalse(cache.sparse());
        assertEquals(cache.capacity(), cache.publishedCapacity());
        assertTrue(cache.publishedSize() > series * 9 / 10, "size: " + cache.publishedSize());
        assertTrue(cache.hitCount() > 0 && cache.missCount() >= series, cache.hitCount() + " / " + cache.missCount());
    }

    @Test
    void aCacheThatHitsOftenEnoughDoesNotGrow() {
        SeriesKeyCache cache = new SeriesKeyCache(1024, 1 << 16);
        cycle(cache, 512, 4 * SeriesKeyCache.PERIOD);
        assertEquals(1024, cache.capacity());
    }

    /** At its bound, a cache with far more series than slots stays at the bound, goes sparse, and never errs. */
    @Test
    void stopsGrowingAtItsBoundAndThenStoresFewMisses() {
        SeriesKeyCache cache = new SeriesKeyCache(64, 4096);
        int hits = cycle(cache, 100_000, 12 * SeriesKeyCache.PERIOD);
        assertEquals(4096, cache.capacity());
        assertTrue(cache.sparse(), "hardly any hits at the bound");
        assertTrue(cache.publishedSize() <= 4096);
        assertTrue(hits < 12 * SeriesKeyCache.PERIOD / 8, "hits: " + hits);
    }

    @Test
    void growingKeepsEveryKeyItHeld() {
        SeriesKeyCache cache = new SeriesKeyCache(256, 1 << 12);
        int series = 200;
        for (int i = 0; i < series; i++) {
            put(cache, i);
        }
        // A period of misses on other series while at least half full makes it grow; the first 200 must survive that.
        int held = 0;
        for (int i = 0; i < series; i++) {
            held += find(cache, i) == null ? 0 : 1;
        }
        for (int n = 0; n < SeriesKeyCache.PERIOD - series; n++) {
            find(cache, 1_000_000 + n);
        }
        assertEquals(512, cache.capacity());
        int after = 0;
        for (int i = 0; i < series; i++) {
            after += find(cache, i) == null ? 0 : 1;
        }
        assertEquals(held, after);
    }

    @Test
    void refusesCapacitiesThatAreNotPowersOfTwoInOrder() {
        assertEquals("initialCapacity: 100 (expected: a power of two, at least 4)",
                assertThrows(IllegalArgumentException.class, () -> new SeriesKeyCache(100, 1024)).getMessage());
        assertEquals("maxCapacity: 512 (expected: a power of two, at least initialCapacity 1024)",
                assertThrows(IllegalArgumentException.class, () -> new SeriesKeyCache(1024, 512)).getMessage());
    }

    @Test
    void namesAreSharedAndLongOnesStillDecoded() {
        SeriesKeyCache cache = new SeriesKeyCache(CAPACITY);
        byte[] a = "xx host yy".getBytes(StandardCharsets.US_ASCII);
        String first = cache.name(a, 3, 7);
        assertEquals("host", first);
        assertSame(first, cache.name("host".getBytes(StandardCharsets.US_ASCII), 0, 4));
        byte[] longName = "n".repeat(SeriesKeyCache.MAX_NAME_BYTES + 1).getBytes(StandardCharsets.US_ASCII);
        assertEquals("n".repeat(SeriesKeyCache.MAX_NAME_BYTES + 1), cache.name(longName, 0, longName.length));
    }
}
