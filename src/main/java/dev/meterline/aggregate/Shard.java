package dev.meterline.aggregate;

import dev.meterline.model.Aggregate;
import dev.meterline.model.Part;
import dev.meterline.model.Point;
import dev.meterline.model.Reject;
import dev.meterline.model.SeriesKey;
import dev.meterline.model.Window;
import dev.meterline.telemetry.RejectReason;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Predicate;

/**
 * The aggregation state of one shard: per series, its open windows. Plain, synchronous and clock-free (every time is
 * a parameter); owned by exactly one thread at a time, so it takes no locks.
 */
final class Shard {

    private final long resolution;
    private final long lateness;
    private final SeriesBudget budget;
    private final Map<String, Map<SeriesKey, SeriesState>> byMetric = new HashMap<>();
    private final TagIndexes indexes = new TagIndexes();
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
                    indexes.added(s, series.size());
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
                    indexes.metricGone(s.key.metric());
                }
                budget.release(s.key.metric(), 1);
            }
        }
    }

    /**
     * Copies of the open windows of {@code metric}'s matching series that start in {@code [from, to)}, where
     * {@code filter} only passes series whose value of each key in {@code tags} is one of its values (no tags: any
     * series it passes). A metric with many series is then walked through a tag index of one of those keys instead
     * of series by series: a dashboard polling one series of a metric with 100 000 would otherwise cost the shard a
     * walk over all of them per query, taken from ingest.
     */
    List<Window> snapshot(String metric, Map<String, List<String>> tags, Predicate<SeriesKey> filter, long from,
                          long to) {
        Map<SeriesKey, SeriesState> series = byMetric.get(metric);
        if (series == null) {
            return List.of();
        }
        Collection<SeriesState> candidates = tags.isEmpty() || series.size() < TagIndexes.INDEX_FROM
                ? series.values() : indexes.candidates(metric, tags, series);
        List<Window> out = new ArrayList<>();
        for (SeriesState s : candidates) {
            addWindows(s, filter, from, to, out);
        }
        return out;
    }

    /** The number of tag indexes kept, for tests. */
    int indexCount() {
        return indexes.size();
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
}
