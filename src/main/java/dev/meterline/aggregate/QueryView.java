package dev.meterline.aggregate;

import dev.meterline.model.SeriesKey;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One query shape, a metric and its tag filters, with the published series of each shard that match it. It answers
 * queries once every shard has registered it ({@link #ready}) and until it is dropped ({@link #dead}).
 */
final class QueryView {

    /** What identifies a view: the metric and the tag filters (a key's value must be one of the listed ones). */
    record Key(String metric, Map<String, List<String>> tags) {
    }

    final Key key;
    /** Per shard, the matching series by key; written by that shard's thread, read by queries. */
    final ConcurrentHashMap<SeriesKey, PublishedSeries>[] members;
    private final AtomicInteger unregistered;
    volatile boolean ready;
    volatile boolean dead;
    /** When a query last read it (clock ms). */
    volatile long lastUsed;

    @SuppressWarnings("unchecked")
    QueryView(Key key, int shards, long now) {
        this.key = key;
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

    /** Whether {@code series} (of this view's metric) passes the tag filters. */
    boolean matches(SeriesKey series) {
        return passes(key.tags(), series);
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
