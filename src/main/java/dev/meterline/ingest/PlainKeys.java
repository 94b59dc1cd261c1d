package dev.meterline.ingest;

import dev.meterline.model.RejectReason;
import dev.meterline.model.SeriesKey;
import dev.meterline.model.SeriesRules;

import java.nio.charset.StandardCharsets;

/**
 * Finds or builds the series key of a line the plain reader took, straight from the line's bytes. A built key meets
 * the series rules once, before the cache may hold it: a cached key passed them and carries the static tags already.
 * One per decoder.
 */
final class PlainKeys {

    private final SeriesRules rules;
    /** Why the last {@link #key} call refused its line's series. */
    private RejectReason refused;

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
