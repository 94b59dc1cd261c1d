package dev.meterline.model;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;

import static java.util.Objects.requireNonNull;

/**
 * Identity of a series: a metric name plus its tag set, with tags kept sorted by key so that tag order never matters.
 * An immutable value: stages that remember something about a series keep it themselves, keyed by the key. Beside the
 * value, an instance carries one hint that equality ignores: whether a decoder's key cache holds it ({@link #held}).
 *
 * <p>The tags are kept only in the encoded content, one array per series; their strings are decoded from it when
 * asked, and {@link #tag}, {@link #hasTag}, {@link #compareTo} and the length checks read it without decoding.
 */
public final class SeriesKey implements Comparable<SeriesKey> {

    /** What {@link #tagHash} gives for a tag the series does not have. */
    public static final long NO_TAG = Long.MIN_VALUE;

    private static final String[] NO_TAGS = new String[0];
    /** Most tags a key holds: its count is kept in a char. */
    public static final int MAX_TAGS = Character.MAX_VALUE;

    private final String metric;
    /**
     * The metric and the sorted tags (key, value, key, value...; keys unique) in one array, each string as its
     * length and then its characters (one byte for ASCII, three for any other), a code that tells any two different
     * keys apart. Equality compares this one array instead of a string per tag: with many series, every string is a
     * cache miss in a shard's map look-up.
     */
    private final byte[] content;
    private final int hash;
    /** Where the first tag key starts in {@link #content}: just past the metric. */
    private final int tagsAt;
    private final char tagCount;
    /**
     * True when no byte of {@link #content} has its high bit set: every string is ASCII and shorter than 128
     * characters, so each is one length byte and then one byte per character.
     */
    private final boolean plain;
    /**
     * Set once a decoder's key cache holds this instance to hand it out for the series' next lines; never cleared.
     * An instance without it was built for one line and dies young unless something long-lived takes it, so a
     * shard keeps such an instance only for a series new to it. With the fields above it fills the object's 32 bytes.
     */
    private boolean held;

