package dev.meterline.aggregate;

import dev.meterline.model.Aggregate;
import dev.meterline.model.Part;
import dev.meterline.model.Point;
import dev.meterline.model.Reject;
import dev.meterline.model.SeriesKey;
import dev.meterline.model.Window;
import dev.meterline.telemetry.RejectReason;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Predicate;

/**
 * The aggregation state of one shard: per series, its open windows. Plain, synchronous and clock-free (every time is
 * a parameter); owned by exactly one thread at a time, so it takes no locks.
 */
final class Shard {

    /** A metric with at least this many series in a shard is walked through a tag index when a query filters. */
    static final int INDEX_FROM = 1024;
    /** Most tag indexes a shard keeps; past it, the one used least recently goes. */
    static final int MAX_INDEXES = 16;

    private final long resolution;
    private final long lateness;
    private final SeriesBudget budget;
    private final Map<String, Map<SeriesKey, SeriesState>> byMetric = new HashMap<>();
    /** Tag indexes queries asked for, by metric and tag key, least recently used first. */
    private final LinkedHashMap<IndexKey, TagIndex> indexes = new LinkedHashMap<>(16, 0.75f, true);
    /** The same indexes by metric, to add each new series to those of its metric. */
    private final Map<String, List<TagIndex>> indexesByMetric = new HashMap<>();
    /** Window start → the series that have an open window there; the flush walks this in time order. */
    private final TreeMap<Long, List<SeriesState>> byStart = new TreeMap<>();
    private long closedThrough = Long.MIN_VALUE;
    private int openWindows;
    private long latePoints;

    Shard(long resolution, long lateness, SeriesBudget budget) {
        this.resolution = resolution;
        this.lateness = lateness;
        this.budget = budget;
    }

    /** Aggregates a part and tells its batch; returns how many of its points were late. */
    int record(Part part) {
        int accepted = 0;
        int late = 0;
        List<Reject> rejects = null;
        for (Point p : part.points()) {
            SeriesKey key = p.series();
            SeriesState s = key.state() instanceof SeriesState attached && attached.shard == this && attached.live
                    ? attached : find(key);
            if (s == null) {
                RejectReason full = budget.tryAcquire(key.metric());
                if (full != null) {
                    if (rejects == null) {
                        rejects = new ArrayList<>();
                    }
                    rejects.add(Reject.of(p.line(), full));
                    continue;
                }
                s = new SeriesState(this, key);
                Map<SeriesKey, SeriesState> series = byMetric.computeIfAbsent(key.metric(), m -> new HashMap<>());
                series.put(key, s);
                key.attach(s);
                if (!indexes.isEmpty()) {
                    index(s, series.size());
                }
            }
            long start = Window.startOf(p.timestamp(), resolution);
            Aggregate a = s.find(start);
            if (a == null) {
                a = new Aggregate();
                s.add(start, a);
                byStart.computeIfAbsent(start, k -> new ArrayList<>()).add(s);
                openWindows++;
            }
            a.accept(p.value(), p.timestamp());
            if (start + resolution + lateness <= closedThrough) {
                a.markLate();
                late++;
            }
            accepted++;
        }
        latePoints += late;
        part.batch().partDone(accepted, rejects);
        return late;
    }

    /** The state of {@code key}'s series through the maps, attached to this key instance for next time; or null. */
    private SeriesState find(SeriesKey key) {
        Map<SeriesKey, SeriesState> series = byMetric.get(key.metric());
        SeriesState s = series == null ? null : series.get(key);
        if (s != null) {
            key.attach(s);
        }
        return s;
    }

    /** Removes and returns every window whose end plus lateness is at or before {@code cutoff}. */
    List<Window> close(long cutoff, long flushSeq) {
        closedThrough = Math.max(closedThrough, cutoff);
        List<Window> out = new ArrayList<>();
        while (!byStart.isEmpty() && byStart.firstKey() + resolution + lateness <= cutoff) {
            Map.Entry<Long, List<SeriesState>> e = byStart.pollFirstEntry();
            takeWindows(e.getKey(), e.getValue(), true, flushSeq, out);
        }
        return out;
    }

