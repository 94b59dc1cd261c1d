package dev.meterline.query;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What the store held is trusted only at the departure count it was read at, and for a bounded set of metrics. */
class StoreHorizonsTest {

    private final StoreHorizons horizons = new StoreHorizons();

    @Test
    void nothingIsKnownBeforeTheStoreWasRead() {
        assertFalse(horizons.holdsNothingFrom("cpu", 1_000, 0));
    }

    @Test
    void aRangeFromAfterTheNewestStartNeedsNoStoreWhileNoFlushLeftPending() {
        horizons.learn("cpu", 3, 10_000);

        assertTrue(horizons.holdsNothingFrom("cpu", 10_001, 3));
        assertFalse(horizons.holdsNothingFrom("cpu", 10_000, 3), "the newest window itself is in the range");
        assertFalse(horizons.holdsNothingFrom("cpu", 20_000, 4), "a flush has left pending since");
        assertFalse(horizons.holdsNothingFrom("mem", 20_000, 3), "another metric is not known");
    }

    @Test
    void aLaterCountForgetsEveryMetricAndAnEarlierOneIsIgnored() {
        horizons.learn("cpu", 3, 10_000);
        horizons.learn("mem", 3, 10_000);
        horizons.learn("cpu", 4, 20_000);
        horizons.learn("mem", 2, 0);

        assertTrue(horizons.holdsNothingFrom("cpu", 20_001, 4));
        assertFalse(horizons.holdsNothingFrom("mem", 20_001, 4));
        assertEquals(1, horizons.size());
    }

    @Test
    void atTheBoundANewMetricIsNotRememberedAndAKnownOneIsUpdated() {
        for (int i = 0; i < StoreHorizons.MAX_METRICS; i++) {
            horizons.learn("m" + i, 1, 10_000);
        }
        horizons.learn("one.more", 1, 10_000);
        horizons.learn("m0", 1, 30_000);

        assertEquals(StoreHorizons.MAX_METRICS, horizons.size());
        assertFalse(horizons.holdsNothingFrom("one.more", 20_000, 1), "read from the store as if nothing were known");
        assertFalse(horizons.holdsNothingFrom("m0", 20_000, 1));
        assertTrue(horizons.holdsNothingFrom("m1", 20_000, 1));
    }
}
