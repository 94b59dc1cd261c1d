package dev.meterline.aggregate;

import dev.meterline.config.QueryViewConfig;
import dev.meterline.model.SeriesKey;
import dev.meterline.model.Window;
import dev.meterline.telemetry.MeterNames;
import dev.meterline.telemetry.PipelineMetrics;
import io.micrometer.core.instrument.Counter;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Open windows published for queries, so that a query asked again needs no shard thread: the first query of a shape
 * (a metric and its tag filters) asks the shards, which register the shape as a view and from then on publish, after
 * each part and each close, immutable copies of the windows of the series that match it. A query reads them with
 * volatile reads from its own thread.
 *
 * <p>A view is exact as the shards' own answer is: a part's series are published before its batch is told (so a
 * point acknowledged is in the next read), and a read is taken only while no shard is closing and no shard has
 * closed a published window in a flush whose windows are not yet all pending; otherwise the query asks the shards.
 * Bounded by {@link QueryViewConfig}: the number of views, the series they publish in all (a view that would pass
 * it is dropped, and its queries ask the shards), and the time a view stays without a reader.
 */
final class QueryViews {

    private final QueryViewConfig config;
    private final ShardViews[] shards;
    private final ConcurrentHashMap<QueryView.Key, QueryView> views = new ConcurrentHashMap<>();
    private final AtomicInteger series = new AtomicInteger();
    /** Raised whenever a view is dropped, so that each shard forgets it at its next command. */
    private final AtomicLong generation = new AtomicLong();
    /** The last flush whose windows were all pending when it was recorded (see {@link #registered}). */
    private final AtomicLong registeredSeq = new AtomicLong();
    private final Counter refused;
    private final Counter reads;
    private final Counter misses;
    private volatile boolean stopped;

    QueryViews(QueryViewConfig config, int shardCount, PipelineMetrics metrics) {
        this.config = config;
        this.shards = new ShardViews[shardCount];
        for (int i = 0; i < shardCount; i++) {
            shards[i] = new ShardViews(i, this);
        }
        metrics.level("queryViews", MeterNames.QUERY_VIEWS, "query shapes whose open windows are published",
                views::size);
        metrics.level("queryViewSeries", MeterNames.QUERY_VIEW_SERIES, "series published for query views",
                series::get);
        this.refused = Counter.builder(MeterNames.QUERY_VIEWS_REFUSED)
                .description("query views not kept or dropped at the bound of query-views or query-view-series")
                .register(metrics.registry());
        this.reads = Counter.builder(MeterNames.QUERY_VIEW_READS)
                .description("queries answered from published open windows, without a shard")
                .register(metrics.registry());
        this.misses = Counter.builder(MeterNames.QUERY_VIEW_MISSES)
                .description("queries of a published shape that asked the shards (a close under way, or the view "
                        + "not ready)")
                .register(metrics.registry());
    }

    ShardViews shard(int i) {
        return shards[i];
    }

    /**
     * The open windows of {@code metric}'s series passing {@code tags} and {@code filter} (null for none) that start
     * in {@code [from, to)}, from a ready view; null when there is none or it cannot be read consistently now.
     */
    Aggregation.Snapshot read(String metric, Map<String, List<String>> tags, NamedFilter filter, long from, long to,
                              long now) {
        if (stopped) {
            return null;
        }
        QueryView v = views.get(QueryView.keyOf(metric, tags, filter));
        if (v == null) {
            return null;
        }
        if (!v.ready || v.dead) {
            misses.increment();
            return null;
        }
        v.lastUsed = now;
        long seq = registeredSeq.get();
        List<Window> out = new ArrayList<>();
        for (int i = 0; i < shards.length; i++) {
            ShardViews s = shards[i];
            long epoch = s.epoch;
            if ((epoch & 1) != 0 || s.changedSeq > seq) {
                misses.increment();
                return null;
            }
            for (PublishedSeries ps : v.members[i].values()) {
                for (Window w : ps.windows) {
                    if (w.start() >= from && w.start() < to) {
                        out.add(w);
                    }
                }
            }
            if (s.epoch != epoch) {
                misses.increment();
                return null;
            }
        }
        if (v.dead || stopped) {
            misses.increment();
            return null;
        }
        reads.increment();
        return new Aggregation.Snapshot(out, seq);
    }

    /**
     * A new view of {@code metric}, {@code tags} and {@code filter} (null for none), for the caller's ask to register
     * on every shard; null when one exists already, views are off or stopped, or the bound of views is reached.
     */
    QueryView create(String metric, Map<String, List<String>> tags, NamedFilter filter, long now) {
        if (stopped || config.maxViews() == 0 || config.maxSeries() == 0) {
            return null;
        }
        QueryView.Key key = QueryView.keyOf(metric, copy(tags), filter);
        QueryView existing = views.get(key);
        if (existing != null && !existing.dead) {
            return null;
        }
        if (views.size() >= config.maxViews()) {
            refused.increment();
            return null;
        }
        QueryView v = new QueryView(key, filter, shards.length, now);
        boolean taken = existing == null ? views.putIfAbsent(key, v) == null : views.replace(key, existing, v);
        return taken ? v : null;
    }

    private static Map<String, List<String>> copy(Map<String, List<String>> tags) {
        Map<String, List<String>> out = new java.util.HashMap<>();
        tags.forEach((k, values) -> out.put(k, List.copyOf(values)));
        return Map.copyOf(out);
    }

    /** Drops {@code view}: queries stop reading it, and each shard forgets it at its next command. */
    void drop(QueryView view, boolean atBound) {
        if (view.dead) {
            return;
        }
        view.dead = true;
        views.remove(view.key, view);
        generation.incrementAndGet();
        if (atBound) {
            refused.increment();
        }
    }

    boolean idle(QueryView view, long now) {
        return now - view.lastUsed >= config.idle().toMillis();
    }

    long generation() {
        return generation.get();
    }

    /** Takes {@code n} more published series within the bound; false (and none taken) when they would pass it. */
    boolean reserveSeries(int n) {
        if (series.addAndGet(n) > config.maxSeries()) {
            series.addAndGet(-n);
            return false;
        }
        return true;
    }

    void releaseSeries(int n) {
        series.addAndGet(-n);
    }

    /** Flush {@code seq}'s windows are all pending (or stored): a read may count on them there. */
    void registered(long seq) {
        registeredSeq.accumulateAndGet(seq, Math::max);
    }

    /** The shards hand over every window: from now on queries ask them (and learn that the pipeline stops). */
    void stop() {
        stopped = true;
    }

    /** Whether {@code series} of {@code metric} passes {@code tags}; the filter of a view's first query. */
    static boolean passes(Map<String, List<String>> tags, SeriesKey series) {
        return QueryView.passes(tags, series);
    }
}
