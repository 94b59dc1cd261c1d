package dev.meterline.store;

import java.nio.charset.StandardCharsets;
import java.sql.SQLException;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * The texts, ids and ranks of the series numbered in one generation of {@link SeriesTexts} (from when the table
 * started afresh), in columns indexed by the series' number rather than in an object per series: a million series
 * are a few arrays and slabs of tag text, which G1 neither copies one series at a time nor, once an array is large,
 * at all. A series' metric and tag text never change once added; its id, stored epoch and ranks do, so every access
 * holds this object's lock, and a write reads what it needs in one call ({@link WindowTexts}). A generation the table
 * has left stays valid for the writes that hold it, as their own.
 */
final class SeriesColumns {

    /**
     * Bytes of an array's header (with compressed class pointers), which the sizes of slabs and columns leave room for
     * so that an array fills whole G1 regions: G1 gives an array of half a region or more regions of its own, and
     * the rest of its last region stays empty.
     */
    private static final int ARRAY_HEADER = 16;

    /** Bytes of the first slab of tag texts; each next one about twice the size, up to {@link #SLAB_BYTES}. */
    static final int FIRST_SLAB_BYTES = (4 << 10) - ARRAY_HEADER;

    /**
     * Bytes of a full-grown slab of tag texts: one array holds the texts of about a hundred thousand series, and G1
     * allocates an array this large (with regions of up to 4 MiB, heaps below 16 GiB) in regions of its own outside
     * the young generation, so it is never copied.
     */
    static final int SLAB_BYTES = (4 << 20) - ARRAY_HEADER;

    /** Entries of the first columns; each growth doubles the bytes of an {@code int} column with its header. */
    private static final int FIRST_CAPACITY = (1 << 10) - ARRAY_HEADER / Integer.BYTES;

    private int size;
    /** Per series: its metric's index in {@link #metricNames}. */
    private int[] metric = new int[FIRST_CAPACITY];
    /** Per series: its tag text's slab (high 32 bits) and offset in it (low 32 bits). */
    private long[] tagsAt = new long[FIRST_CAPACITY];
    private int[] tagsLength = new int[FIRST_CAPACITY];
    /**
     * Per series: the series epoch in which a committed write found or put it in {@code meterline_series}, so that
     * its {@link #id} is its id there while the epoch lasts; {@link Long#MIN_VALUE} before.
     */
    private long[] storedEpoch = filled(new long[FIRST_CAPACITY], 0);
    /**
     * Per series: its id in {@code meterline_series}, set by a write that stores it before it writes the rows carrying
     * it, and to be trusted outside that write only when its stored epoch is current.
     */
    private long[] id = new long[FIRST_CAPACITY];
    /** Per series: the ranking its ranks belong to, 0 for none. */
    private int[] ranking = new int[FIRST_CAPACITY];
    /** Per series: its place in {@link #compare}'s order among the series of its ranking. */
    private int[] rank = new int[FIRST_CAPACITY];
    /** Per series: its metric's place among the metrics of its ranking. */
    private int[] metricRank = new int[FIRST_CAPACITY];
    private int rankings;

    private final Map<String, Integer> metricIndex = new HashMap<>();
    private String[] metricNames = new String[16];
    private byte[][] slabs = new byte[4][];
    private int slabCount;
    private int slabUsed;

    private static long[] filled(long[] a, int from) {
        Arrays.fill(a, from, a.length, Long.MIN_VALUE);
        return a;
    }

    /** Adds a series, its tag text the first {@code length} bytes of {@code tags} (UTF-8), and returns its number. */
    synchronized int add(String metric, byte[] tags, int length) {
        if (size == this.metric.length) {
            grow();
        }
        Integer m = metricIndex.get(metric);
        if (m == null) {
            m = metricIndex.size();
            metricIndex.put(metric, m);
            if (m == metricNames.length) {
                metricNames = Arrays.copyOf(metricNames, 2 * m);
            }
            metricNames[m] = metric;
        }
        byte[] slab = slabCount == 0 ? null : slabs[slabCount - 1];
        if (slab == null || slab.length - slabUsed < length) {
            int bytes = slab == null ? FIRST_SLAB_BYTES
                    : Math.min(SLAB_BYTES, 2 * (slab.length + ARRAY_HEADER) - ARRAY_HEADER);
            slab = new byte[Math.max(bytes, length)];
            if (slabCount == slabs.length) {
                slabs = Arrays.copyOf(slabs, 2 * slabCount);
            }
            slabs[slabCount++] = slab;
            slabUsed = 0;
        }
        System.arraycopy(tags, 0, slab, slabUsed, length);
        int n = size++;
        this.metric[n] = m;
        tagsAt[n] = (long) (slabCount - 1) << 32 | slabUsed;
        tagsLength[n] = length;
        slabUsed += length;
        return n;
    }