    /** Removes and returns every window; those not yet due at {@code now} are marked incomplete. */
    List<Window> closeAll(long now, long flushSeq) {
        List<Window> out = new ArrayList<>();
        while (!byStart.isEmpty()) {
            Map.Entry<Long, List<SeriesState>> e = byStart.pollFirstEntry();
            boolean complete = e.getKey() + resolution + lateness <= now;
            takeWindows(e.getKey(), e.getValue(), complete, flushSeq, out);
        }
        return out;
    }

    private void takeWindows(long start, List<SeriesState> states, boolean complete, long flushSeq,
                             List<Window> out) {
        for (SeriesState s : states) {
            Aggregate a = s.remove(start);
            if (a == null) {
                continue;
            }
            openWindows--;
            out.add(new Window(s.key, start, resolution, a, complete, flushSeq));
            if (s.n == 0) {
                s.live = false;
                Map<SeriesKey, SeriesState> series = byMetric.get(s.key.metric());
                series.remove(s.key);
                if (series.isEmpty()) {
                    byMetric.remove(s.key.metric());
                    dropIndexes(s.key.metric());
                }
                budget.release(s.key.metric(), 1);
            }
        }
    }

    /** Copies of the open windows of {@code metric}'s matching series that start in {@code [from, to)}. */
    List<Window> snapshot(String metric, Predicate<SeriesKey> filter, long from, long to) {
        return snapshot(metric, Map.of(), filter, from, to);
    }

    /**
     * As above, where {@code filter} only passes series whose value of each key in {@code tags} is one of its values.
     * A metric with many series is then walked through a tag index of one of those keys instead of series by
     * series: a dashboard polling one series of a metric with 100 000 would otherwise cost the shard a walk over all
     * of them per query, taken from ingest.
     */
    List<Window> snapshot(String metric, Map<String, List<String>> tags, Predicate<SeriesKey> filter, long from,
                          long to) {
        Map<SeriesKey, SeriesState> series = byMetric.get(metric);
        if (series == null) {
            return List.of();
        }
        List<Window> out = new ArrayList<>();
        if (tags.isEmpty() || series.size() < INDEX_FROM) {
            for (SeriesState s : series.values()) {
                addWindows(s, filter, from, to, out);
            }
            return out;
        }
        String tagKey = tags.keySet().iterator().next();
        for (String k : tags.keySet()) {
            if (indexes.containsKey(new IndexKey(metric, k))) {
                tagKey = k;
                break;
            }
        }
        TagIndex index = index(metric, tagKey, series);
        for (String value : new LinkedHashSet<>(tags.get(tagKey))) {
            List<SeriesState> states = index.byValue.get(value);
            if (states == null) {
                continue;
            }
            int before = states.size();
            states.removeIf(st -> !st.live);
            index.entries -= before - states.size();
            if (states.isEmpty()) {
                index.byValue.remove(value);
            }
            for (SeriesState st : states) {
                addWindows(st, filter, from, to, out);
            }
        }
        return out;
    }

    private void addWindows(SeriesState s, Predicate<SeriesKey> filter, long from, long to, List<Window> out) {
        if (!filter.test(s.key)) {
            return;
        }
        for (int i = 0; i < s.n; i++) {
            long start = s.starts[i];
            if (start >= from && start < to) {
                out.add(new Window(s.key, start, resolution, s.aggs[i].copy(), false, 0));
            }
        }
    }

    /**
     * The index of {@code metric}'s series by their value of {@code tagKey}, built on first use and kept up to date
     * as series come. Series that leave stay in it until a query walks their value (or it is rebuilt once they are
     * more than the metric's live series), so leaving costs nothing; at most {@link #MAX_INDEXES} are kept.
     */
    private TagIndex index(String metric, String tagKey, Map<SeriesKey, SeriesState> series) {
        IndexKey key = new IndexKey(metric, tagKey);
        TagIndex index = indexes.get(key);
        if (index != null && index.entries > 2 * series.size() + INDEX_FROM) {
            dropIndex(key, index);
            index = null;
        }
        if (index == null) {
            index = new TagIndex(tagKey);
            for (SeriesState s : series.values()) {
                index.add(s);
            }
            indexes.put(key, index);
            indexesByMetric.computeIfAbsent(metric, m -> new ArrayList<>(2)).add(index);
            if (indexes.size() > MAX_INDEXES) {
                Map.Entry<IndexKey, TagIndex> eldest = indexes.entrySet().iterator().next();
                dropIndex(eldest.getKey(), eldest.getValue());
            }
        }
        return index;
    }

