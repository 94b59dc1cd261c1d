package dev.meterline.aggregate;

import dev.meterline.model.RejectReason;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The active-series budget shared by all shards: a series takes one unit while it has an open window, from the
 * global budget and from its metric's, so one exploding metric cannot take the budget of the others.
 */
public final class SeriesBudget {

    private final long limit;
    private final long perMetricLimit;
    private final AtomicLong active = new AtomicLong();
    private final AtomicLong refused = new AtomicLong();
    private final AtomicLong refusedPerMetric = new AtomicLong();
    /** Active series per metric; entries exist only while the metric has some, so the map is bounded by them. */
    private final Map<String, Long> byMetric = new ConcurrentHashMap<>();

    public SeriesBudget(long limit) {
        this(limit, limit);
    }

    public SeriesBudget(long limit, long perMetricLimit) {
        this.limit = limit;
        this.perMetricLimit = perMetricLimit;
    }

    /** Takes one unit for a new series; false (and counted) when the budget is spent. */
    boolean tryAcquire() {
        while (true) {
            long n = active.get();
            if (n >= limit) {
                refused.incrementAndGet();
                return false;
            }
            if (active.compareAndSet(n, n + 1)) {
                return true;
            }
        }
    }

    /** Takes one unit for a new series of {@code metric}; null when taken, else why not (counted). */
    RejectReason tryAcquire(String metric) {
        if (!tryAcquire()) {
            return RejectReason.SERIES_LIMIT;
        }
        boolean[] full = new boolean[1];
        byMetric.compute(metric, (k, n) -> {
            long now = n == null ? 0 : n;
            if (now >= perMetricLimit) {
                full[0] = true;
                return n;
            }
            return now + 1;
        });
        if (full[0]) {
            release(1);
            refusedPerMetric.incrementAndGet();
            return RejectReason.METRIC_SERIES_LIMIT;
        }
        return null;
    }

    /** Takes one unit for a series of {@code metric} whatever the limits (a series read back from the log). */
    void forceAcquire(String metric) {
        active.incrementAndGet();
        byMetric.merge(metric, 1L, Long::sum);
    }

    void release(int n) {
        active.addAndGet(-n);
    }

    /** Gives back {@code n} units of {@code metric}. */
    void release(String metric, int n) {
        byMetric.computeIfPresent(metric, (k, v) -> v <= n ? null : v - n);
        release(n);
    }

    /** Metrics with active series, for tests: the map holds no other. */
    int metrics() {
        return byMetric.size();
    }

    /** Active series of {@code metric}, for tests. */
    long active(String metric) {
        return byMetric.getOrDefault(metric, 0L);
    }

    public long active() {
        return active.get();
    }

    public long limit() {
        return limit;
    }

    public long perMetricLimit() {
        return perMetricLimit;
    }

    /** Points refused because they would have created one series too many. */
    public long refused() {
        return refused.get();
    }

    /** Points refused because their metric had {@link #perMetricLimit()} active series already. */
    public long refusedPerMetric() {
        return refusedPerMetric.get();
    }
}