    private SeriesKey(String metric, byte[] content, int tagCount) {
        if (tagCount > MAX_TAGS) {
            throw new IllegalArgumentException("tags: " + tagCount + " (expected: <= " + MAX_TAGS + ")");
        }
        this.metric = metric;
        this.content = content;
        this.tagCount = (char) tagCount;
        int h = 1;
        int any = 0;
        int n = content.length;
        int i = 0;
        // 31 * h + b for each byte, four at a time with the powers of 31 spelled out: the same value (int arithmetic
        // wraps alike in any order), without each byte waiting on the one before.
        for (; i + 4 <= n; i += 4) {
            byte b0 = content[i];
            byte b1 = content[i + 1];
            byte b2 = content[i + 2];
            byte b3 = content[i + 3];
            h = 923_521 * h + 29_791 * b0 + 961 * b1 + 31 * b2 + b3;
            any |= b0 | b1 | b2 | b3;
        }
        for (; i < n; i++) {
            h = 31 * h + content[i];
            any |= content[i];
        }
        // Murmur3's finalizer: keys that differ in a digit near the end differ in every bit, low bits included.
        h ^= h >>> 16;
        h *= 0x85ebca6b;
        h ^= h >>> 13;
        h *= 0xc2b2ae35;
        this.hash = h ^ (h >>> 16);
        this.plain = any >= 0;
        this.tagsAt = plain ? 1 + content[0] : skip(content, 0);
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

    /**
     * Builds a key from tags given as alternating key, value pairs in any order. The array is sorted in place;
     * callers hand over ownership. Duplicate keys are the caller's to reject before calling.
     */
    public static SeriesKey ofPairs(String metric, String[] pairs, int pairCount) {
        requireNonNull(metric, "metric");
        if (pairCount == 0) {
            return new SeriesKey(metric, encode(metric, NO_TAGS), 0);
        }
        String[] sorted = pairs.length == pairCount * 2 ? pairs : Arrays.copyOf(pairs, pairCount * 2);
        sortPairs(sorted);
        return new SeriesKey(metric, encode(metric, sorted), pairCount);
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

    /**
     * Builds a key from its encoded content, as {@link #copyContent} gives it: {@code metric}'s encoding and then
     * {@code tagCount} tags' keys and values, sorted by key with keys unique. The caller vouches for the encoding
     * and hands the array over; for ASCII strings shorter than 128 characters, each string is its length byte and
     * then its bytes, and for ASCII, ordering by unsigned bytes is {@link String#compareTo}'s order.
     */
    public static SeriesKey ofContent(String metric, byte[] content, int tagCount) {
        return new SeriesKey(requireNonNull(metric, "metric"), requireNonNull(content, "content"), tagCount);
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
        int added = 0;
        for (int i = 0; i < extraPairs.length; i += 2) {
            if (!hasTag(extraPairs[i])) {
                added++;
            }
        }
        if (added == 0) {
            return this;
        }
        String[] merged = new String[2 * (tagCount + added)];
        int n = 0;
        for (int at = tagsAt, i = 0; i < tagCount; i++) {
            merged[n++] = decode(at);
            at = skip(content, at);
            merged[n++] = decode(at);
            at = skip(content, at);
        }
        for (int i = 0; i < extraPairs.length; i += 2) {
            if (!hasTag(extraPairs[i])) {
                merged[n++] = extraPairs[i];
                merged[n++] = extraPairs[i + 1];
            }
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
        return tagCount;
    }

    public String tagKey(int i) {
        return decode(stringAt(2 * i));
    }

    public String tagValue(int i) {
        return decode(stringAt(2 * i + 1));
    }

    /** The value of tag {@code key}, or null when the series has no such tag. */
    public String tag(String key) {
        int at = valueOf(key);
        return at < 0 ? null : decode(at);
    }

    /**
     * The {@link String#hashCode} of the value of tag {@code key}, read from the content without decoding it; {@link
     * #NO_TAG}, which no {@code int} equals, when the series has no such tag.
     */
    public long tagHash(String key) {
        int at = valueOf(key);
        if (at < 0) {
            return NO_TAG;
        }
        byte[] c = content;
        int len = charCount(c, at);
        at = afterCount(c, at);
        int h = 0;
        for (int i = 0; i < len; i++) {
            h = 31 * h + charAt(c, at);
            at += width(c, at);
        }
        return h;
    }

    /** True when the series has a tag {@code key}; reads the content without decoding it. */
    public boolean hasTag(String key) {
        return valueOf(key) >= 0;
    }

    /** True when the series' tag {@code key} has the value {@code value}; reads the content without decoding it. */
    public boolean hasTag(String key, String value) {
        int at = valueOf(key);
        return at >= 0 && compare(content, at, value) == 0;
    }

    /**
     * True when the series has a tag {@code key} whose value is one of {@code values}: what {@code tag(key)} and
     * {@code values.contains} answer together, read from the content without decoding it.
     */
    public boolean tagIn(String key, Collection<String> values) {
        int at = valueOf(key);
        if (at < 0) {
            return false;
        }
        for (String v : values) {
            if (v != null && compare(content, at, v) == 0) {
                return true;
            }
        }
        return false;
    }

    /**
     * {@link #tagIn(String, Collection)} over an array, which a caller testing every point reads without an
     * iterator.
     */
    public boolean tagIn(String key, String[] values) {
        int at = valueOf(key);
        if (at < 0) {
            return false;
        }
        for (String v : values) {
            if (v != null && compare(content, at, v) == 0) {
                return true;
            }
        }
        return false;
    }

    /** Tags in key order. */
    public Map<String, String> tags() {
        Map<String, String> m = new LinkedHashMap<>();
        for (int at = tagsAt, i = 0; i < tagCount; i++) {
            String k = decode(at);
            at = skip(content, at);
            m.put(k, decode(at));
            at = skip(content, at);
        }
        return m;
    }

    /**
     * The first of the tags' strings (key, value, key, value... in key order, from 0) whose length in UTF-8 bytes is
     * over its bound, {@code maxKeyBytes} for a key and {@code maxValueBytes} for a value, or is 0 for a key; -1
     * when none is. Reads the content without decoding it.
     */
    public int firstTagStringOutside(int maxKeyBytes, int maxValueBytes) {
        byte[] c = content;
        int at = tagsAt;
        for (int s = 0, n = 2 * tagCount; s < n; s++) {
            boolean key = (s & 1) == 0;
            int bytes;
            if (plain) {
                bytes = c[at];
                at += 1 + bytes;
            } else {
                bytes = utf8Length(c, at);
                at = skip(c, at);
            }
            if (key ? bytes == 0 || bytes > maxKeyBytes : bytes > maxValueBytes) {
                return s;
            }
        }
        return -1;
    }

    /** Where the tag value of key {@code key} starts in the content, or -1 when the series has no such tag. */
    private int valueOf(String key) {
        byte[] c = content;
        int at = tagsAt;
        if (plain) {
            int len = key.length();
            for (int i = 0; i < tagCount; i++) {
                int n = c[at];
                if (n == len && sameAscii(c, at + 1, key)) {
                    return at + 1 + n;
                }
                at += 1 + n;
                at += 1 + c[at];
            }
            return -1;
        }
        for (int i = 0; i < tagCount; i++) {
            if (compare(c, at, key) == 0) {
                return skip(c, at);
            }
            at = skip(c, skip(c, at));
        }
        return -1;
    }

    private static boolean sameAscii(byte[] c, int at, String s) {
        for (int i = 0, n = s.length(); i < n; i++) {
            if (c[at + i] != s.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    /** Where the {@code s}-th of the tags' strings (key, value, key, value...) starts in the content. */
    private int stringAt(int s) {
        if (s < 0 || s >= 2 * tagCount) {
            throw new IndexOutOfBoundsException("tag string " + s + " of " + 2 * tagCount);
        }
        int at = tagsAt;
        for (int i = 0; i < s; i++) {
            at = plain ? at + 1 + content[at] : skip(content, at);
        }
        return at;
    }

    /** The number of characters of the string encoded at {@code at}: its length prefix, 7 bits a byte. */
    private static int charCount(byte[] c, int at) {
        int len = 0;
        int shift = 0;
        byte b;
        while ((b = c[at++]) < 0) {
            len |= (b & 0x7F) << shift;
            shift += 7;
        }
        return len | b << shift;
    }

    /** Where the characters of the string encoded at {@code at} start: past its length prefix. */
    private static int afterCount(byte[] c, int at) {
        while (c[at++] < 0) {
            // a length byte with its high bit set: more follow
        }
        return at;
    }

    /** The character encoded at {@code at}: one byte for ASCII, else three whose first has its high bit set. */
    private static char charAt(byte[] c, int at) {
        byte b = c[at];
        return b >= 0 ? (char) b : (char) ((b & 0x03) << 14 | c[at + 1] << 7 | c[at + 2]);
    }

    /** How many bytes the character encoded at {@code at} takes. */
    private static int width(byte[] c, int at) {
        return c[at] >= 0 ? 1 : 3;
    }

    /** The string encoded at {@code at}. */
    private String decode(int at) {
        byte[] c = content;
        int len = charCount(c, at);
        at = afterCount(c, at);
        if (plain) {
            return new String(c, at, len, StandardCharsets.ISO_8859_1);
        }
        char[] chars = new char[len];
        for (int i = 0; i < len; i++) {
            chars[i] = charAt(c, at);
            at += width(c, at);
        }
        return new String(chars);
    }

    /** Where the string after the one encoded at {@code at} starts. */
    private static int skip(byte[] c, int at) {
        int len = charCount(c, at);
        at = afterCount(c, at);
        for (int i = 0; i < len; i++) {
            at += width(c, at);
        }
        return at;
    }

    /** The length in UTF-8 bytes of the string encoded at {@code at} (a lone surrogate counts three). */
    private static int utf8Length(byte[] c, int at) {
        int len = charCount(c, at);
        at = afterCount(c, at);
        byte b;
        int n = 0;
        boolean high = false;
        for (int i = 0; i < len; i++) {
            b = c[at];
            if (b >= 0) {
                n++;
                at++;
                high = false;
                continue;
            }
            char ch = charAt(c, at);
            at += 3;
            if (ch < 0x800) {
                n += 2;
                high = false;
            } else if (high && Character.isLowSurrogate(ch)) {
                // With its high half, counted 3 already: a pair is 4 bytes.
                n += 1;
                high = false;
            } else {
                n += 3;
                high = Character.isHighSurrogate(ch);
            }
        }
        return n;
    }

    /**
     * {@link String#compareTo} of the string encoded at {@code at} with {@code s}: the difference of the first
     * characters that differ, else of the lengths.
     */
    private static int compare(byte[] c, int at, String s) {
        int len = charCount(c, at);
        at = afterCount(c, at);
        for (int i = 0, n = Math.min(len, s.length()); i < n; i++) {
            char ch = charAt(c, at);
            at += width(c, at);
            if (ch != s.charAt(i)) {
                return ch - s.charAt(i);
            }
        }
        return len - s.length();
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

    /**
     * By metric, then by the tags' strings in key order (key, value, key, value...) compared as strings, a key with
     * fewer tags first when all of its strings lead the other's.
     */
    @Override
    public int compareTo(SeriesKey o) {
        int c = metric == o.metric ? 0 : metric.compareTo(o.metric);
        if (c != 0) {
            return c;
        }
        int strings = 2 * Math.min(tagCount, o.tagCount);
        int a = tagsAt;
        int b = o.tagsAt;
        if (plain && o.plain) {
            return comparePlain(o, strings);
        }
        for (int s = 0; s < strings; s++) {
            c = compareStrings(content, a, o.content, b);
            if (c != 0) {
                return c;
            }
            a = skip(content, a);
            b = skip(o.content, b);
        }
        return 2 * (tagCount - o.tagCount);
    }

    /**
     * {@link #compareTo} of the tags of two keys of one metric whose strings are all a length byte and ASCII bytes:
     * a byte's difference is its character's.
     */
    private int comparePlain(SeriesKey o, int strings) {
        byte[] x = content;
        byte[] y = o.content;
        int a = tagsAt;
        int b = o.tagsAt;
        for (int s = 0; s < strings; s++) {
            int xl = x[a++];
            int yl = y[b++];
            for (int i = 0, n = Math.min(xl, yl); i < n; i++) {
                int d = x[a + i] - y[b + i];
                if (d != 0) {
                    return d;
                }
            }
            if (xl != yl) {
                return xl - yl;
            }
            a += xl;
            b += yl;
        }
        return 2 * (tagCount - o.tagCount);
    }

    /** {@link String#compareTo} of the strings encoded at {@code x[a]} and {@code y[b]}. */
    private static int compareStrings(byte[] x, int a, byte[] y, int b) {
        int xl = charCount(x, a);
        int yl = charCount(y, b);
        a = afterCount(x, a);
        b = afterCount(y, b);
        for (int i = 0, n = Math.min(xl, yl); i < n; i++) {
            char p = charAt(x, a);
            char q = charAt(y, b);
            a += width(x, a);
            b += width(y, b);
            if (p != q) {
                return p - q;
            }
        }
        return xl - yl;
    }

    @Override
    public String toString() {
        return metric + tags();
    }

    /**
     * True when {@code o} is of the same metric and has the same tag keys, whatever their values: the two give the
     * same label names in the Prometheus view. Reads the contents without decoding them.
     */
    public boolean sameTagKeys(SeriesKey o) {
        if (o.tagCount != tagCount || o.tagsAt != tagsAt
                || !Arrays.equals(content, 0, tagsAt, o.content, 0, tagsAt)) {
            return false;
        }
        int a = tagsAt;
        int b = tagsAt;
        boolean both = plain && o.plain;
        for (int i = 0; i < tagCount; i++) {
            int aEnd = both ? a + 1 + content[a] : skip(content, a);
            int bEnd = both ? b + 1 + o.content[b] : skip(o.content, b);
            if (!Arrays.equals(content, a, aEnd, o.content, b, bEnd)) {
                return false;
            }
            a = both ? aEnd + 1 + content[aEnd] : skip(content, aEnd);
            b = both ? bEnd + 1 + o.content[bEnd] : skip(o.content, bEnd);
        }
        return true;
    }

    /** A hash of the metric and the tag keys, equal for keys {@link #sameTagKeys} holds the same. */
    public int tagKeysHash() {
        int h = 1;
        for (int j = 0; j < tagsAt; j++) {
            h = 31 * h + content[j];
        }
        int a = tagsAt;
        for (int i = 0; i < tagCount; i++) {
            int end = skip(content, a);
            for (int j = a; j < end; j++) {
                h = 31 * h + content[j];
            }
            a = skip(content, end);
        }
        return h;
    }
}