    /**
     * Adds a new series to its metric's indexes. An index whose entries (those of series that left included) grew
     * past twice the metric's {@code live} series is dropped instead: series come and go, and nothing else would
     * bound an index that no query walks any more. The next query builds it again.
     */
    private void index(SeriesState s, int live) {
        List<TagIndex> forMetric = indexesByMetric.get(s.key.metric());
        if (forMetric == null) {
            return;
        }
        for (TagIndex index : List.copyOf(forMetric)) {
            if (index.entries > 2 * live + INDEX_FROM) {
                dropIndex(new IndexKey(s.key.metric(), index.tagKey), index);
            } else {
                index.add(s);
            }
        }
    }

    private void dropIndex(IndexKey key, TagIndex index) {
        indexes.remove(key);
        List<TagIndex> forMetric = indexesByMetric.get(key.metric());
        forMetric.remove(index);
        if (forMetric.isEmpty()) {
            indexesByMetric.remove(key.metric());
        }
    }

    private void dropIndexes(String metric) {
        List<TagIndex> forMetric = indexesByMetric.remove(metric);
        if (forMetric != null) {
            indexes.keySet().removeIf(k -> k.metric().equals(metric));
        }
    }

    /** The number of tag indexes kept, for tests. */
    int indexCount() {
        return indexes.size();
    }

    private record IndexKey(String metric, String tagKey) {
    }

    /** One metric's series by their value of one tag key (series without the tag are not in it). */
    private static final class TagIndex {
        final String tagKey;
        final Map<String, List<SeriesState>> byValue = new HashMap<>();
        /** Series in the lists, those that left included. */
        int entries;

        TagIndex(String tagKey) {
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

    /** Active series of {@code metric}, or of every metric when null. */
    List<SeriesKey> series(String metric) {
        List<SeriesKey> out = new ArrayList<>();
        if (metric == null) {
            byMetric.values().forEach(m -> out.addAll(m.keySet()));
        } else {
            Map<SeriesKey, SeriesState> m = byMetric.get(metric);
            if (m != null) {
                out.addAll(m.keySet());
            }
        }
        return out;
    }

    /** Active series count per metric. */
    Map<String, Integer> seriesCounts() {
        Map<String, Integer> out = new HashMap<>();
        byMetric.forEach((m, s) -> out.put(m, s.size()));
        return out;
    }

    int openWindows() {
        return openWindows;
    }

    long latePoints() {
        return latePoints;
    }

    /** The open windows of one series: usually one or two, so parallel arrays beat a map. */
    private static final class SeriesState {
        final Shard shard;
        final SeriesKey key;
        long[] starts = new long[2];
        Aggregate[] aggs = new Aggregate[2];
        int n;
        /** False once the series left the maps (its last window closed); keys still attached to it look it up again. */
        boolean live = true;
        /** The window found or added last (points mostly go to the newest), kept here to skip the arrays. */
        long lastStart;
        Aggregate last;

        SeriesState(Shard shard, SeriesKey key) {
            this.shard = shard;
            this.key = key;
        }

        Aggregate find(long start) {
            if (last != null && lastStart == start) {
                return last;
            }
            for (int i = n - 1; i >= 0; i--) {
                if (starts[i] == start) {
                    lastStart = start;
                    last = aggs[i];
                    return last;
                }
            }
            return null;
        }

        void add(long start, Aggregate a) {
            if (n == starts.length) {
                starts = java.util.Arrays.copyOf(starts, n * 2);
                aggs = java.util.Arrays.copyOf(aggs, n * 2);
            }
            starts[n] = start;
            aggs[n] = a;
            n++;
            lastStart = start;
            last = a;
        }

        Aggregate remove(long start) {
            if (last != null && lastStart == start) {
                last = null;
            }
            for (int i = 0; i < n; i++) {
                if (starts[i] == start) {
                    Aggregate a = aggs[i];
                    n--;
                    starts[i] = starts[n];
                    aggs[i] = aggs[n];
                    aggs[n] = null;
                    return a;
                }
            }
            return null;
        }
    }
}