    private void grow() {
        int capacity = 2 * (metric.length + ARRAY_HEADER / Integer.BYTES) - ARRAY_HEADER / Integer.BYTES;
        metric = Arrays.copyOf(metric, capacity);
        tagsAt = Arrays.copyOf(tagsAt, capacity);
        tagsLength = Arrays.copyOf(tagsLength, capacity);
        storedEpoch = filled(Arrays.copyOf(storedEpoch, capacity), size);
        id = Arrays.copyOf(id, capacity);
        ranking = Arrays.copyOf(ranking, capacity);
        rank = Arrays.copyOf(rank, capacity);
        metricRank = Arrays.copyOf(metricRank, capacity);
    }

    /** Series numbered. */
    synchronized int size() {
        return size;
    }

    /** The metric names by index, as far as the series numbered so far need them. */
    synchronized String[] metricNames() {
        return metricNames;
    }

    /** Fills {@code metricOut[i]} with the metric index of series {@code numbers[i]}. */
    synchronized void metrics(int[] numbers, int[] metricOut) {
        for (int i = 0; i < numbers.length; i++) {
            metricOut[i] = metric[numbers[i]];
        }
    }

    synchronized String metric(int n) {
        return metricNames[metric[n]];
    }

    /** The tag text of series {@code n}, decoded, for a driver that takes a string. */
    synchronized String tags(int n) {
        return new String(slabs[(int) (tagsAt[n] >>> 32)], (int) tagsAt[n], tagsLength[n], StandardCharsets.UTF_8);
    }

    /** Writes the tag text of series {@code n} to {@code rows} as its UTF-8 bytes. */
    synchronized void tagsTo(int n, CopyRows rows) throws SQLException {
        rows.bytes(slabs[(int) (tagsAt[n] >>> 32)], (int) tagsAt[n], tagsLength[n]);
    }

    synchronized long id(int n) {
        return id[n];
    }

    /** Fills {@code idOut[i]} with the id of series {@code numbers[i]}. */
    synchronized void ids(int[] numbers, long[] idOut) {
        for (int i = 0; i < numbers.length; i++) {
            idOut[i] = id[numbers[i]];
        }
    }

    /** Sets the ids of series {@code numbers[i]} to {@code ids[i]}. */
    synchronized void ids(int[] numbers, long[] ids, int count) {
        for (int i = 0; i < count; i++) {
            id[numbers[i]] = ids[i];
        }
    }

    synchronized long storedEpoch(int n) {
        return storedEpoch[n];
    }

    /** Fills {@code epochOut[i]} with the stored epoch of series {@code numbers[i]}. */
    synchronized void storedEpochs(int[] numbers, long[] epochOut) {
        for (int i = 0; i < numbers.length; i++) {
            epochOut[i] = storedEpoch[numbers[i]];
        }
    }

    /** Whether every series of {@code numbers} was stored in some epoch. */
    synchronized boolean storedEver(int[] numbers) {
        for (int n : numbers) {
            if (storedEpoch[n] == Long.MIN_VALUE) {
                return false;
            }
        }
        return true;
    }

    /** Records that a committed write found or put the series {@code numbers} in series epoch {@code epoch}. */
    synchronized void stored(int[] numbers, int count, long epoch) {
        for (int i = 0; i < count; i++) {
            storedEpoch[numbers[i]] = epoch;
        }
    }

    /**
     * The order of series: metric, then tag text by its UTF-8 bytes (unsigned), which is the order of the text's code
     * points; 0 exactly when the texts are equal.
     */
    synchronized int compare(int a, int b) {
        if (a == b) {
            return 0;
        }
        int c = metric[a] == metric[b] ? 0 : metricNames[metric[a]].compareTo(metricNames[metric[b]]);
        if (c != 0) {
            return c;
        }
        int atA = (int) tagsAt[a];
        int atB = (int) tagsAt[b];
        return Arrays.compareUnsigned(slabs[(int) (tagsAt[a] >>> 32)], atA, atA + tagsLength[a],
                slabs[(int) (tagsAt[b] >>> 32)], atB, atB + tagsLength[b]);
    }

