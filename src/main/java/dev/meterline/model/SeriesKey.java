package dev.meterline.model;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

import static java.util.Objects.requireNonNull;

/**
 * Identity of a series: a metric name plus its tag set, with tags kept sorted by key so that tag order never matters.
 * An immutable value: stages that remember something about a series keep it themselves, keyed by the key. Beside the
 * value, an instance carries one hint that equality ignores: whether a decoder's key cache holds it ({@link #held}).
 */
public final class SeriesKey implements Comparable<SeriesKey> {

    private static final String[] NO_TAGS = new String[0];

    private final String metric;
    /** Alternating key, value; sorted by key; keys unique. */
    private final String[] tags;
    private final int hash;
    /**
     * The metric and the sorted tags in one array, each string as its length and then its characters (one byte for
     * ASCII, three for any other), a code that tells any two different keys apart. Equality compares this one array
     * instead of a string per tag: with many series, every string is a cache miss in a shard's map look-up.
     */
    private final byte[] content;
    /**
     * Set once a decoder's key cache holds this instance to hand it out for the series' next lines; never cleared.
     * An instance without it was built for one line and dies young unless something long-lived takes it, so a
     * shard keeps such an instance only for a series new to it. Fits in the bytes the object's alignment leaves.
     */
    private boolean held;

    private SeriesKey(String metric, String[] sortedTags) {
        this.metric = metric;
        this.tags = sortedTags;
        this.content = encode(metric, sortedTags);
        this.hash = hash(content);
    }

    private static byte[] encode(String metric, String[] tags) {
        int size = encodedSize(metric);
        for (String t : tags) {
            size += encodedSize(t);
        }
        byte[] out = new byte[size];
        int at = put(out, 0, metric);
        for (String t : tags) {
            at = put(out, at, t);
        }
        return out;
    }

    private static int encodedSize(String s) {
        int n = 1;
        for (int len = s.length(); len >= 0x80; len >>>= 7) {
            n++;
        }
        for (int i = 0, len = s.length(); i < len; i++) {
            n += s.charAt(i) < 0x80 ? 1 : 3;
        }
        return n;
    }

    /** Writes {@code s} at {@code at}: its length in 7-bit groups (high bit: more follow), then its characters. */
    private static int put(byte[] out, int at, String s) {
        int len = s.length();
        while (len >= 0x80) {
            out[at++] = (byte) (0x80 | (len & 0x7F));
            len >>>= 7;
        }
        out[at++] = (byte) len;
        for (int i = 0, n = s.length(); i < n; i++) {
            char c = s.charAt(i);
            if (c < 0x80) {
                out[at++] = (byte) c;
            } else {
                // A first byte with its high bit set marks the three-byte form; the code stays prefix-free.
                out[at++] = (byte) (0x80 | (c >>> 14));
                out[at++] = (byte) ((c >>> 7) & 0x7F);
                out[at++] = (byte) (c & 0x7F);
            }
        }
        return at;
    }

    private static int hash(byte[] content) {
        int h = 1;
        for (byte b : content) {
            h = 31 * h + b;
        }
        // Murmur3's finalizer: keys that differ in a digit near the end differ in every bit, low bits included.
        h ^= h >>> 16;
        h *= 0x85ebca6b;
        h ^= h >>> 13;
        h *= 0xc2b2ae35;
        return h ^ (h >>> 16);
    }

    /**
     * Builds a key from tags given as alternating key, value pairs in any order. The array is sorted in place and
     * kept; callers hand over ownership. Duplicate keys are the caller's to reject before calling.
     */
    public static SeriesKey ofPairs(String metric, String[] pairs, int pairCount) {
        requireNonNull(metric, "metric");
        if (pairCount == 0) {
            return new SeriesKey(metric, NO_TAGS);
        }
        String[] sorted = pairs.length == pairCount * 2 ? pairs : Arrays.copyOf(pairs, pairCount * 2);
        sortPairs(sorted);
        return new SeriesKey(metric, sorted);
    }

