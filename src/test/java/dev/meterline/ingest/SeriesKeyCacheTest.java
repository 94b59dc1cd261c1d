package dev.meterline.ingest;

import dev.meterline.model.SeriesKey;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

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

    /** A key the cache stores is marked as held (shards keep such instances); a miss it skips while crowded is not. */
    @Test
    void marksTheKeysItStoresAndOnlyThose() {
        SeriesKeyCache cache = new SeriesKeyCache(CAPACITY);
        SeriesKey stored = put(cache, 7);
        assertTrue(stored.held());
        assertFalse(SeriesKey.of("m1", Map.of("host", "h7")).held(), "an equal instance the cache never saw");
        for (int i = 0; i < SeriesKeyCache.PERIOD; i++) {
            if (find(cache, 1_000_000 + i) == null) {
                put(cache, 1_000_000 + i);
            }
        }
        assertTrue(cache.crowded());
        for (int i = 0; i < 4 * SeriesKeyCache.SPARSE_FILL; i++) {
            SeriesKey key = put(cache, 2_000_000 + i);
            assertFalse(key.held(), "a miss not stored is not marked");
            assertNull(find(cache, 2_000_000 + i));
        }
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

    /**
     * Far more series than slots, each once per pass: nothing is looked up or stored. Once series repeat, a period
     * shows it; one miss in {@link SeriesKeyCache#SPARSE_FILL} is stored after a period without hits, so the repeating
     * set fills in, and then every miss is.
     */
    @Test
    void aCrowdedCacheLooksNothingUpUntilSeriesRepeat() {
        SeriesKeyCache cache = new SeriesKeyCache(CAPACITY);
        for (int i = 0; i < SeriesKeyCache.PERIOD; i++) {
            if (find(cache, i) == null) {
                put(cache, i);
            }
        }
        assertTrue(cache.crowded(), "a period of distinct series");
        assertTrue(cache.sparse());
        int repeated = CAPACITY / 8;
        assertEquals(0, repeating(cache, repeated), "crowded: nothing looked up");
        assertFalse(cache.crowded(), "a period of few series");
        assertTrue(cache.sparse(), "a period without hits");
        int hitsWhileSparse = repeating(cache, repeated);
        assertTrue(hitsWhileSparse > SeriesKeyCache.PERIOD / 2, "one miss in " + SeriesKeyCache.SPARSE_FILL
                + " is stored, so a repeating set fills in: " + hitsWhileSparse);
        assertFalse(cache.sparse(), "hits again: every miss is stored");
    }

    /** A period of look-ups of the {@code series} repeating series, storing each miss; returns the hits. */
    private static int repeating(SeriesKeyCache cache, int series) {
        int hits = 0;
        for (int i = 0; i < SeriesKeyCache.PERIOD; i++) {
            int s = 10_000_000 + i % series;
            if (find(cache, s) == null) {
                put(cache, s);
            } else {
                hits++;
            }
        }
        return hits;
    }

    /**
     * A client cycling through more distinct series than three quarters of the bound crowds the cache before it
     * reaches the bound: from then on it neither grows, nor looks series up, nor stores them.
     */
    @Test
    void moreDistinctSeriesThanTheBoundStopLookUpsBeforeTheBound() {
        SeriesKeyCache cache = new SeriesKeyCache(1024, 1 << 16);
        int series = 200_000;
        cycle(cache, series, SeriesKeyCache.PERIOD);
        assertTrue(cache.crowded(), "crowded after one period: " + cache.seriesSeen());
        int capacity = cache.capacity();
        int size = cache.publishedSize();
        assertTrue(capacity < 1 << 16, "not at the bound: " + capacity);
        assertEquals(0, cycle(cache, series, 4 * series));
        assertTrue(cache.crowded());
        assertEquals(capacity, cache.capacity());
        assertEquals(size, cache.publishedSize());
        assertEquals(-1, cache.touchSlot(0, 0, 2, 2, 4), "nor reads ahead");
    }

    /** Fewer distinct series than the bound keeps, none seen twice in the first period: every miss is stored. */
    @Test
    void seriesThatFitAreStoredFromTheirFirstPass() {
        SeriesKeyCache cache = new SeriesKeyCache(1024, 1 << 18);
        int series = 100_000;
        cycle(cache, series, SeriesKeyCache.PERIOD);
        assertFalse(cache.sparse(), "estimated " + cache.seriesSeen());
        cycle(cache, series, 12 * SeriesKeyCache.PERIOD);
        assertFalse(cache.sparse());
        int hits = cycle(cache, series, SeriesKeyCache.PERIOD);
        assertTrue(hits > SeriesKeyCache.PERIOD * 9 / 10, "hits: " + hits);
    }

    /** The distinct-series estimate is within a few percent. */
    @Test
    void estimatesTheDistinctSeriesLookedUp() {
        SeriesKeyCache cache = new SeriesKeyCache(1024, 1 << 16);
        cycle(cache, 500, 3_000);
        assertEquals(500, cache.seriesSeen(), 25);
        cycle(cache, 40_000, 40_000);
        assertEquals(40_500, cache.seriesSeen(), 40_500 * 0.08);
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
        cycle(cache, 300, 4 * SeriesKeyCache.PERIOD);
        assertEquals(1024, cache.capacity());
        assertTrue(cycle(cache, 300, SeriesKeyCache.PERIOD) > SeriesKeyCache.PERIOD * 99 / 100);
    }

    /**
     * Half full, about one series in twenty shares its set with eight others and misses on every pass: more than
     * one look-up in {@link SeriesKeyCache#GROW_MISSES}, so the cache doubles, and then hardly misses at all.
     */
    @Test
    void aHalfFullCacheWhoseCrowdedSetsMissGrowsOnce() {
        SeriesKeyCache cache = new SeriesKeyCache(1024, 1 << 16);
        int hits = cycle(cache, 512, SeriesKeyCache.PERIOD);
        assertTrue(hits < SeriesKeyCache.PERIOD * (SeriesKeyCache.GROW_MISSES - 1) / SeriesKeyCache.GROW_MISSES,
                "hits at 1024 slots: " + hits);
        assertEquals(2048, cache.capacity());
        cycle(cache, 512, 3 * SeriesKeyCache.PERIOD);
        assertEquals(2048, cache.capacity());
        assertTrue(cycle(cache, 512, SeriesKeyCache.PERIOD) > SeriesKeyCache.PERIOD * 995 / 1000);
    }

    /** Fewer series than {@link SeriesKeyCache#GROW_FILL_EIGHTHS} eighths of the slots: misses do not make it grow. */
    @Test
    void aCacheWithFewSeriesDoesNotGrowWhateverItMisses() {
        SeriesKeyCache cache = new SeriesKeyCache(1024, 1 << 16);
        // 300 series stored, then look-ups of series never stored (as if refused by the series rules).
        cycle(cache, 300, 300);
        for (int n = 0; n < 3 * SeriesKeyCache.PERIOD; n++) {
            find(cache, 1_000_000 + n % 50);
        }
        assertEquals(1024, cache.capacity());
        assertEquals(300, cache.publishedSize());
    }

    /**
     * Eight series whose hashes share a set all stay while a client cycles through them; a ninth makes every one
     * of them miss, since the ways are replaced in turn.
     */
    @Test
    void eightSeriesOfOneSetStayAndANinthEvictsInTurn() {
        SeriesKeyCache cache = new SeriesKeyCache(SeriesKeyCache.WAYS * 64);
        int sets = 64;
        List<Integer> sameSet = new ArrayList<>();
        int target = -1;
        for (int i = 0; sameSet.size() < SeriesKeyCache.WAYS + 1; i++) {
            byte[] w = wire(i);
            int set = SeriesKeyCache.hash(w, 0, 2, 2, w.length) & (sets - 1);
            if (target < 0) {
                target = set;
            }
            if (set == target) {
                sameSet.add(i);
            }
        }
        for (int round = 0; round < 3; round++) {
            for (int k = 0; k < SeriesKeyCache.WAYS; k++) {
                int i = sameSet.get(k);
                if (round == 0) {
                    assertNull(find(cache, i));
                    put(cache, i);
                } else {
                    assertEquals("h" + i, find(cache, i).tags().get("host"), "round " + round + ", series " + i);
                }
            }
        }
        for (int round = 0; round < 3; round++) {
            for (int i : sameSet) {
                if (find(cache, i) == null) {
                    put(cache, i);
                } else {
                    assertTrue(round == 0 && i != sameSet.get(SeriesKeyCache.WAYS),
                            "nine series in turn through eight ways all miss, round " + round + ", series " + i);
                }
            }
        }
    }

    /** The comparison by words agrees with one byte at a time for every length and every place of a difference. */
    @Test
    void sameBytesAgreesWithAByteByByteComparison() {
        Random rnd = new Random(11);
        for (int n = 0; n <= 40; n++) {
            byte[] a = new byte[n + 13];
            rnd.nextBytes(a);
            int ai = rnd.nextInt(5);
            byte[] b = new byte[n + 9];
            int bi = rnd.nextInt(9);
            System.arraycopy(a, ai, b, bi, n);
            assertTrue(SeriesKeyCache.sameBytes(a, ai, b, bi, n), "length " + n);
            for (int at = 0; at < n; at++) {
                for (int bit = 0; bit < 8; bit++) {
                    b[bi + at] ^= (byte) (1 << bit);
                    assertFalse(SeriesKeyCache.sameBytes(a, ai, b, bi, n), "length " + n + ", byte " + at);
                    b[bi + at] ^= (byte) (1 << bit);
                }
            }
        }
    }

    /** Reading a slot ahead finds the slot a look-up would, reads its bytes and key, and counts no look-up. */
    @Test
    void touchingASlotFindsItsKeyAndChangesNothing() {
        SeriesKeyCache cache = new SeriesKeyCache(CAPACITY);
        SeriesKey k5 = put(cache, 5);
        byte[] w = wire(5);
        int h = SeriesKeyCache.hash(w, 0, 2, 2, w.length);
        int slot = cache.touchSlot(h, 0, 2, 2, w.length);
        assertTrue(slot >= 0);
        assertEquals(k5.hashCode(), cache.touchKey(slot));
        assertEquals('m' + 1, cache.touched(), "the slot's first byte and that it holds a key");
        byte[] other = wire(6);
        assertEquals(-1, cache.touchSlot(SeriesKeyCache.hash(other, 0, 2, 2, other.length), 0, 2, 2, other.length));
        assertEquals('m' + 1, cache.touched());
        for (int n = 0; n < SeriesKeyCache.PERIOD - 1; n++) {
            assertEquals(slot, cache.touchSlot(h, 0, 2, 2, w.length));
        }
        assertEquals(0, cache.hitCount() + cache.missCount(), "touching is not looking up: no period ended");
        assertSame(k5, find(cache, 5));
    }

    /**
     * At its bound, a cache whose look-ups hardly hit (here of series it was never given, as when the series rules
     * refuse them), too few to crowd it, goes sparse: it stores one miss in {@link SeriesKeyCache#SPARSE_FILL}.
     */
    @Test
    void atItsBoundACacheThatHardlyHitsStoresFewMisses() {
        SeriesKeyCache cache = new SeriesKeyCache(512);
        for (int n = 0; n < SeriesKeyCache.PERIOD; n++) {
            find(cache, n % 300);
        }
        assertFalse(cache.crowded());
        assertTrue(cache.sparse(), "a period without hits at the bound");
        int held = 0;
        for (int i = 0; i < 4 * SeriesKeyCache.SPARSE_FILL; i++) {
            SeriesKey key = put(cache, 2_000_000 + i);
            if (key.held()) {
                held++;
                assertSame(key, find(cache, 2_000_000 + i));
            } else {
                assertNull(find(cache, 2_000_000 + i), "a miss not stored is not marked");
            }
        }
        assertEquals(4, held, "one miss in " + SeriesKeyCache.SPARSE_FILL + " is stored while sparse");
        assertEquals(512, cache.capacity());
    }

    @Test
    void growingKeepsEveryKeyItHeld() {
        SeriesKeyCache cache = new SeriesKeyCache(256, 1 << 12);
        int series = 200;
        for (int i = 0; i < series; i++) {
            put(cache, i);
        }
        // A period of misses on other series (too few to crowd it) while at least half full makes it grow; the first
        // 200 must survive that.
        int held = 0;
        for (int i = 0; i < series; i++) {
            held += find(cache, i) == null ? 0 : 1;
        }
        for (int n = 0; n < SeriesKeyCache.PERIOD - series; n++) {
            find(cache, 1_000_000 + n % 1000);
        }
        assertEquals(512, cache.capacity());
        int after = 0;
        for (int i = 0; i < series; i++) {
            after += find(cache, i) == null ? 0 : 1;
        }
        assertEquals(held, after);
    }

    /** A series of {@code length} wire bytes: metric {@code "m<i>"}, then a tags object padded to that length. */
    private static byte[] sized(int i, int length) {
        String metric = "m" + i;
        String head = "{\"host\":\"";
        String pad = "x".repeat(length - metric.length() - head.length() - 2);
        return (metric + head + pad + "\"}").getBytes(StandardCharsets.US_ASCII);
    }

    private static SeriesKey findSized(SeriesKeyCache cache, byte[] w, int metricLength) {
        return cache.find(SeriesKeyCache.hash(w, 0, metricLength, metricLength, w.length), w, 0, metricLength,
                metricLength, w.length);
    }

    private static SeriesKey putSized(SeriesKeyCache cache, byte[] w, int metricLength) {
        SeriesKey key = SeriesKey.of(new String(w, 0, metricLength, StandardCharsets.US_ASCII),
                Map.of("host", new String(w, metricLength, w.length - metricLength, StandardCharsets.US_ASCII)));
        cache.put(SeriesKeyCache.hash(w, 0, metricLength, metricLength, w.length), w, 0, metricLength, metricLength,
                w.length, key);
        return key;
    }

    /**
     * Series that fit in a slot's stride of the arena and longer ones kept apart are found alike, by exactly their
     * bytes; one past the bound is not kept at all.
     */
    @Test
    void shortAndLongSeriesAreFoundByExactlyTheirBytes() {
        SeriesKeyCache cache = new SeriesKeyCache(CAPACITY);
        int[] lengths = {16, SeriesKeyCache.INLINE - 1, SeriesKeyCache.INLINE, SeriesKeyCache.INLINE + 1, 200,
                SeriesKeyCache.MAX_BYTES};
        for (int n = 0; n < lengths.length; n++) {
            byte[] w = sized(n, lengths[n]);
            SeriesKey key = putSized(cache, w, 2);
            assertSame(key, findSized(cache, w, 2), "length " + lengths[n]);
            byte[] changed = w.clone();
            changed[changed.length - 3]++;
            assertNull(findSized(cache, changed, 2), "last byte of the tags differs, length " + lengths[n]);
            // The same bytes split elsewhere between metric and tags are another series.
            assertNull(findSized(cache, w, 3), "metric split, length " + lengths[n]);
        }
        for (int n = 0; n < lengths.length; n++) {
            assertEquals("m" + n, findSized(cache, sized(n, lengths[n]), 2).metric(), "still held, length " + lengths[n]);
        }
        byte[] tooLong = sized(99, SeriesKeyCache.MAX_BYTES + 1);
        putSized(cache, tooLong, 3);
        assertNull(findSized(cache, tooLong, 3));
    }

    /** A slot taken over by a series of the other kind (short after long, long after short) holds only the new one. */
    @Test
    void aSlotReusedByTheOtherKindOfSeriesHoldsOnlyTheNewOne() {
        SeriesKeyCache cache = new SeriesKeyCache(SeriesKeyCache.WAYS);
        List<byte[]> series = new ArrayList<>();
        for (int i = 0; i < 3 * SeriesKeyCache.WAYS; i++) {
            byte[] w = sized(i, i % 2 == 0 ? 20 : 150);
            series.add(w);
            SeriesKey key = putSized(cache, w, ("m" + i).length());
            assertSame(key, findSized(cache, w, ("m" + i).length()), "series " + i);
        }
        // One set of eight ways, filled in turn: the last eight stay, the others are gone.
        for (int i = 0; i < series.size(); i++) {
            SeriesKey found = findSized(cache, series.get(i), ("m" + i).length());
            if (i < series.size() - SeriesKeyCache.WAYS) {
                assertNull(found, "series " + i);
            } else {
                assertEquals("m" + i, found.metric(), "series " + i);
            }
        }
    }

    @Test
    void growingKeepsShortAndLongSeries() {
        SeriesKeyCache cache = new SeriesKeyCache(256, 1 << 12);
        int series = 200;
        List<SeriesKey> keys = new ArrayList<>();
        for (int i = 0; i < series; i++) {
            keys.add(putSized(cache, sized(i, 20 + i % 3 * 90), 1 + Integer.toString(i).length()));
        }
        List<SeriesKey> before = new ArrayList<>();
        for (int i = 0; i < series; i++) {
            before.add(findSized(cache, sized(i, 20 + i % 3 * 90), 1 + Integer.toString(i).length()));
        }
        for (int n = 0; n < SeriesKeyCache.PERIOD - series; n++) {
            find(cache, 1_000_000 + n % 1000);
        }
        assertEquals(512, cache.capacity());
        int held = 0;
        for (int i = 0; i < series; i++) {
            SeriesKey after = findSized(cache, sized(i, 20 + i % 3 * 90), 1 + Integer.toString(i).length());
            assertSame(before.get(i), after, "series " + i);
            if (after != null) {
                assertSame(keys.get(i), after);
                held++;
            }
        }
        assertTrue(held > series / 2, "held: " + held);
    }

    /** The hash reads whole words where it can; it must still depend on the series' bytes alone, not their neighbours. */
    @Test
    void theHashDependsOnlyOnTheSeriesBytes() {
        Random rnd = new Random(3);
        for (int t = 0; t < 2_000; t++) {
            byte[] metric = new byte[1 + rnd.nextInt(30)];
            byte[] tags = new byte[rnd.nextInt(60)];
            rnd.nextBytes(metric);
            rnd.nextBytes(tags);
            int expected = -1;
            for (int placement = 0; placement < 4; placement++) {
                int before = placement == 0 ? 0 : rnd.nextInt(20);
                int between = rnd.nextInt(5);
                int after = placement == 1 ? 0 : rnd.nextInt(20);
                byte[] data = new byte[before + metric.length + between + tags.length + after];
                rnd.nextBytes(data);
                System.arraycopy(metric, 0, data, before, metric.length);
                int tf = before + metric.length + between;
                System.arraycopy(tags, 0, data, tf, tags.length);
                int h = SeriesKeyCache.hash(data, before, before + metric.length, tf, tf + tags.length);
                if (placement == 0) {
                    expected = h;
                } else {
                    assertEquals(expected, h, "try " + t + ", placement " + placement);
                }
            }
        }
    }

    /**
     * The benchmark's series (app.metricNNN, host web-N, region eu or us) spread over the sets as evenly as random
     * hashes would: a set takes at most eight ways, so a crowded set means misses.
     */
    @Test
    void theBenchmarksSeriesSpreadOverTheSetsLikeRandomHashes() {
        assertSpread(100, 1000, 1 << 18);
        assertSpread(100, 10, 2048);
        assertSpread(100, 10, 4096);
    }

    private static void assertSpread(int metrics, int hosts, int capacity) {
        int sets = capacity / SeriesKeyCache.WAYS;
        int[] load = new int[sets];
        for (int h = 1; h <= hosts; h++) {
            for (int m = 0; m < metrics; m++) {
                byte[] metric = String.format("app.metric%03d", m).getBytes(StandardCharsets.US_ASCII);
                byte[] tags = ("{\"host\":\"web-" + h + "\",\"region\":\"" + (h % 2 == 1 ? "eu" : "us") + "\"}")
                        .getBytes(StandardCharsets.US_ASCII);
                byte[] w = new byte[metric.length + tags.length];
                System.arraycopy(metric, 0, w, 0, metric.length);
                System.arraycopy(tags, 0, w, metric.length, tags.length);
                load[SeriesKeyCache.hash(w, 0, metric.length, metric.length, w.length) & (sets - 1)]++;
            }
        }
        double lambda = (double) metrics * hosts / sets;
        // Under random hashing a set's load is Poisson(lambda): the sets expected to hold more than eight series.
        double p = Math.exp(-lambda);
        double atMostWays = 0;
        for (int k = 0; k <= SeriesKeyCache.WAYS; k++) {
            atMostWays += p;
            p = p * lambda / (k + 1);
        }
        double expectedCrowded = sets * (1 - atMostWays);
        int crowded = 0;
        int max = 0;
        for (int l : load) {
            crowded += l > SeriesKeyCache.WAYS ? 1 : 0;
            max = Math.max(max, l);
        }
        String what = metrics * hosts + " series in " + sets + " sets: ";
        assertTrue(crowded <= expectedCrowded * 1.3 + 3, what + crowded + " sets over eight, random hashing gives "
                + Math.round(expectedCrowded));
        // With 32 768 sets of 3 series on average, random hashing gives a set of 16 or more once in 200 tables.
        assertTrue(max <= 15, what + "a set of " + max);
    }

    @Test
    void refusesCapacitiesThatAreNotPowersOfTwoInOrder() {
        assertEquals("initialCapacity: 100 (expected: a power of two, at least 8)",
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

    private static int probe(SeriesKeyCache cache, int i) {
        byte[] w = wire(i);
        int m = metricLength(i);
        return cache.probe(SeriesKeyCache.hash(w, 0, m, m, w.length), w, 0, m, m, w.length);
    }

    /** As {@link #find}, through {@link SeriesKeyCache#findProbed} with the slot and stamp given. */
    private static SeriesKey findProbed(SeriesKeyCache cache, int i, int slot, int stamp) {
        byte[] w = wire(i);
        int m = metricLength(i);
        return cache.findProbed(slot, stamp, SeriesKeyCache.hash(w, 0, m, m, w.length), w, 0, m, m, w.length);
    }

    @Test
    void aProbeFindsExactlyTheSameBytesAndCountsNothing() {
        SeriesKeyCache cache = new SeriesKeyCache(64, 1024);
        SeriesKey k7 = put(cache, 7);
        int slot = probe(cache, 7);
        assertTrue(slot >= 0);
        assertEquals(-1, probe(cache, 8));
        byte[] w = wire(7);
        byte[] other = w.clone();
        other[w.length - 3]++;
        assertEquals(-1, cache.probe(SeriesKeyCache.hash(other, 0, 2, 2, other.length), other, 0, 2, 2, other.length));
        // The same bytes split elsewhere between metric and tags are another series.
        assertEquals(-1, cache.probe(SeriesKeyCache.hash(w, 0, 3, 3, w.length), w, 0, 3, 3, w.length));
        assertSame(k7, findProbed(cache, 7, slot, cache.stamp()));
        for (int n = 0; n < SeriesKeyCache.PERIOD - 2; n++) {
            probe(cache, n % 100);
        }
        assertEquals(0, cache.hitCount() + cache.missCount(), "probing is not looking up: no period ended");
    }

    @Test
    void aProbedSlotIsTakenOnlyWhileNoSlotChanged() {
        // One set of eight ways: the ninth series replaces the first.
        SeriesKeyCache cache = new SeriesKeyCache(SeriesKeyCache.WAYS);
        for (int i = 0; i < SeriesKeyCache.WAYS; i++) {
            put(cache, i);
        }
        int slot = probe(cache, 0);
        int stamp = cache.stamp();
        SeriesKey k1 = find(cache, 1);
        assertEquals(stamp, cache.stamp(), "a look-up changes no slot");
        SeriesKey k9 = put(cache, 9);
        assertTrue(stamp != cache.stamp());
        assertEquals(slot, probe(cache, 9), "the ninth series took the first one's way");
        assertNull(findProbed(cache, 0, slot, stamp), "the slot's old series is gone: looked up again, not taken");
        assertSame(k9, findProbed(cache, 9, slot, stamp), "a stale stamp looks up by the bytes");
        assertSame(k1, findProbed(cache, 1, probe(cache, 1), cache.stamp()));
    }

    @Test
    void findingAProbedSlotCountsAndGrowsAsFindingDoes() {
        SeriesKeyCache plain = new SeriesKeyCache(64, 1 << 12);
        SeriesKeyCache probed = new SeriesKeyCache(64, 1 << 12);
        Random rnd = new Random(0x9b0be);
        for (int n = 0; n < 3 * SeriesKeyCache.PERIOD; n++) {
            int i = rnd.nextInt(n < SeriesKeyCache.PERIOD ? 3000 : 40);
            SeriesKey a = find(plain, i);
            int slot = probe(probed, i);
            SeriesKey b = slot >= 0 ? findProbed(probed, i, slot, probed.stamp()) : find(probed, i);
            assertEquals(a == null, b == null, "look-up " + n);
            if (a == null) {
                put(plain, i);
                put(probed, i);
            }
        }
        assertEquals(plain.hitCount(), probed.hitCount());
        assertEquals(plain.missCount(), probed.missCount());
        assertEquals(plain.capacity(), probed.capacity());
        assertTrue(probed.capacity() > 64, "the cache grew");
    }

    @Test
    void remembersTheMostTagsOfAStoredSeries() {
        SeriesKeyCache cache = new SeriesKeyCache(64);
        assertEquals(0, cache.mostTags());
        byte[] w = wire(1);
        SeriesKey key = SeriesKey.of("m1", Map.of("host", "h1"));
        cache.put(SeriesKeyCache.hash(w, 0, 2, 2, w.length), w, 0, 2, 2, w.length, key, 3);
        cache.put(SeriesKeyCache.hash(w, 0, 2, 2, w.length), w, 0, 2, 2, w.length, key, 1);
        assertEquals(3, cache.mostTags());
        put(cache, 2);
        assertEquals(Integer.MAX_VALUE, cache.mostTags(), "a series stored without its count could have any");
    }

    /**
     * A slot holds exactly the bytes stored in it, with their hash; the follower noted for a slot is what it gives
     * back, and a growth, which moves every series, forgets every follower. Neither changes the counters.
     */
    @Test
    void aSlotHoldsItsOwnBytesOnlyAndFollowersAreHintsForgottenOnGrowth() {
        SeriesKeyCache cache = new SeriesKeyCache(64, 128);
        put(cache, 1);
        put(cache, 2);
        byte[] one = wire(1);
        byte[] two = wire(2);
        int h1 = SeriesKeyCache.hash(one, 0, 2, 2, one.length);
        int h2 = SeriesKeyCache.hash(two, 0, 2, 2, two.length);
        int s1 = cache.probe(h1, one, 0, 2, 2, one.length);
        int s2 = cache.probe(h2, two, 0, 2, 2, two.length);
        assertTrue(s1 >= 0 && s2 >= 0 && s1 != s2);
        assertTrue(cache.holds(s1, one, 0, 2, 2, one.length));
        assertEquals(h1, cache.hashAt(s1));
        assertFalse(cache.holds(s2, one, 0, 2, 2, one.length), "another series' slot");
        assertFalse(cache.holds(s1, one, 0, 1, 1, one.length), "the same bytes, split otherwise");
        assertFalse(cache.holds(s1, one, 0, 2, 2, one.length - 1), "fewer bytes");
        byte[] off = one.clone();
        off[off.length - 3] ^= 1;
        assertFalse(cache.holds(s1, off, 0, 2, 2, off.length), "a byte away");
        int empty = 0;
        while (empty == s1 || empty == s2) {
            empty++;
        }
        assertFalse(cache.holds(empty, new byte[0], 0, 0, 0, 0), "an empty slot holds no series, not even none");
        assertEquals(-1, cache.follower(s1));
        cache.follow(s1, s2);
        assertEquals(s2, cache.follower(s1));
        assertEquals(-1, cache.follower(s2));
        assertEquals(-1, cache.follower(1 << 20), "a slot past the table has none");
        assertEquals(0, cache.hitCount() + cache.missCount());
        for (int i = 0; i < SeriesKeyCache.PERIOD; i++) {
            find(cache, 100 + i % 60);
            if (i < 60) {
                put(cache, 100 + i);
            }
        }
        assertEquals(128, cache.capacity(), "grown");
        for (int slot = 0; slot < cache.capacity(); slot++) {
            assertEquals(-1, cache.follower(slot));
        }
        SeriesKeyCache large = new SeriesKeyCache(SeriesKeyCache.TOUCH_FROM);
        large.follow(0, 5);
        assertEquals(-1, large.follower(0), "a table read ahead keeps no followers");
    }
}