    /**
     * Fills {@code rankOut[i]} and {@code metricRankOut[i]} with the place of series {@code numbers[i]} in
     * {@link #compare}'s order and of its metric among the metrics, consistent across the whole array. Ranks are kept
     * and reused by the next call whose series all hold ranks of the same ranking, so the common flush (the series of
     * the flush before) compares no texts; a call that brings a series without one ranks its series afresh with one
     * sort.
     */
    synchronized void rank(int[] numbers, int[] rankOut, int[] metricRankOut) {
        boolean current = rankings > 0;
        for (int n : numbers) {
            if (ranking[n] != rankings) {
                current = false;
                break;
            }
        }
        if (!current) {
            rankings++;
            int[] distinct = new int[numbers.length];
            int count = 0;
            for (int n : numbers) {
                if (ranking[n] != rankings) {
                    ranking[n] = rankings;
                    distinct[count++] = n;
                }
            }
            distinct = sorted(Arrays.copyOf(distinct, count));
            int m = -1;
            int metricOf = -1;
            for (int i = 0; i < distinct.length; i++) {
                int n = distinct[i];
                if (metric[n] != metricOf) {
                    metricOf = metric[n];
                    m++;
                }
                rank[n] = i;
                metricRank[n] = m;
            }
        }
        for (int i = 0; i < numbers.length; i++) {
            rankOut[i] = rank[numbers[i]];
            metricRankOut[i] = metricRank[numbers[i]];
        }
    }

    /**
     * {@code numbers} sorted in {@link #compare}'s order, stably, mostly without comparing texts: each series becomes
     * one {@code long} of its metric's place among the metrics, the first bytes of its tags after the prefix that
     * all share (each byte plus one, 0 past the end, so a shorter text goes first) and its index; the {@code long}s
     * are sorted, and only series whose {@code long}s agree but for the index are compared, among themselves.
     */
    synchronized int[] sorted(int[] numbers) {
        int n = numbers.length;
        if (n < 2) {
            return numbers;
        }
        Map<Integer, Integer> metricPlace = new HashMap<>();
        for (int s : numbers) {
            metricPlace.putIfAbsent(metric[s], 0);
        }
        Integer[] metricsIn = metricPlace.keySet().toArray(new Integer[0]);
        Arrays.sort(metricsIn, (x, y) -> metricNames[x].compareTo(metricNames[y]));
        for (int i = 0; i < metricsIn.length; i++) {
            metricPlace.put(metricsIn[i], i);
        }
        int first = numbers[0];
        int common = tagsLength[first];
        for (int s : numbers) {
            int max = Math.min(common, tagsLength[s]);
            int c = Arrays.mismatch(slabs[(int) (tagsAt[s] >>> 32)], (int) tagsAt[s], (int) tagsAt[s] + max,
                    slabs[(int) (tagsAt[first] >>> 32)], (int) tagsAt[first], (int) tagsAt[first] + max);
            common = c < 0 ? max : c;
        }
        int maxByte = 0;
        for (int s : numbers) {
            for (int c = common; c < Math.min(tagsLength[s], common + 8); c++) {
                maxByte = Math.max(maxByte, tagsByte(s, c));
            }
        }
        int indexBits = bits(n - 1);
        int metricBits = bits(metricsIn.length - 1);
        int byteBits = bits(maxByte + 1);
        int bytes = Math.min(8, (63 - indexBits - metricBits) / byteBits);
        if (bytes < 1) {
            return sortedByComparing(numbers, 0, n);
        }
        int prefixBits = bytes * byteBits;
        long[] keys = new long[n];
        for (int i = 0; i < n; i++) {
            int s = numbers[i];
            long prefix = 0;
            for (int c = common; c < common + bytes; c++) {
                prefix = (prefix << byteBits) | (tagsByte(s, c) + 1);
            }
            long key = ((long) metricPlace.get(metric[s]) << prefixBits) | prefix;
            keys[i] = (key << indexBits) | i;
        }
        Arrays.sort(keys);
        long indexMask = (1L << indexBits) - 1;
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            out[i] = numbers[(int) (keys[i] & indexMask)];
        }
        // Series alike in their metric and first bytes, in index order so far: compared among themselves.
        int from = 0;
        while (from < n) {
            int to = from + 1;
            while (to < n && keys[to] >>> indexBits == keys[from] >>> indexBits) {
                to++;
            }
            if (to - from > 1) {
                int[] run = sortedByComparing(out, from, to);
                System.arraycopy(run, 0, out, from, to - from);
            }
            from = to;
        }
        return out;
    }

    /** {@code numbers[from..to)} sorted with {@link #compare}, stably. */
    private int[] sortedByComparing(int[] numbers, int from, int to) {
        Integer[] boxed = new Integer[to - from];
        for (int i = from; i < to; i++) {
            boxed[i - from] = numbers[i];
        }
        Arrays.sort(boxed, this::compare);
        int[] out = new int[boxed.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = boxed[i];
        }
        return out;
    }

    /** The tag text's byte at {@code i} of series {@code s}, 0 to 255, or -1 past its end. */
    private int tagsByte(int s, int i) {
        return i < tagsLength[s] ? slabs[(int) (tagsAt[s] >>> 32)][(int) tagsAt[s] + i] & 0xff : -1;
    }

    private static int bits(long max) {
        return 64 - Long.numberOfLeadingZeros(max);
    }
}
