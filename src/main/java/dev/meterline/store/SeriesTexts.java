package dev.meterline.store;

import dev.meterline.model.SeriesKey;
import dev.meterline.model.SeriesNumbers;
import dev.meterline.model.Window;
import dev.meterline.model.WindowList;

import java.util.Arrays;
import java.util.List;

/**
 * The stored texts of the series a store writes (metric and tag JSON), kept per series so that a flush encodes a
 * series' tags once in its life rather than on every flush, and whether the series is known to be in
 * {@code meterline_series}. Found by the key's identity first ({@link SeriesNumbers}): each event loop hands out its
 * own instance of a series' key, and a look-up by content would compare the key's bytes for every window. What is
 * kept of a series lies in columns at its number ({@link SeriesColumns}), not in an object of its own, so that the
 * texts of a million new series are not a million objects that G1 copies out of the young generation; a write refers
 * to its windows' series by number ({@link WindowTexts}).
 *
 * <p>The table keeps the first instance of each series' key ({@link #INSTANCES_PER_SERIES}); another instance of
 * the series is found by comparing content. The table holds the texts of at most {@code maxSeries} series, the
 * server's series budget, so that a server whose every series stays finds them all on every flush: once full (series
 * that came and went fill it too), a series not in it gets a text that is not kept (numbered past {@code maxSeries}
 * in the same columns), and the next write starts the table afresh, in new columns: a write that holds the columns
 * left keeps using them as its own. It is a cache: a series met again after that is encoded again and its
 * idempotent insert into {@code meterline_series} repeated.
 */
final class SeriesTexts {

    /**
     * Key instances kept per series: one. A second would be found by reference, but with many series the shards'
     * instances change (a series comes back with the instance of its latest point, which the event loops' key caches
     * mostly no longer hold), so a kept second instance soon is one that nothing else holds: with two, a million
     * series whose instances changed held 469 bytes each here rather than 308.
     */
    static final int INSTANCES_PER_SERIES = 1;

    /** The series held, numbered, each by the first instance of its key that came. */
    private final SeriesNumbers numbers;
    private final int maxSeries;
    /** True when a write met a series the full table could not keep: the next write starts the table afresh. */
    private boolean overflowed;
    /** Times a write found the table full and started it afresh. */
    private long fullResets;
    /**
     * The texts, ids and ranks of the series numbered, and past {@code maxSeries} those of series met while the table
     * was full, which the next write drops with the rest when it starts the table afresh.
     */
    private SeriesColumns columns = new SeriesColumns();
    private final TagsJson.Encoder encoder = new TagsJson.Encoder();
    /**
     * Whether the series not known to be stored are taken to be new to {@code meterline_series}, so that PostgreSQL
     * inserts them without looking them up first: set by the store when it opens on a table without series and after
     * a write found none of its unknown series there; cleared after a write met one there, and whenever the table
     * starts afresh, since the series it forgot are mostly stored still.
     */
    private boolean unknownNew;

    /** A table keeping the texts of at most {@code maxSeries} series. */
    SeriesTexts(int maxSeries) {
        if (maxSeries < 1) {
            throw new IllegalArgumentException("maxSeries: " + maxSeries + " (expected: > 0)");
        }
        this.maxSeries = maxSeries;
        this.numbers = new SeriesNumbers((int) Math.min(Integer.MAX_VALUE, (long) INSTANCES_PER_SERIES * maxSeries),
                INSTANCES_PER_SERIES);
    }

    /**
     * The texts of each window's series, in the order of {@code windows}. In passes over the windows: their keys and
     * hashes, then the keys' numbers, then the texts of series not numbered yet, so that the cache misses of one pass
     * (a window and its key, a slot of the table) do not wait on one another as they would one window at a time.
     */
    synchronized WindowTexts of(List<Window> windows) {
        if (overflowed) {
            fullResets++;
            clear();
        }
        int n = windows.size();
        SeriesKey[] keys = new SeriesKey[n];
        int[] found = new int[n];
        for (int i = 0; i < n; i++) {
            SeriesKey key = WindowList.series(windows, i);
            keys[i] = key;
            found[i] = key.hashCode();
        }
        SeriesKey last = null;
        int lastNumber = -1;
        for (int i = 0; i < n; i++) {
            SeriesKey key = keys[i];
            if (key != last) {
                last = key;
                lastNumber = numbers.find(key, found[i]);
            }
            found[i] = lastNumber;
        }
        for (int i = 0; i < n; i++) {
            if (found[i] < 0) {
                // A series not numbered in the pass before is numbered now, its first time in the write.
                found[i] = i > 0 && keys[i] == keys[i - 1] ? found[i - 1] : find(keys[i]);
            }
        }
        return new WindowTexts(columns, found);
    }

    /**
     * The series of {@code texts} not known to be stored in series epoch {@code epoch}, each once, in the stored order
     * ({@code rank[i]} the rank of window i's series, from one ranking), so that replicas adding the same new series
     * take row locks in one order and cannot deadlock.
     */
    static NewSeries unstored(WindowTexts texts, int[] rank, long epoch) {
        int n = texts.size();
        long[] stored = texts.storedEpochs();
        long[] byRank = new long[n];
        int count = 0;
        for (int i = 0; i < n; i++) {
            if (stored[i] != epoch) {
                byRank[count++] = (long) rank[i] << 32 | i;
            }
        }
        if (count == 0) {
            return NewSeries.NONE;
        }
        // Sorted by rank and then index, as much room as the write's new series take: a part of a flush holds ranks
        // from anywhere in the flush's ranking.
        Arrays.sort(byRank, 0, count);
        int[] out = new int[count];
        int k = 0;
        long previous = -1;
        for (int r = 0; r < count; r++) {
            if (byRank[r] >>> 32 != previous) {
                previous = byRank[r] >>> 32;
                out[k++] = texts.number((int) byRank[r]);
            }
        }
        return new NewSeries(texts.columns(), Arrays.copyOf(out, k));
    }

    /** Forgets every series: none is known to be stored any more. */
    synchronized void clear() {
        numbers.clear();
        columns = new SeriesColumns();
        overflowed = false;
        unknownNew = false;
    }

    /** Whether the series not known to be stored are taken to be new to {@code meterline_series}. */
    synchronized boolean unknownNew() {
        return unknownNew;
    }

    synchronized void unknownNew(boolean unknownNew) {
        this.unknownNew = unknownNew;
    }

    /** Key instances held. */
    synchronized int instances() {
        return numbers.instances();
    }

    /** Series whose texts are kept. */
    synchronized int series() {
        return numbers.size();
    }

    /** Times a write found the table full and started it afresh. */
    synchronized long fullResets() {
        return fullResets;
    }

    private int find(SeriesKey key) {
        int n = numbers.find(key);
        if (n >= 0) {
            return n;
        }
        int kept = numbers.size() < maxSeries ? numbers.add(key) : -1;
        int length = encoder.encode(key);
        int number = columns.add(key.metric(), encoder.bytes(), length);
        if (kept < 0) {
            overflowed = true;
        } else if (kept != number) {
            throw new IllegalStateException("series number " + kept + " has column " + number);
        }
        return number;
    }
}
