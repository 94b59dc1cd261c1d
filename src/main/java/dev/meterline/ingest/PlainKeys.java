package dev.meterline.ingest;

import dev.meterline.model.SeriesKey;

import java.nio.charset.StandardCharsets;

/** Finds or builds the series key of a line the plain reader took, straight from the line's bytes. */
final class PlainKeys {

    private PlainKeys() {
    }

    /**
     * The series key of the line {@code l} read from {@code data}: from {@code cache} when the same metric and tags
     * bytes came before; else built, with the cache's shared name strings, and remembered.
     */
    static SeriesKey key(byte[] data, PlainLine l, SeriesKeyCache cache) {
        SeriesKey key;
        if (cache == null) {
            key = build(data, l, null);
        } else {
            int h = SeriesKeyCache.hash(data, l.metricFrom, l.metricTo, l.tagsFrom, l.tagsTo);
            key = cache.find(h, data, l.metricFrom, l.metricTo, l.tagsFrom, l.tagsTo);
            if (key == null) {
                key = build(data, l, cache);
                cache.put(h, data, l.metricFrom, l.metricTo, l.tagsFrom, l.tagsTo, key);
            }
        }
        return key;
    }

    private static SeriesKey build(byte[] data, PlainLine l, SeriesKeyCache names) {
        String metric = name(data, names, l.metricFrom, l.metricTo);
        if (l.tagCount == 0) {
            return SeriesKey.ofPairs(metric, JsonFields.NO_PAIRS, 0);
        }
        String[] tags = new String[2 * l.tagCount];
        int[] at = l.tags;
        for (int t = 0; t < l.tagCount; t++) {
            tags[2 * t] = name(data, names, at[4 * t], at[4 * t + 1]);
            tags[2 * t + 1] = new String(data, at[4 * t + 2], at[4 * t + 3] - at[4 * t + 2], StandardCharsets.ISO_8859_1);
        }
        return SeriesKey.ofPairs(metric, tags, l.tagCount);
    }

    /** The ASCII string of {@code data[from, to)}, shared through {@code names} when there is one. */
    private static String name(byte[] data, SeriesKeyCache names, int from, int to) {
        return names == null ? new String(data, from, to - from, StandardCharsets.ISO_8859_1)
                : names.name(data, from, to);
    }
}
