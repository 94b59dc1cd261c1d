package dev.meterline.aggregate;

import dev.meterline.model.Point;
import dev.meterline.model.SeriesKey;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * One shard's side of the query views: after each part it publishes again the watched series the part touched,
 * after each close those that lost a window. Written by the shard's thread only, between two commands.
 *
 * <p>Queries read {@link #epoch}, odd while a close changes what is published, and {@link #changedSeq}, the last
 * flush whose close changed it: a reader that sees the same even epoch before and after its read has read the
 * shard as it stood between two commands.
 */
final class ShardViews {

    private final int index;
    private final QueryViews registry;
    /** The views registered here, by metric. */
    private final Map<String, List<QueryView>> byMetric = new HashMap<>();
    /** Every series published here, once, whatever the number of views that hold it. */
    private final Map<SeriesKey, PublishedSeries> published = new HashMap<>();
    private final List<PublishedSeries> dirty = new ArrayList<>();
    private long seenGeneration;

    volatile long epoch;
    volatile long changedSeq = Long.MIN_VALUE;

    ShardViews(int index, QueryViews registry) {
        this.index = index;
        this.registry = registry;
    }

    /**
     * Registers {@code view} here with its {@code matching} series, which are published now and kept up to date from
     * now on; when they would pass the series bound, nothing is copied and the view is dropped.
     */
    void register(Shard shard, QueryView view, List<SeriesState> matching) {
        try {
            prune(Long.MIN_VALUE);
            if (view.dead) {
                return;
            }
            int fresh = 0;
            for (SeriesState s : matching) {
                if (!published.containsKey(s.key)) {
                    fresh++;
                }
            }
            if (!registry.reserveSeries(fresh)) {
                registry.drop(view, true);
                return;
            }
            byMetric.computeIfAbsent(view.metric(), m -> new ArrayList<>()).add(view);
            for (SeriesState s : matching) {
                add(shard, view, s.key);
            }
        } finally {
            view.registeredOnShard();
        }
    }

    /** After a part was aggregated, before its batch is told: publishes what it changed. */
    void afterPart(Shard shard, List<Point> points) {
        prune(Long.MIN_VALUE);
        if (byMetric.isEmpty()) {
            return;
        }
        for (Point p : points) {
            SeriesKey key = p.series();
            List<QueryView> views = byMetric.get(key.metric());
            if (views == null) {
                continue;
            }
            PublishedSeries ps = published.get(key);
            if (ps == null) {
                // A series new to the shard (or back after its last window closed) joins the views it matches,
                // published as it is now.
                for (int i = 0; i < views.size(); i++) {
                    QueryView v = views.get(i);
                    if (!v.dead && v.matches(key)) {
                        join(shard, v, key);
                    }
                }
            } else if (!ps.dirty) {
                ps.dirty = true;
                dirty.add(ps);
            }
        }
        for (PublishedSeries ps : dirty) {
            ps.dirty = false;
            ps.windows = shard.openWindows(ps.key);
        }
        dirty.clear();
    }

    /**
     * After the shard closed flush {@code seq} at {@code cutoff}: publishes the series that lost windows, drops
     * those left with none, and drops the views nobody read for the idle time.
     */
    void afterClose(Shard shard, long seq, long cutoff) {
        prune(cutoff);
        boolean changing = false;
        for (Iterator<PublishedSeries> it = published.values().iterator(); it.hasNext(); ) {
            PublishedSeries ps = it.next();
            int open = shard.openWindowCount(ps.key);
            if (open == ps.windows.size()) {
                continue;
            }
            if (!changing) {
                changing = true;
                epoch++;
            }
            if (open > 0) {
                ps.windows = shard.openWindows(ps.key);
                continue;
            }
            ps.windows = List.of();
            it.remove();
            registry.releaseSeries(1);
            List<QueryView> views = byMetric.get(ps.key.metric());
            if (views != null) {
                for (QueryView v : views) {
                    v.members[index].remove(ps.key);
                }
            }
        }
        if (changing) {
            changedSeq = seq;
            epoch++;
        }
    }

    /** Adds {@code key}'s series, new here, to {@code view}; drops the view instead at the series bound. */
    private void join(Shard shard, QueryView view, SeriesKey key) {
        if (!published.containsKey(key) && !registry.reserveSeries(1)) {
            registry.drop(view, true);
            return;
        }
        add(shard, view, key);
    }

    /** Adds {@code key}'s series to {@code view}, published now if it was not yet; its place in the bound is taken. */
    private void add(Shard shard, QueryView view, SeriesKey key) {
        PublishedSeries ps = published.get(key);
        if (ps == null) {
            ps = new PublishedSeries(key);
            ps.windows = shard.openWindows(key);
            published.put(key, ps);
        }
        if (view.members[index].putIfAbsent(key, ps) == null) {
            ps.views++;
        }
    }

    /**
     * Forgets the views that were dropped, and when {@code now} is a time (not {@code Long.MIN_VALUE}) first drops
     * those nobody read since {@code now} minus the idle time.
     */
    private void prune(long now) {
        long generation = registry.generation();
        if (generation == seenGeneration && now == Long.MIN_VALUE) {
            return;
        }
        seenGeneration = generation;
        for (Iterator<List<QueryView>> lists = byMetric.values().iterator(); lists.hasNext(); ) {
            List<QueryView> views = lists.next();
            for (Iterator<QueryView> it = views.iterator(); it.hasNext(); ) {
                QueryView v = it.next();
                if (!v.dead && now != Long.MIN_VALUE && registry.idle(v, now)) {
                    registry.drop(v, false);
                }
                if (v.dead) {
                    it.remove();
                    forget(v);
                }
            }
            if (views.isEmpty()) {
                lists.remove();
            }
        }
    }

    private void forget(QueryView view) {
        for (PublishedSeries ps : view.members[index].values()) {
            if (--ps.views == 0) {
                published.remove(ps.key);
                registry.releaseSeries(1);
            }
        }
        view.members[index].clear();
    }
}
