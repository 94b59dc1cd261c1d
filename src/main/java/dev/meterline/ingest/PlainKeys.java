package dev.meterline.ingest;

import dev.meterline.model.RejectReason;
import dev.meterline.model.SeriesKey;
import dev.meterline.model.SeriesRules;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Finds or builds the series key of a line the plain reader took, straight from the line's bytes. A built key meets
 * the series rules once, before the cache may hold it: a cached key passed them and carries the static tags already.
 * One per decoder.
 *
 * <p>When the metric and every tag key and value are shorter than 128 bytes (the reader takes only printable ASCII),
 * the key's content is written from the line's bytes with the tags ordered by their keys' bytes: no string per tag,
 * and the key keeps no strings but its metric, which {@code names} shares. With a longer string the key is built
 * through a string per tag, and those keys share the strings of tag values that repeat from line to line
 * ({@link #value}).
 */
final class PlainKeys {

    /** Slots of the repeated values' table: a few KiB per decoder, made when it first builds a key. */
    static final int VALUE_SLOTS = 256;
    /** Tag values longer than this are never shared. */
    static final int MAX_VALUE_BYTES = 32;

    private final SeriesRules rules;
    /** Why the last {@link #key} call refused its line's series. */
    private RejectReason refused;
    /**
     * Direct-mapped by hash: each slot's shared string and its bytes, and the hash of the last value that missed
     * there. A value is stored only when it misses twice in a row at its slot, so values seen once per pass (a host
     * name among a million) are never copied, while one that repeats is held after its second line.
     */
    private String[] values;
    private byte[][] valueBytes;
    private int[] lastMissed;
    /** Scratch for {@link #sortByKey}: offsets into the line's tag offsets, in key order. */
    private int[] order = new int[8];

    PlainKeys(SeriesRules rules) {
        this.rules = rules;
    }

    /**
     * The series key of the line {@code l} read from {@code data}: from {@code cache} when the same metric and tags
     * bytes came before; else built, checked and, when it passed, remembered. Null when the series breaks a rule
     * ({@link #refused} says which); such a key is never cached, so its next line is checked again.
     */
    SeriesKey key(byte[] data, PlainLine l, SeriesKeyCache cache) {
        return key(data, l, cache, cache == null ? 0 : hash(data, l));
    }

    /** The hash of the line {@code l}'s series as {@link SeriesKeyCache} takes it. */
    static int hash(byte[] data, PlainLine l) {
        return SeriesKeyCache.hash(data, l.metricFrom, l.metricTo, l.tagsFrom, l.tagsTo);
    }

    /**
     * As {@link #key(byte[], PlainLine, SeriesKeyCache)}, with the series' {@link #hash} {@code h} known already; a
     * line whose reader found its series in {@code cache} ({@link PlainLine#slot}) is looked up at that slot.
     */
    SeriesKey key(byte[] data, PlainLine l, SeriesKeyCache cache, int h) {
        if (cache == null) {
            l.readTags(data);
            return admit(build(data, l, null));
        }
        SeriesKey key = l.slot >= 0
                ? cache.findProbed(l.slot, l.stamp, h, data, l.metricFrom, l.metricTo, l.tagsFrom, l.tagsTo)
                : cache.find(h, data, l.metricFrom, l.metricTo, l.tagsFrom, l.tagsTo);
        if (key == null) {
            l.readTags(data);
            key = admit(build(data, l, cache));
            if (key != null) {
                cache.put(h, data, l.metricFrom, l.metricTo, l.tagsFrom, l.tagsTo, key, l.tagCount);
            }
        }
        return key;
    }

    /** The reason the last {@link #key} call returned null. */
    RejectReason refused() {
        return refused;
    }

    private SeriesKey admit(SeriesKey built) {
        refused = rules.checkSeries(built);
        return refused == null ? rules.enrich(built) : null;
    }

    private SeriesKey build(byte[] data, PlainLine l, SeriesKeyCache names) {
        int n = l.tagCount;
        int[] at = l.tags;
        int longest = l.metricTo - l.metricFrom;
        int size = 1 + longest;
        for (int t = 0; t < 4 * n; t += 4) {
            int k = at[t + 1] - at[t];
            int v = at[t + 3] - at[t + 2];
            longest = Math.max(longest, Math.max(k, v));
            size += 2 + k + v;
        }
        if (longest >= 0x80) {
            return buildStrings(data, l, names);
        }
        String metric = name(data, names, l.metricFrom, l.metricTo);
        byte[] content = new byte[size];
        int w = put(data, l.metricFrom, l.metricTo, content, 0);
        if (n > 0) {
            int[] sorted = sortByKey(data, at, n);
            for (int i = 0; i < n; i++) {
                int t = sorted[i];
                w = put(data, at[t], at[t + 1], content, w);
                w = put(data, at[t + 2], at[t + 3], content, w);
            }
        }
        return SeriesKey.ofContent(metric, content, n);
    }

    /** Writes the ASCII string {@code data[from, to)}, shorter than 128 bytes, as the key's content encodes it. */
    private static int put(byte[] data, int from, int to, byte[] content, int w) {
        int len = to - from;
        content[w] = (byte) len;
        System.arraycopy(data, from, content, w + 1, len);
        return w + 1 + len;
    }

    /**
     * The offsets into {@code at} of the line's {@code n} tags ordered by key: unsigned byte order, which for ASCII
     * is the order of the keys as strings. Insertion sort, as tags often come in order already.
     */
    private int[] sortByKey(byte[] data, int[] at, int n) {
        int[] sorted = order;
        if (sorted.length < n) {
            sorted = order = new int[Math.max(n, 2 * sorted.length)];
        }
        for (int i = 0; i < n; i++) {
            int t = 4 * i;
            int j = i - 1;
            while (j >= 0 && after(data, at, sorted[j], t)) {
                sorted[j + 1] = sorted[j];
                j--;
            }
            sorted[j + 1] = t;
        }
        return sorted;
    }

    /**
     * True when the key of the tag at offset {@code a} into {@code at} sorts after that of the tag at {@code b}. Keys
     * mostly differ in their first byte, which decides without the general comparison's call.
     */
    private static boolean after(byte[] data, int[] at, int a, int b) {
        int af = at[a];
        int bf = at[b];
        if (af < at[a + 1] && bf < at[b + 1] && data[af] != data[bf]) {
            return (data[af] & 0xFF) > (data[bf] & 0xFF);
        }
        return Arrays.compareUnsigned(data, af, at[a + 1], data, bf, at[b + 1]) > 0;
    }

    /** Builds the key through a string per tag, for a line with a string of 128 bytes or more. */
    private SeriesKey buildStrings(byte[] data, PlainLine l, SeriesKeyCache names) {
        String metric = name(data, names, l.metricFrom, l.metricTo);
        if (l.tagCount == 0) {
            return SeriesKey.ofPairs(metric, JsonFields.NO_PAIRS, 0);
        }
        String[] tags = new String[2 * l.tagCount];
        int[] at = l.tags;
        for (int t = 0; t < l.tagCount; t++) {
            tags[2 * t] = name(data, names, at[4 * t], at[4 * t + 1]);
            tags[2 * t + 1] = value(data, at[4 * t + 2], at[4 * t + 3]);
        }
        return SeriesKey.ofPairs(metric, tags, l.tagCount);
    }

    /**
     * The ASCII string of the tag value {@code data[from, to)}: the instance held for it when the same bytes came
     * before and were held, else a new one, which is held when the value before it at its slot was the same.
     */
    String value(byte[] data, int from, int to) {
        int len = to - from;
        if (len > MAX_VALUE_BYTES) {
            return new String(data, from, len, StandardCharsets.ISO_8859_1);
        }
        if (values == null) {
            values = new String[VALUE_SLOTS];
            valueBytes = new byte[VALUE_SLOTS][];
            lastMissed = new int[VALUE_SLOTS];
        }
        long mixed = SeriesKeyCache.mix(len, data, from, to);
        int h = (int) (mixed ^ (mixed >>> 29));
        int slot = h & (VALUE_SLOTS - 1);
        byte[] known = valueBytes[slot];
        if (known != null && Arrays.equals(known, 0, known.length, data, from, to)) {
            return values[slot];
        }
        String s = new String(data, from, len, StandardCharsets.ISO_8859_1);
        // Never 0, so a slot where nothing missed yet matches no value.
        int mark = h | 1;
        if (lastMissed[slot] == mark) {
            values[slot] = s;
            valueBytes[slot] = Arrays.copyOfRange(data, from, to);
        } else {
            lastMissed[slot] = mark;
        }
        return s;
    }

    /** The ASCII string of {@code data[from, to)}, shared through {@code names} when there is one. */
    private static String name(byte[] data, SeriesKeyCache names, int from, int to) {
        return names == null ? new String(data, from, to - from, StandardCharsets.ISO_8859_1)
                : names.name(data, from, to);
    }
}
