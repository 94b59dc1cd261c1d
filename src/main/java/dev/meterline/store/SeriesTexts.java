package dev.meterline.store;

import dev.meterline.model.SeriesKey;
import dev.meterline.model.SeriesNumbers;
import dev.meterline.model.Window;
import dev.meterline.model.WindowList;

import java.nio.charset.StandardCharsets;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The stored texts of the series a store writes (metric and tag JSON), kept per series so that a flush encodes a
 * series' tags once in its life rather than on every flush, and whether the series is known to be in
 * {@code meterline_series}. Found by the key's identity first ({@link SeriesNumbers}): each event loop hands out its
 * own instance of a series' key, and a look-up by content would compare the key's bytes for every window.
 *
 * <p>The table keeps the first instance of each series' key ({@link #INSTANCES_PER_SERIES}); another instance of
 * the series is found by comparing content. The table holds the texts of at most {@code maxSeries} series, the
 * server's series budget, so that a server whose every series stays finds them all on every flush: once full (series
 * that came and went fill it too), a series not in it gets a text that is not kept, and the next write starts the
 * table afresh. It is a cache: a series met again after that is encoded again and its idempotent insert into
 * {@code meterline_series} repeated.
 */
final class SeriesTexts {

    /**
     * Key instances kept per series: one. A second would be found by reference, but with many series the shards'
     * instances change (a series comes back with the instance of its latest point, which the event loops' key caches
     * mostly no longer hold), so a kept second instance soon is one that nothing else holds: with two, a million
     * series whose instances changed held 469 bytes each here rather than 308.
     */
    static final int INSTANCES_PER_SERIES = 1;

    /**
     * Bytes of the first slab of tag texts; each next one twice the size of the one before, up to {@link #SLAB_BYTES}.
     */
    static final int FIRST_SLAB_BYTES = 4 << 10;

    /**
     * Bytes of a full-grown slab of tag texts: one array holds the texts of thousands of series, and an array this
     * large is allocated by G1 (regions of up to 2 MiB, heaps below 4 GiB) directly in the old generation, so that
     * the texts of a million new series are neither a million objects nor copied out of the young generation.
     */
    static final int SLAB_BYTES = 1 << 20;

    /**
     * The stored order of series: metric, then tag text by its UTF-8 bytes (unsigned), which is the order of the
     * text's code points; equal exactly when the texts are. Compared by reference first: a series' windows share one
     * {@link Text}, and its metric is one instance per name.
     */
    static final Comparator<Text> ORDER = (a, b) -> {
        if (a == b) {
            return 0;
        }
        int c = a.metric == b.metric ? 0 : a.metric.compareTo(b.metric);
        return c != 0 ? c : Arrays.compareUnsigned(a.slab, a.at, a.at + a.length, b.slab, b.at, b.at + b.length);
    };

    /**
     * What is kept of one series: its metric (one instance per metric name), tag text and id. The tag text is UTF-8
     * bytes in a slab shared with the texts of other series, so that a kept series is this one object.
     */
    static final class Text {
        final String metric;
        /** The slab holding the tag text, from {@link #at}, {@link #length} bytes. */
        private final byte[] slab;
        private final int at;
        private final int length;
        /**
         * The series epoch in which a committed write found or put the series in {@code meterline_series}, so that
         * {@link #id} is its id there while the epoch lasts; {@link Long#MIN_VALUE} before.
         */
        volatile long storedEpoch = Long.MIN_VALUE;
        /**
         * The series' id in {@code meterline_series}: set by a write that stores the series, before it writes the
         * rows carrying it, and to be trusted outside that write only when {@link #storedEpoch} is current.
         */
        volatile long id;
        /** The ranking these ranks belong to; read and written under the owning table's lock. */
        private int ranking = -1;
        /** The series' place in {@link #ORDER} among the texts of its ranking. */
        private int rank;
        /** Its metric's place among the metrics of its ranking. */
        private int metricRank;

        Text(String metric, byte[] slab, int at, int length) {
            this.metric = metric;
            this.slab = slab;
            this.at = at;
            this.length = length;
        }

        /** A text in an array of its own. */
        static Text of(String metric, String tags) {
            byte[] utf8 = tags.getBytes(StandardCharsets.UTF_8);
            return new Text(metric, utf8, 0, utf8.length);
        }

