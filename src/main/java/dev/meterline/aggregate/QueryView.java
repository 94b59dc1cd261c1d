package dev.meterline.aggregate;

import dev.meterline.model.SeriesKey;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One query shape, a metric, its tag filters and a named filter if it has one, with the published series of each
 * shard that match it. It answers queries once every shard has registered it ({@link #ready}) and until it is dropped
 * ({@link #dead}).
 */
final class QueryView {

    /**
     * What identifies a view: the metric, the tag filters (a key's value must be one of the listed ones) and the name
     * of its further filter ({@link NamedFilter}; empty for none).
     */
    record Key(String metric, Map<String, List<String>> tags, String filter) {
    }

    final Key key;
    /**
     * The tag filters' keys and, at the same index, their values: a shard tests each point of the view's metric whose
     * series it has not published, so the test reads arrays rather than the map's entries and lists.
     */
    private final String[] tagKeys;
    private final String[][] tagValues;
    /** The further test a series must pass; null for none. */
    private final NamedFilter filter;
    /** Per shard, the matching series by key; written by that shard's thread, read by queries. */
    final ConcurrentHashMap<SeriesKey, PublishedSeries>[] members;
    private final AtomicInteger unregistered;
    volatile boolean ready;
    volatile boolean dead;
    /** When a query last read it (clock ms). */
    volatile long lastUsed;

    @SuppressWarnings("unchecked")
    QueryView(Key key, NamedFilter filter, int shards, long now) {
        this.key = key;
        this.tagKeys = new String[key.tags().size()];
        this.tagValues = new String[tagKeys.length][];
        int t = 0;
        for (Map.Entry<String, List<String>> e : key.tags().entrySet()) {
            tagKeys[t] = e.getKey();
            tagValues[t++] = e.getValue().toArray(String[]::new);
        }
        this.filter = filter;
        this.members = new ConcurrentHashMap[shards];
        for (int i = 0; i < shards; i++) {
            members[i] = new ConcurrentHashMap<>();
        }
        this.unregistered = new AtomicInteger(shards);
        this.lastUsed = now;
    }

    String metric() {
        return key.metric();
    }

    /** Whether {@code series} (of this view's metric) passes the tag filters and the named filter. */
    boolean matches(SeriesKey series) {
        for (int i = 0; i < tagKeys.length; i++) {
            if (!series.tagIn(tagKeys[i], tagValues[i])) {
                return false;
            }
        }
        return filter == null || filter.test(series);
    }

    /** The key of the view of {@code metric}, {@code tags} and {@code filter} (null for none). */
    static Key keyOf(String metric, Map<String, List<String>> tags, NamedFilter filter) {
        return new Key(metric, tags, filter == null ? "" : filter.name());
    }

    /** Whether, for each key of {@code tags}, {@code series} has one of the listed values. */
    static boolean passes(Map<String, List<String>> tags, SeriesKey series) {
        for (Map.Entry<String, List<String>> e : tags.entrySet()) {
            if (!series.tagIn(e.getKey(), e.getValue())) {
                return false;
            }
        }
        return true;
    }

    /** One shard has registered the view; once all have, it is ready. */
    void registeredOnShard() {
        if (unregistered.decrementAndGet() == 0) {
            ready = true;
        }
    }
}