    public static SeriesKey of(String metric, Map<String, String> tags) {
        String[] pairs = new String[tags.size() * 2];
        int i = 0;
        for (Map.Entry<String, String> e : tags.entrySet()) {
            pairs[i++] = e.getKey();
            pairs[i++] = e.getValue();
        }
        return ofPairs(metric, pairs, tags.size());
    }

    /** Insertion sort by key: tag sets are small, and this allocates nothing. */
    private static void sortPairs(String[] a) {
        for (int i = 2; i < a.length; i += 2) {
            String k = a[i];
            String v = a[i + 1];
            int j = i - 2;
            while (j >= 0 && a[j].compareTo(k) > 0) {
                a[j + 2] = a[j];
                a[j + 3] = a[j + 1];
                j -= 2;
            }
            a[j + 2] = k;
            a[j + 3] = v;
        }
    }

    /** Returns a key with the given tags added; a tag already present in this key keeps its value. */
    public SeriesKey withDefaults(String[] extraPairs) {
        if (extraPairs.length == 0) {
            return this;
        }
        String[] merged = Arrays.copyOf(tags, tags.length + extraPairs.length);
        int n = tags.length;
        for (int i = 0; i < extraPairs.length; i += 2) {
            if (tag(extraPairs[i]) == null) {
                merged[n++] = extraPairs[i];
                merged[n++] = extraPairs[i + 1];
            }
        }
        if (n == tags.length) {
            return this;
        }
        return ofPairs(metric, merged, n / 2);
    }

    public String metric() {
        return metric;
    }

    /**
     * Marks this instance as one a key cache holds and hands out again. Called by the cache's own thread before the
     * instance goes to any other thread.
     */
    public void markHeld() {
        held = true;
    }

    /** True once a key cache holds this instance ({@link #markHeld}). */
    public boolean held() {
        return held;
    }

    public int tagCount() {
        return tags.length / 2;
    }

    public String tagKey(int i) {
        return tags[2 * i];
    }

    public String tagValue(int i) {
        return tags[2 * i + 1];
    }

    /** The value of tag {@code key}, or null when the series has no such tag. */
    public String tag(String key) {
        for (int i = 0; i < tags.length; i += 2) {
            if (tags[i].equals(key)) {
                return tags[i + 1];
            }
        }
        return null;
    }

    /** Tags in key order. */
    public Map<String, String> tags() {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < tags.length; i += 2) {
            m.put(tags[i], tags[i + 1]);
        }
        return m;
    }

    /** The length of the encoded content: the metric and the sorted tags, each as its length then its characters. */
    public int contentLength() {
        return content.length;
    }

    /**
     * Copies the encoded content to {@code dst} at {@code at}. For strings of ASCII characters shorter than 128, each
     * string's bytes are its length byte and then its characters, as in UTF-8; any other character or length sets
     * the high bit of a byte.
     */
    public void copyContent(byte[] dst, int at) {
        System.arraycopy(content, 0, dst, at, content.length);
    }

    /** Which of {@code shards} shards owns this series; stable for the life of the process. */
    public int shard(int shards) {
        return shard(hash, shards);
    }

    /** The shard, of {@code shards}, of the series whose {@link #hashCode()} is {@code hash}. */
    public static int shard(int hash, int shards) {
        // From the high bits of a multiplicative hash: a shard's maps index by the low bits, which must not all
        // be alike within one shard.
        return (int) (((hash * 0x9E3779B1L) & 0xFFFFFFFFL) * shards >>> 32);
    }

    @Override
    public boolean equals(Object o) {
        if (this == o) {
            return true;
        }
        if (!(o instanceof SeriesKey other)) {
            return false;
        }
        return hash == other.hash && Arrays.equals(content, other.content);
    }

    @Override
    public int hashCode() {
        return hash;
    }

    @Override
    public int compareTo(SeriesKey o) {
        int c = metric.compareTo(o.metric);
        if (c != 0) {
            return c;
        }
        return Arrays.compare(tags, o.tags);
    }

    @Override
    public String toString() {
        return metric + tags();
    }
}
