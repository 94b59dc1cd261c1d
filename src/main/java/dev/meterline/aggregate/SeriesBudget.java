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

    /** The value of a metric's count that left {@link #byMetric}: never taken again. */
    private static final long RETIRED = Long.MIN_VALUE;

    private final long limit;
    private final long perMetricLimit;
    private final AtomicLong active = new AtomicLong();
    private final AtomicLong refused = new AtomicLong();
    private final AtomicLong refusedPerMetric = new AtomicLong();
    /**
     * Active series per metric; entries exist only while the metric has some, so the map is bounded by them. A
     * count that falls to zero is retired ({@link #RETIRED}) before it leaves the map, so that a shard that found it
     * there takes a new one rather than a unit nobody counts.
     */
    private final Map<String, AtomicLong> byMetric = new ConcurrentHashMap<>();

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
        if (acquireCount(metric, false) == null) {
            refusedPerMetric(1);
            return RejectReason.METRIC_SERIES_LIMIT;
        }
        return null;
    }

    /** Takes one unit for a series of {@code metric} whatever the limits (a series read back from the log). */
    void forceAcquire(String metric) {
        forceAcquire();
        acquireCount(metric, true);
    }

    /** Takes one global unit whatever the limit. */
    void forceAcquire() {
        active.incrementAndGet();
    }

    /**
     * Takes one unit of {@code metric}'s count, within its limit unless {@code force}, and returns the count, which
     * stays live while the caller holds a unit of it; null when the metric is at its limit (the global unit is the
     * caller's to give back).
     */
    AtomicLong acquireCount(String metric, boolean force) {
        while (true) {
            AtomicLong count = byMetric.computeIfAbsent(metric, m -> new AtomicLong());
            long n = count.get();
            if (n == RETIRED) {
                // Its last series left; the map's next look-up gives a new count once this one is out.
                byMetric.remove(metric, count);
            } else if (!force && n >= perMetricLimit) {
                if (n == 0 && count.compareAndSet(0, RETIRED)) {
                    // A limit of zero: the count made for this look-up leaves with it.
                    byMetric.remove(metric, count);
                }
                return null;
            } else if (count.compareAndSet(n, n + 1)) {
                return count;
            }
        }
    }

    /**
     * Takes one more unit of a count from {@link #acquireCount} of which the caller holds a unit (so it is live),
     * within the per-metric limit; false when the metric is at its limit.
     */
    boolean takeUnit(AtomicLong count) {
        while (true) {
            long n = count.get();
            if (n >= perMetricLimit) {
                return false;
            }
            if (count.compareAndSet(n, n + 1)) {
                return true;
            }
        }
    }

    /** {@link #takeUnit} past the per-metric limit (a series read back from the log). */
    void forceUnit(AtomicLong count) {
        count.incrementAndGet();
    }

    /** Gives back the global units of {@code n} new series refused for their metric's limit, and counts them. */
    void refusedPerMetric(int n) {
        release(n);
        refusedPerMetric.addAndGet(n);
    }

    void release(int n) {
        active.addAndGet(-n);
    }

    /** Gives back {@code n} units of {@code metric}. */
    void release(String metric, int n) {
        AtomicLong count = byMetric.get(metric);
        if (count != null) {
            release(metric, count, n);
        } else {
            release(n);
        }
    }

    /** Gives back {@code n} units of {@code metric}, whose count (from {@link #acquireCount}) is {@code count}. */
    void release(String metric, AtomicLong count, int n) {
        if (count.addAndGet(-n) <= 0 && count.compareAndSet(0, RETIRED)) {
            byMetric.remove(metric, count);
        }
        release(n);
    }

    /** Metrics with active series, for tests: the map holds no other. */
    int metrics() {
        return byMetric.size();
    }

    /** Active series of {@code metric}, for tests. */
    long active(String metric) {
        AtomicLong count = byMetric.get(metric);
        return count == null ? 0 : Math.max(0, count.get());
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
