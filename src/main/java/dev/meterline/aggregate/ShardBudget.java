package dev.meterline.aggregate;

import dev.meterline.model.RejectReason;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The series budget as one shard takes from it: the shared count of a metric is looked up once and kept while the
 * shard has series of the metric, so that a new series costs two atomic updates rather than a locked update of the
 * shared map (and the lambda and boxed count with it). The limits hold exactly as in {@link SeriesBudget}: every
 * unit is still taken from the shared counts. Owned by its shard's thread.
 */
final class ShardBudget {

    /** A metric's shared count and how many of its units this shard holds. */
    private static final class Held {
        final AtomicLong count;
        int units = 1;

        Held(AtomicLong count) {
            this.count = count;
        }
    }

    private final SeriesBudget budget;
    /** The metrics this shard holds units of; an entry leaves with its last unit, so the map is bounded by them. */
    private final Map<String, Held> held = new HashMap<>();

    ShardBudget(SeriesBudget budget) {
        this.budget = budget;
    }

    /** Takes one unit for a new series of {@code metric}; null when taken, else why not (counted). */
    RejectReason tryAcquire(String metric) {
        if (!budget.tryAcquire()) {
            return RejectReason.SERIES_LIMIT;
        }
        Held h = held.get(metric);
        if (h != null) {
            if (!budget.takeUnit(h.count)) {
                budget.refusedPerMetric(1);
                return RejectReason.METRIC_SERIES_LIMIT;
            }
            h.units++;
            return null;
        }
        AtomicLong count = budget.acquireCount(metric, false);
        if (count == null) {
            budget.refusedPerMetric(1);
            return RejectReason.METRIC_SERIES_LIMIT;
        }
        held.put(metric, new Held(count));
        return null;
    }

    /** Takes one unit for a series of {@code metric} whatever the limits (a series read back from the log). */
    void forceAcquire(String metric) {
        budget.forceAcquire();
        Held h = held.get(metric);
        if (h != null) {
            budget.forceUnit(h.count);
            h.units++;
        } else {
            held.put(metric, new Held(budget.acquireCount(metric, true)));
        }
    }

    /** Gives back {@code n} units of {@code metric}, which this shard took. */
    void release(String metric, int n) {
        Held h = held.get(metric);
        if (h == null) {
            budget.release(metric, n);
            return;
        }
        h.units -= n;
        if (h.units <= 0) {
            held.remove(metric);
        }
        budget.release(metric, h.count, n);
    }

    /** Metrics this shard holds units of, for tests. */
    int metrics() {
        return held.size();
    }
}
