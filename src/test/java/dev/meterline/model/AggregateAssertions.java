package dev.meterline.model;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/** Assertions that two aggregates are the same window's summary, for the tests of every place a window is held in. */
public final class AggregateAssertions {

    private static final double[] QUANTILES = {0.0, 0.1, 0.5, 0.9, 0.99, 1.0};

    private AggregateAssertions() {
    }

    /**
     * Every reading, quantile and the encoding of {@code actual} are those of {@code expected} (zeros by sign); the
     * quantiles and the encoding are read on copies, so that neither aggregate's bins change form.
     */
    public static void assertSameContents(Aggregate expected, Aggregate actual, String what) {
        assertNotNull(actual, what);
        assertEquals(expected.count(), actual.count(), what);
        assertEquals(expected.sum(), actual.sum(), what);
        assertEquals(expected.min(), actual.min(), what);
        assertEquals(expected.max(), actual.max(), what);
        assertEquals(expected.last(), actual.last(), what);
        assertEquals(expected.firstTimestamp(), actual.firstTimestamp(), what);
        assertEquals(expected.lastTimestamp(), actual.lastTimestamp(), what);
        assertEquals(expected.late(), actual.late(), what);
        assertEquals(Arrays.toString(expected.copy().sketchBytes()), Arrays.toString(actual.copy().sketchBytes()),
                what);
        for (double q : QUANTILES) {
            assertEquals(expected.copy().valueAtQuantile(q), actual.copy().valueAtQuantile(q), what + " q" + q);
        }
    }
}
