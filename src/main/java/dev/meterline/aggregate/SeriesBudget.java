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

    /** The count of a metric's counter once its entry is leaving the map. */
    private static final long GONE = -1;

    private final long limit;
    private final long perMetricLimit;
    private final AtomicLong active = new AtomicLong();
    private final AtomicLong refused = new AtomicLong();
    private final AtomicLong refusedPerMetric = new AtomicLong();
    /**
     * Active series per metric; entries exist only while the metric has some, so the map is bounded by them. Each
     * metric's count is a counter of its own, taken and given back by compare-and-set without a lock or a boxed
     * value per series; a count that fell to zero is set to {@link #GONE} before its entry leaves, and a taker that
     * meets a gone counter removes the entry itself if it is still there and looks again.
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
        if (!take(metric, perMetricLimit)) {
            release(1);
            refusedPerMetric.incrementAndGet();
            return RejectReason.METRIC_SERIES_LIMIT;
        }
        return null;
    }

    /** Takes one unit for a series of {@code metric} whatever the limits (a series read back from the log). */
    void forceAcquire(String metric) {
        active.incrementAndGet();
        take(metric, Long.MAX_VALUE);
    }

    /** Adds one to {@code metric}'s count unless it is at {@code max} already; true when added. */
    private boolean take(String metric, long max) {
        while (true) {
            AtomicLong count = byMetric.get(metric);
            if (count == null) {
                if (max < 1) {
                    return false;
                }
                count = byMetric.putIfAbsent(metric, new AtomicLong(1));
                if (count == null) {
                    return true;
                }
            }
            long n;
            while ((n = count.get()) != GONE) {
                if (n >= max) {
                    return false;
                }
                if (count.compareAndSet(n, n + 1)) {
                    return true;
                }
            }
            // Its last series left while this one came: the entry goes (whoever removes it), then a fresh one.
            byMetric.remove(metric, count);
        }
    }

    void release(int n) {
        active.addAndGet(-n);
    }

    /** Gives back {@code n} units of {@code metric}. */
    void release(String metric, int n) {
        AtomicLong count = byMetric.get(metric);
        if (count != null) {
            long left = count.addAndGet(-n);
            if (left <= 0 && count.compareAndSet(left, GONE)) {
                byMetric.remove(metric, count);
            }
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
