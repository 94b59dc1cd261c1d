package dev.meterline.ingest;

import dev.meterline.model.SeriesKey;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Turns a series as it appeared on the wire (the bytes of its metric name and of its tags object) back into the key
 * built the last time those bytes came, so that a client sending a series again costs neither strings nor a key.
 * Names (metrics, tag keys) are interned the same way, so keys built on a miss share them. A miss only costs a
 * rebuild.
 *
 * <p>Sized to the series it sees: it starts at {@code initialCapacity} and, at the end of a period of
 * {@link #PERIOD} look-ups, doubles (rehashing what it holds) while it is at least half full and missed more than one
 * look-up in {@link #GROW_MISSES}, up to {@code maxCapacity}: at half full, about one series in eight shares its
 * set with four others, and a client cycling through its series misses all of those each pass. At that bound, when
 * it hardly ever hits (a client with more series than the cache holds, each sent once per pass), it stops storing
 * most misses, which would cost a copy each for nothing, and stores one in {@link #SPARSE_FILL}: enough to notice
 * when the series start repeating.
 *
 * <p>Four-way set associative, each set's ways replaced in turn: series whose hashes share a set all stay while they
 * are at most four, which a direct-mapped or two-way table does not give a client cycling through its series (with
 * three in a set, every lookup there would miss). Doubling splits each set in two, so every entry still fits. Not
 * thread-safe: one per decoding thread; only the counters read by {@link #hitCount()} and its siblings may be read
 * from other threads, and they lag by at most a period. Bounded: {@code maxCapacity} keys of at most
 * {@link #MAX_BYTES} wire bytes each, and {@link #NAMES} names of at most {@link #MAX_NAME_BYTES}.
 */
public final class SeriesKeyCache {

    /** A series whose metric and tags take more bytes than this is not cached, which bounds the cache's memory. */
    public static final int MAX_BYTES = 256;
    /** The capacity a growing cache starts at. */
    public static final int INITIAL_CAPACITY = 1024;
    static final int NAMES = 1024;
    static final int MAX_NAME_BYTES = 64;

    private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

    static final int WAYS = 4;
    /** Look-ups per judgement of the hit rate. */
    static final int PERIOD = 1 << 16;
    /** Over one miss in this many look-ups, a cache at least half full grows (below its bound). */
    static final int GROW_MISSES = 8;
    /** Under one hit in this many look-ups, a period counts as sparse. */
    static final int SPARSE_HITS = 8;
    /** While sparse, one miss in this many is stored. */
    static final int SPARSE_FILL = 16;

    private final int maxCapacity;
    private int setMask;
    private SeriesKey[] keys;
    /** Per slot: the metric's bytes followed by the tags object's bytes. */
    private byte[][] wire;
    private int[] metricLengths;
    private int[] hashes;
    /** Per set: the way to fill next. */
    private byte[] next;
    /** Slots in use. */
    private int size;

    private int lookups;
    private int hits;
    private boolean sparse;
    private int skipped;

    /** Totals of the periods ended so far and the state at the last period's end, for meters on other threads. */
    private volatile long hitTotal;
    private volatile long missTotal;
    private volatile int publishedSize;
    private volatile int publishedCapacity;

    private final String[] names = new String[NAMES];
    private final byte[][] nameBytes = new byte[NAMES][];

    /** A cache of a fixed {@code capacity}. */
    public SeriesKeyCache(int capacity) {
        this(capacity, capacity);
    }

    /** A cache that starts at {@code initialCapacity} and grows up to {@code maxCapacity}; both powers of two. */
    public SeriesKeyCache(int initialCapacity, int maxCapacity) {
        if (Integer.bitCount(initialCapacity) != 1 || initialCapacity < WAYS) {
            throw new IllegalArgumentException("initialCapacity: " + initialCapacity
                    + " (expected: a power of two, at least " + WAYS + ")");
        }
        if (Integer.bitCount(maxCapacity) != 1 || maxCapacity < initialCapacity) {
            throw new IllegalArgumentException("maxCapacity: " + maxCapacity
                    + " (expected: a power of two, at least initialCapacity " + initialCapacity + ")");
        }
        this.maxCapacity = maxCapacity;
        allocate(initialCapacity);
        this.publishedCapacity = initialCapacity;
    }

    private void allocate(int capacity) {
        this.setMask = capacity / WAYS - 1;
        this.keys = new SeriesKey[capacity];
        this.wire = new byte[capacity][];
        this.metricLengths = new int[capacity];
        this.hashes = new int[capacity];
        this.next = new byte[capacity / WAYS];
        this.size = 0;
    }

    /** The hash {@link #find} and {@link #put} take for the metric {@code data[mf, mt)}, tags {@code data[tf, tt)}. */
    public static int hash(byte[] data, int mf, int mt, int tf, int tt) {
        long h = mix(0x6d6c, data, mf, mt);
        h = mix(h * 31 + (mt - mf), data, tf, tt);
        return (int) (h ^ (h >>> 32));
    }

    /** The key cached for the metric {@code data[mf, mt)} with the tags {@code data[tf, tt)}, or null. */
    public SeriesKey find(int hash, byte[] data, int mf, int mt, int tf, int tt) {
        if (++lookups == PERIOD) {
            endPeriod();
        }
        int first = (hash & setMask) * WAYS;
        for (int slot = first; slot < first + WAYS; slot++) {
            if (hashes[slot] == hash && matches(slot, data, mf, mt, tf, tt)) {
                hits++;
                return keys[slot];
            }
        }
        return null;
    }

    /** Judges the period that just ended: grow, go sparse, or neither; and publishes the counters. */
    private void endPeriod() {
        int misses = PERIOD - hits;
        hitTotal += hits;
        missTotal += misses;
        int capacity = keys.length;
        if (capacity < maxCapacity && misses > PERIOD / GROW_MISSES && size >= capacity / 2) {
            grow();
            sparse = false;
        } else {
            sparse = capacity == maxCapacity && hits < PERIOD / SPARSE_HITS;
        }
        lookups = 0;
        hits = 0;
        publishedSize = size;
        publishedCapacity = keys.length;
    }

    /** Doubles the table; each set's entries split between its two successors, so none is lost. */
    private void grow() {
        SeriesKey[] oldKeys = keys;
        byte[][] oldWire = wire;
        int[] oldLengths = metricLengths;
        int[] oldHashes = hashes;
        allocate(oldKeys.length * 2);
        for (int slot = 0; slot < oldKeys.length; slot++) {
            if (oldWire[slot] != null) {
                store(oldHashes[slot], oldWire[slot], oldLengths[slot], oldKeys[slot]);
            }
        }
    }

    /** Remembers {@code key} for the metric {@code data[mf, mt)} with the tags {@code data[tf, tt)}. */
    public void put(int hash, byte[] data, int mf, int mt, int tf, int tt, SeriesKey key) {
        int metricLength = mt - mf;
        int length = metricLength + tt - tf;
        if (length > MAX_BYTES || (sparse && ++skipped % SPARSE_FILL != 0)) {
            return;
        }
        byte[] bytes = new byte[length];
        System.arraycopy(data, mf, bytes, 0, metricLength);
        System.arraycopy(data, tf, bytes, metricLength, tt - tf);
        store(hash, bytes, metricLength, key);
    }

    private void store(int hash, byte[] bytes, int metricLength, SeriesKey key) {
        int set = hash & setMask;
        int way = next[set];
        next[set] = (byte) ((way + 1) % WAYS);
        int slot = set * WAYS + way;
        if (wire[slot] == null) {
            size++;
        }
        keys[slot] = key;
        wire[slot] = bytes;
        metricLengths[slot] = metricLength;
        hashes[slot] = hash;
    }

    /**
     * The string of the ASCII name {@code data[from, to)}, the same instance each time it is asked for while it
     * stays in the table: metric names and tag keys repeat across series, so keys share them.
     */
    public String name(byte[] data, int from, int to) {
        int len = to - from;
        if (len > MAX_NAME_BYTES) {
            return new String(data, from, len, StandardCharsets.ISO_8859_1);
        }
        long h = mix(len, data, from, to);
        int i = (int) (h ^ (h >>> 29)) & (NAMES - 1);
        byte[] known = nameBytes[i];
        if (known != null && Arrays.equals(known, 0, known.length, data, from, to)) {
            return names[i];
        }
        String s = new String(data, from, len, StandardCharsets.ISO_8859_1);
        nameBytes[i] = Arrays.copyOfRange(data, from, to);
        names[i] = s;
        return s;
    }

    /** True while the last period's look-ups hit too rarely to store every miss. */
    boolean sparse() {
        return sparse;
    }

    /** Slots the table has now; the owning thread only. */
    int capacity() {
        return keys.length;
    }

    /** Look-ups that found a key, over the periods ended so far. */
    long hitCount() {
        return hitTotal;
    }

    /** Look-ups that found none, over the periods ended so far. */
    long missCount() {
        return missTotal;
    }

    /** Keys held at the last period's end. */
    int publishedSize() {
        return publishedSize;
    }

    /** Slots at the last period's end. */
    int publishedCapacity() {
        return publishedCapacity;
    }

    private boolean matches(int slot, byte[] data, int mf, int mt, int tf, int tt) {
        byte[] w = wire[slot];
        if (w == null) {
            return false;
        }
        int ml = metricLengths[slot];
        return ml == mt - mf && w.length == ml + tt - tf
                && Arrays.equals(w, 0, ml, data, mf, mt)
                && Arrays.equals(w, ml, w.length, data, tf, tt);
    }

    /** Folds {@code data[from, to)} into {@code h}, eight bytes at a time. */
    private static long mix(long h, byte[] data, int from, int to) {
        int i = from;
        for (; i + 8 <= to; i += 8) {
            h = Long.rotateLeft((h ^ (long) LONGS.get(data, i)) * 0x9E3779B97F4A7C15L, 29);
        }
        long tail = 0;
        for (int shift = 0; i < to; i++, shift += 8) {
            tail |= (data[i] & 0xFFL) << shift;
        }
        h = (h ^ tail ^ (to - from)) * 0xC2B2AE3D27D4EB4FL;
        return h ^ (h >>> 31);
    }
}