        /** The tag text, decoded, for a driver that takes a string. */
        String tags() {
            return new String(slab, at, length, StandardCharsets.UTF_8);
        }

        /** Writes the tag text's UTF-8 bytes to {@code rows}. */
        void tagsTo(CopyRows rows) throws SQLException {
            rows.bytes(slab, at, length);
        }

        /** The tag text's byte at {@code i}, 0 to 255, or -1 past its end. */
        private int tagsByte(int i) {
            return i < length ? slab[at + i] & 0xff : -1;
        }
    }

    /** The series held, numbered, each by the first instance of its key that came. */
    private final SeriesNumbers numbers;
    private final int maxSeries;
    /** True when a write met a series the full table could not keep: the next write starts the table afresh. */
    private boolean overflowed;
    /** Times a write found the table full and started it afresh. */
    private long fullResets;
    /** Per series number, its text. */
    private Text[] texts = new Text[1 << 10];
    private final Map<String, String> metrics = new HashMap<>();
    private final TagsJson.Encoder encoder = new TagsJson.Encoder();
    /** The slab new tag texts go in, and the bytes of it taken. */
    private byte[] slab;
    private int slabUsed;
    private int ranking;
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
     * hashes, then the keys' numbers, then the texts, so that the cache misses of one pass (a window and its key, a
     * slot of the table, a text) do not wait on one another as they would one window at a time.
     */
    synchronized Text[] of(List<Window> windows) {
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
        Text[] out = new Text[n];
        for (int i = 0; i < n; i++) {
            int number = found[i];
            // A series not numbered in the pass before is numbered now, its first time in the write.
            out[i] = number >= 0 ? texts[number] : i > 0 && keys[i] == keys[i - 1] ? out[i - 1] : find(keys[i]);
        }
        return out;
    }

    /**
     * Fills {@code rank[i]} and {@code metricRank[i]} with the place of {@code texts[i]} in {@link #ORDER} and of its
     * metric among the metrics, consistent across the whole array. Ranks are kept with the texts and reused by the
     * next write whose texts all hold ranks of the same ranking, so the common flush (the series of the flush
     * before) compares no strings; a write that brings a text without one ranks its texts afresh with one sort.
     */
    synchronized void rank(Text[] texts, int[] rank, int[] metricRank) {
        boolean current = true;
        for (Text t : texts) {
            if (t.ranking != ranking) {
                current = false;
                break;
            }
        }
        if (!current) {
            ranking++;
            Text[] distinct = new Text[texts.length];
            int count = 0;
            for (Text t : texts) {
                if (t.ranking != ranking) {
                    t.ranking = ranking;
                    distinct[count++] = t;
                }
            }
            distinct = sorted(Arrays.copyOf(distinct, count));
            int m = -1;
            String metric = null;
            for (int i = 0; i < distinct.length; i++) {
                Text t = distinct[i];
                if (metric == null || (t.metric != metric && !t.metric.equals(metric))) {
                    metric = t.metric;
                    m++;
                }
                t.rank = i;
                t.metricRank = m;
            }
        }
        for (int i = 0; i < texts.length; i++) {
            rank[i] = texts[i].rank;
            metricRank[i] = texts[i].metricRank;
        }
    }

    /**
     * {@code texts} sorted in {@link #ORDER}, stably, mostly without comparing texts: each text becomes one
     * {@code long} of its metric's place among the metrics, the first bytes of its tags after the prefix that all
     * share (each byte plus one, 0 past the end, so a shorter text goes first as {@link #ORDER} has it) and its
     * index; the {@code long}s are sorted, and only texts whose {@code long}s agree but for the index
     * are compared, among themselves.
     */
    static Text[] sorted(Text[] texts) {
        int n = texts.length;
        if (n < 2) {
            return texts;
        }
        Map<String, Integer> metricPlace = new HashMap<>();
        for (Text t : texts) {
            metricPlace.putIfAbsent(t.metric, 0);
        }
        String[] metricNames = metricPlace.keySet().toArray(new String[0]);
        Arrays.sort(metricNames);
        for (int i = 0; i < metricNames.length; i++) {
            metricPlace.put(metricNames[i], i);
        }
        Text first = texts[0];
        int common = first.length;
        for (Text t : texts) {
            int max = Math.min(common, t.length);
            int c = Arrays.mismatch(t.slab, t.at, t.at + max, first.slab, first.at, first.at + max);
            common = c < 0 ? max : c;
        }
        int maxChar = 0;
        for (Text t : texts) {
            for (int c = common; c < Math.min(t.length, common + 8); c++) {
                maxChar = Math.max(maxChar, t.tagsByte(c));
            }
        }
        int indexBits = bits(n - 1);
        int metricBits = bits(metricNames.length - 1);
        int charBits = bits(maxChar + 1);
        int chars = Math.min(8, (63 - indexBits - metricBits) / charBits);
        if (chars < 1) {
            Text[] out = texts.clone();
            Arrays.sort(out, ORDER);
            return out;
        }
        int prefixBits = chars * charBits;
        long[] keys = new long[n];
        for (int i = 0; i < n; i++) {
            Text text = texts[i];
            long prefix = 0;
            for (int c = common; c < common + chars; c++) {
                prefix = (prefix << charBits) | (text.tagsByte(c) + 1);
            }
            long key = ((long) metricPlace.get(texts[i].metric) << prefixBits) | prefix;
            keys[i] = (key << indexBits) | i;
        }
        Arrays.sort(keys);
        long indexMask = (1L << indexBits) - 1;
        Text[] out = new Text[n];
        for (int i = 0; i < n; i++) {
            out[i] = texts[(int) (keys[i] & indexMask)];
        }
        // Texts alike in their metric and first bytes, in index order so far: compared among themselves.
        int from = 0;
        while (from < n) {
            int to = from + 1;
            while (to < n && keys[to] >>> indexBits == keys[from] >>> indexBits) {
                to++;
            }
            if (to - from > 1) {
                Arrays.sort(out, from, to, ORDER);
            }
            from = to;
        }
        return out;
    }

    private static int bits(long max) {
        return 64 - Long.numberOfLeadingZeros(max);
    }

    /**
     * The series of {@code texts} not known to be stored in series epoch {@code epoch}, each once, in the stored order
     * ({@code rank[i]} the rank of {@code texts[i]}, from one {@link #rank} call), so that replicas adding the same
     * new series take row locks in one order and cannot deadlock; a series' key instances share one text and so one
     * rank.
     */
    static List<Text> unstored(Text[] texts, int[] rank, long epoch) {
        int count = 0;
        for (Text t : texts) {
            if (t.storedEpoch != epoch) {
                count++;
            }
        }
        if (count == 0) {
            return List.of();
        }
        // Sorted by rank and then index, as much room as the write's new series take: a part of a flush holds ranks
        // from anywhere in the flush's ranking.
        long[] byRank = new long[count];
        int k = 0;
        for (int i = 0; i < texts.length; i++) {
            if (texts[i].storedEpoch != epoch) {
                byRank[k++] = (long) rank[i] << 32 | i;
            }
        }
        Arrays.sort(byRank);
        List<Text> out = new ArrayList<>(count);
        long previous = -1;
        for (long r : byRank) {
            if (r >>> 32 != previous) {
                previous = r >>> 32;
                out.add(texts[(int) r]);
            }
        }
        return out;
    }

    /** Forgets every series: none is known to be stored any more. */
    synchronized void clear() {
        Arrays.fill(texts, 0, numbers.size(), null);
        numbers.clear();
        slab = null;
        slabUsed = 0;
        metrics.clear();
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

    private Text find(SeriesKey key) {
        int n = numbers.find(key);
        if (n >= 0) {
            return texts[n];
        }
        int length = encoder.encode(key);
        if (slab == null || slab.length - slabUsed < length) {
            int size = slab == null ? FIRST_SLAB_BYTES : Math.min(SLAB_BYTES, 2 * slab.length);
            slab = new byte[Math.max(size, length)];
            slabUsed = 0;
        }
        System.arraycopy(encoder.bytes(), 0, slab, slabUsed, length);
        Text text = new Text(metrics.computeIfAbsent(key.metric(), m -> m), slab, slabUsed, length);
        slabUsed += length;
        n = numbers.size() < maxSeries ? numbers.add(key) : -1;
        if (n >= 0) {
            if (n == texts.length) {
                texts = Arrays.copyOf(texts, 2 * n);
            }
            texts[n] = text;
        } else {
            overflowed = true;
        }
        return text;
    }
}
