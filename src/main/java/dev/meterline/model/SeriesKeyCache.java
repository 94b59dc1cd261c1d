package dev.meterline.model;

import java.util.Arrays;

/**
 * A small direct-mapped cache from a series as it appeared on the wire (the metric, and the bytes of its tags object)
 * to its key, so that a client sending a series again gets the same key instance back: the key is not rebuilt, and
 * the shard finds its state by identity instead of comparing every tag. A miss only costs a rebuild.
 *
 * <p>Not thread-safe: one per decoding thread. Bounded: {@code capacity} slots, tags of at most {@link #MAX_BYTES}.
 */
public final class SeriesKeyCache {

    /** Tags objects longer than this are not cached, which bounds the cache's memory. */
    public static final int MAX_BYTES = 192;

    private final int mask;
    private final SeriesKey[] keys;
    private final byte[][] tags;
    private final int[] hashes;

    public SeriesKeyCache(int capacity) {
        if (Integer.bitCount(capacity) != 1) {
            throw new IllegalArgumentException("capacity: " + capacity + " (expected: a power of two)");
        }
        this.mask = capacity - 1;
        this.keys = new SeriesKey[capacity];
        this.tags = new byte[capacity][];
        this.hashes = new int[capacity];
    }

    /** The key cached for {@code metric} with the tags object {@code data[from, to)}, or null. */
    public SeriesKey find(String metric, byte[] data, int from, int to) {
        int h = hash(metric, data, from, to);
        int i = h & mask;
        SeriesKey k = keys[i];
        if (k != null && hashes[i] == h && k.metric().equals(metric)
                && Arrays.equals(tags[i], 0, tags[i].length, data, from, to)) {
            return k;
        }
        return null;
    }

    /** Remembers {@code key} for {@code metric} with the tags object {@code data[from, to)}. */
    public void put(String metric, byte[] data, int from, int to, SeriesKey key) {
        if (to - from > MAX_BYTES) {
            return;
        }
        int h = hash(metric, data, from, to);
        int i = h & mask;
        keys[i] = key;
        tags[i] = Arrays.copyOfRange(data, from, to);
        hashes[i] = h;
    }

    private static int hash(String metric, byte[] data, int from, int to) {
        int h = metric.hashCode();
        for (int i = from; i < to; i++) {
            h = 31 * h + data[i];
        }
        return h ^ (h >>> 15);
    }
}
