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
                byMetric.computeIfAbsent(key.metric(), m -> new HashMap<>()).put(key, s);
                key.attach(s);
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
                }
                budget.release(s.key.metric(), 1);
            }
        }
    }

    /** Copies of the open windows of {@code metric}'s matching series that start in {@code [from, to)}. */
    List<Window> snapshot(String metric, Predicate<SeriesKey> filter, long from, long to) {
        Map<SeriesKey, SeriesState> series = byMetric.get(metric);
        if (series == null) {
            return List.of();
        }
        List<Window> out = new ArrayList<>();
        for (SeriesState s : series.values()) {
            if (!filter.test(s.key)) {
                continue;
            }
            for (int i = 0; i < s.n; i++) {
                long start = s.starts[i];
                if (start >= from && start < to) {
                    out.add(new Window(s.key, start, resolution, s.aggs[i].copy(), false, 0));
                }
            }
        }
        return out;
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
