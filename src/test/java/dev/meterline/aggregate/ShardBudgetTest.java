package dev.meterline.aggregate;

import dev.meterline.model.RejectReason;
import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntFunction;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * Shards taking from one budget through their own views: the limits hold exactly at their bounds, whichever shard
 * takes or gives back a unit, and a metric's shared count leaves with its last series in any shard.
 */
class ShardBudgetTest {

    @Test
    void aMetricsLimitHoldsAcrossShards() {
        SeriesBudget budget = new SeriesBudget(10, 3);
        ShardBudget one = new ShardBudget(budget);
        ShardBudget two = new ShardBudget(budget);
        assertNull(one.tryAcquire("a"));
        assertNull(two.tryAcquire("a"));
        assertNull(one.tryAcquire("a"));
        assertEquals(RejectReason.METRIC_SERIES_LIMIT, two.tryAcquire("a"));
        assertEquals(RejectReason.METRIC_SERIES_LIMIT, one.tryAcquire("a"));
        assertEquals(2, budget.refusedPerMetric());
        assertEquals(3, budget.active(), "the refused ones' global units are given back");
        one.release("a", 1);
        assertNull(two.tryAcquire("a"), "a unit one shard gives back is the other's to take");
        assertEquals(3, budget.active("a"));
        assertNull(two.tryAcquire("b"));
        assertEquals(4, budget.active());
    }

    @Test
    void theGlobalLimitHoldsAcrossShards() {
        SeriesBudget budget = new SeriesBudget(2, 5);
        ShardBudget one = new ShardBudget(budget);
        ShardBudget two = new ShardBudget(budget);
        assertNull(one.tryAcquire("a"));
        assertNull(two.tryAcquire("b"));
        assertEquals(RejectReason.SERIES_LIMIT, one.tryAcquire("a"));
        assertEquals(RejectReason.SERIES_LIMIT, two.tryAcquire("c"));
        assertEquals(2, budget.refused());
        assertEquals(0, budget.refusedPerMetric());
        assertEquals(2, budget.metrics(), "the refused metric has no entry");
        two.release("b", 1);
        assertNull(one.tryAcquire("c"));
    }

    @Test
    void aMetricsCountLeavesWithItsLastSeriesInAnyShardAndComesBack() {
        SeriesBudget budget = new SeriesBudget(10, 2);
        ShardBudget one = new ShardBudget(budget);
        ShardBudget two = new ShardBudget(budget);
        assertNull(one.tryAcquire("a"));
        assertNull(two.tryAcquire("a"));
        one.release("a", 1);
        assertEquals(0, one.metrics(), "the shard forgets a metric it holds no unit of");
        assertEquals(1, budget.metrics(), "the other shard still holds one");
        two.release("a", 1);
        assertEquals(0, budget.metrics());
        assertEquals(0, budget.active());
        assertNull(one.tryAcquire("a"));
        assertNull(two.tryAcquire("a"));
        assertEquals(RejectReason.METRIC_SERIES_LIMIT, one.tryAcquire("a"), "the new count has the same limit");
        assertEquals(2, budget.active("a"));
    }

    @Test
    void aSeriesReadBackFromTheLogIsTakenPastEveryLimitAndGivenBack() {
        SeriesBudget budget = new SeriesBudget(1, 1);
        ShardBudget one = new ShardBudget(budget);
        one.forceAcquire("a");
        one.forceAcquire("a");
        assertEquals(2, budget.active());
        assertEquals(2, budget.active("a"));
        assertEquals(RejectReason.SERIES_LIMIT, one.tryAcquire("b"));
        one.release("a", 2);
        assertEquals(0, budget.metrics());
        assertEquals(0, budget.active());
        assertNull(one.tryAcquire("a"));
    }

    /** Two shards racing for a budget with fewer units than they ask for: exactly the limit is taken, never more. */
    @Test
    void shardsRacingForTheLastUnitsTakeExactlyTheLimit() throws Exception {
        for (int round = 0; round < 200; round++) {
            long globalLimit = 1 + round % 7;
            SeriesBudget global = new SeriesBudget(globalLimit, 1_000);
            long[] taken = race(global, 2, 10, i -> "m" + (i % 3));
            assertEquals(globalLimit, taken[0] + taken[1], "round " + round);
            assertEquals(globalLimit, global.active());
            assertEquals(2 * 10 - globalLimit, global.refused());

            long metricLimit = 1 + round % 5;
            SeriesBudget perMetric = new SeriesBudget(1_000, metricLimit);
            taken = race(perMetric, 2, 10, i -> "a");
            assertEquals(metricLimit, taken[0] + taken[1], "round " + round);
            assertEquals(metricLimit, perMetric.active("a"));
            assertEquals(metricLimit, perMetric.active());
            assertEquals(2 * 10 - metricLimit, perMetric.refusedPerMetric());
        }
    }

    private static long[] race(SeriesBudget budget, int shards, int asks, IntFunction<String> metric)
            throws Exception {
        long[] taken = new long[shards];
        ShardBudget[] views = new ShardBudget[shards];
        for (int t = 0; t < shards; t++) {
            views[t] = new ShardBudget(budget);
        }
        Together.run(shards, shard -> {
            for (int i = 0; i < asks; i++) {
                if (views[shard].tryAcquire(metric.apply(i)) == null) {
                    taken[shard]++;
                }
            }
        });
        return taken;
    }

    /**
     * Shards that take and give back series of the same two metrics, so that the metrics' counts retire and come
     * back under them: every count agrees, and nothing is left once all is given back.
     */
    @Test
    void shardsTakingAndGivingBackAgreeOnEveryCount() throws Exception {
        int shards = 2;
        int rounds = 50_000;
        long perMetric = 3;
        SeriesBudget budget = new SeriesBudget(1_000, perMetric);
        AtomicLong taken = new AtomicLong();
        Together.run(shards, seed -> {
            ShardBudget view = new ShardBudget(budget);
            for (int r = 0; r < rounds; r++) {
                String metric = "m" + ((r / 2 + seed) % 2);
                if (view.tryAcquire(metric) == null) {
                    taken.incrementAndGet();
                    long now = budget.active(metric);
                    if (now < 1 || now > perMetric) {
                        throw new AssertionError(metric + " counted " + now + " with a unit held");
                    }
                    view.release(metric, 1);
                }
            }
            if (view.metrics() != 0) {
                throw new AssertionError("the shard kept " + view.metrics() + " metrics with no unit");
            }
        });
        assertEquals(0, budget.active());
        assertEquals(0, budget.metrics(), "every count left with its metric's last series");
        assertEquals(shards * (long) rounds - taken.get(), budget.refusedPerMetric());
    }
}
