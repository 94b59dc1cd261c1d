package dev.meterline.aggregate;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;

/**
 * One shard's indexes of series by tag value, for queries that filter on tags: a dashboard polling one series of a
 * metric with 100 000 would otherwise cost the shard a walk over all of them per query, taken from ingest.
 *
 * <p>An index (one metric, one tag key) is built by the first query that needs it and kept up to date as series
 * come. Series that leave stay in it until a query walks their value, so leaving costs nothing; an index whose
 * entries outgrow twice the metric's live series is dropped (the next query builds it again), and at most
 * {@link #MAX_INDEXES} are kept, the least recently used dropped first. Owned by its shard's thread.
 */
final class TagIndexes {

    /** A metric with at least this many series in a shard is walked through an index when a query filters. */
    static final int INDEX_FROM = 1024;
    /** Most indexes a shard keeps. */
    static final int MAX_INDEXES = 16;

    /** By metric and tag key, least recently used first. */
    private final LinkedHashMap<Key, Index> byKey = new LinkedHashMap<>(16, 0.75f, true);
    /** The same indexes by metric, to add each new series to those of its metric. */
    private final Map<String, List<Index>> byMetric = new HashMap<>();

    boolean isEmpty() {
        return byKey.isEmpty();
    }

    int size() {
        return byKey.size();
    }

    /** Whether an index of {@code metric} is kept: it may hold that metric's states after they left. */
    boolean covers(String metric) {
        return byMetric.containsKey(metric);
    }

    /**
     * The live series among {@code series} (all of {@code metric}'s) whose value of one key of {@code tags} is one of
     * that key's values: a superset of the matching series, which the caller filters on every key.
     */
    List<SeriesState> candidates(String metric, Map<String, List<String>> tags, List<SeriesState> series) {
        String tagKey = tags.keySet().iterator().next();
        for (String k : tags.keySet()) {
            if (byKey.containsKey(new Key(metric, k))) {
                tagKey = k;
                break;
            }
        }
        Index index = index(metric, tagKey, series);
        List<SeriesState> out = new ArrayList<>();
        for (String value : new LinkedHashSet<>(tags.get(tagKey))) {
            List<SeriesState> states = index.byValue.get(value);
            if (states == null) {
                continue;
            }
            int before = states.size();
            states.removeIf(s -> !s.live());
            index.entries -= before - states.size();
            if (states.isEmpty()) {
                index.byValue.remove(value);
            }
            out.addAll(states);
        }
        return out;
    }

    /** Adds a new series to its metric's indexes; {@code live} is the metric's live series, the new one included. */
    void added(SeriesState s, int live) {
        String metric = s.key.metric();
        List<Index> forMetric = byMetric.get(metric);
        if (forMetric == null) {
            return;
        }
        forMetric.removeIf(index -> {
            if (index.entries > 2 * live + INDEX_FROM) {
                byKey.remove(new Key(metric, index.tagKey));
                return true;
            }
            index.add(s);
            return false;
        });
        if (forMetric.isEmpty()) {
            byMetric.remove(metric);
        }
    }

    /** Drops the indexes of a metric whose last series left. */
    void metricGone(String metric) {
        if (byMetric.remove(metric) != null) {
            byKey.keySet().removeIf(k -> k.metric().equals(metric));
        }
    }

    private Index index(String metric, String tagKey, List<SeriesState> series) {
        Key key = new Key(metric, tagKey);
        Index index = byKey.get(key);
        if (index != null && index.entries > 2 * series.size() + INDEX_FROM) {
            drop(key, index);
            index = null;
        }
        if (index == null) {
            index = new Index(tagKey);
            for (SeriesState s : series) {
                index.add(s);
            }
            byKey.put(key, index);
            byMetric.computeIfAbsent(metric, m -> new ArrayList<>(2)).add(index);
            if (byKey.size() > MAX_INDEXES) {
                Map.Entry<Key, Index> eldest = byKey.entrySet().iterator().next();
                drop(eldest.getKey(), eldest.getValue());
            }
        }
        return index;
    }

    private void drop(Key key, Index index) {
        byKey.remove(key);
        List<Index> forMetric = byMetric.get(key.metric());
        forMetric.remove(index);
        if (forMetric.isEmpty()) {
            byMetric.remove(key.metric());
        }
    }

    private record Key(String metric, String tagKey) {
    }

    /** One metric's series by their value of one tag key (series without the tag are not in it). */
    private static final class Index {
        final String tagKey;
        final Map<String, List<SeriesState>> byValue = new HashMap<>();
        /** Series in the lists, those that left included. */
        int entries;

        Index(String tagKey) {
            this.tagKey = tagKey;
        }

        void add(SeriesState s) {
            String value = s.key.tag(tagKey);
            if (value != null) {
                byValue.computeIfAbsent(value, v -> new ArrayList<>(1)).add(s);
                entries++;
            }
        }
    }
}
