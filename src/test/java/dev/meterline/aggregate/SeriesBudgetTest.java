package dev.meterline.aggregate;

import dev.meterline.model.RejectReason;
import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The shared series budget: both limits hold at their bound, and a metric's entry lives only while it has series. */
class SeriesBudgetTest {

    @Test
    void aMetricAtItsLimitIsRefusedWhileOthersStillTake() {
        SeriesBudget budget = new SeriesBudget(10, 3);
        for (int i = 0; i < 3; i++) {
            assertNull(budget.tryAcquire("a"));
        }
        assertEquals(RejectReason.METRIC_SERIES_LIMIT, budget.tryAcquire("a"));
        assertEquals(1, budget.refusedPerMetric());
        assertEquals(3, budget.active(), "the refused one's global unit is given back");
        assertNull(budget.tryAcquire("b"));
        budget.release("a", 1);
        assertNull(budget.tryAcquire("a"), "a unit given back is taken again");
        assertEquals(3, budget.active("a"));
        assertEquals(1, budget.active("b"));
    }

    @Test
    void theGlobalLimitComesFirst() {
        SeriesBudget budget = new SeriesBudget(2, 5);
        assertNull(budget.tryAcquire("a"));
        assertNull(budget.tryAcquire("b"));
        assertEquals(RejectReason.SERIES_LIMIT, budget.tryAcquire("c"));
        assertEquals(1, budget.refused());
        assertEquals(0, budget.refusedPerMetric());
        assertEquals(2, budget.metrics(), "the refused metric has no entry");
    }

    @Test
    void aMetricsEntryLeavesWithItsLastSeriesAndComesBackWithTheNext() {
        SeriesBudget budget = new SeriesBudget(10, 10);
        assertNull(budget.tryAcquire("a"));
        assertNull(budget.tryAcquire("a"));
        budget.release("a", 2);
        assertEquals(0, budget.metrics());
        assertEquals(0, budget.active());
        assertNull(budget.tryAcquire("a"));
        assertEquals(1, budget.active("a"));
        assertEquals(1, budget.metrics());
    }

    @Test
    void aSeriesReadBackFromTheLogIsTakenPastEveryLimit() {
        SeriesBudget budget = new SeriesBudget(1, 1);
        budget.forceAcquire("a");
        budget.forceAcquire("a");
        assertEquals(2, budget.active());
        assertEquals(2, budget.active("a"));
        assertEquals(RejectReason.SERIES_LIMIT, budget.tryAcquire("b"));
        budget.release("a", 2);
        assertEquals(0, budget.metrics());
    }

    @Test
    void aZeroLimitPerMetricRefusesEverySeries() {
        SeriesBudget budget = new SeriesBudget(10, 0);
        assertEquals(RejectReason.METRIC_SERIES_LIMIT, budget.tryAcquire("a"));
        assertEquals(0, budget.active());
        assertEquals(0, budget.metrics());
    }

    /** Threads that take and give back series of the same few metrics, so entries leave and come back under them. */
    @Test
    void threadsTakingAndGivingBackAgreeOnEveryCount() throws Exception {
        int threads = 4;
        int rounds = 20_000;
        long perMetric = 3;
        SeriesBudget budget = new SeriesBudget(1_000, perMetric);
        AtomicLong taken = new AtomicLong();
        Together.run(threads, seed -> {
            for (int r = 0; r < rounds; r++) {
                String metric = "m" + ((r + seed) % 2);
                if (budget.tryAcquire(metric) == null) {
                    taken.incrementAndGet();
                    long now = budget.active(metric);
                    if (now < 1 || now > perMetric) {
                        throw new AssertionError(metric + " counted " + now + " with a unit held");
                    }
                    budget.release(metric, 1);
                }
            }
        });
        assertTrue(taken.get() > rounds, "most rounds took a unit: " + taken.get());
        assertEquals(0, budget.active());
        assertEquals(0, budget.metrics(), "every entry left with its metric's last series");
        assertEquals(threads * (long) rounds - taken.get(), budget.refusedPerMetric());
    }
}
