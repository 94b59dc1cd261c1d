package dev.meterline.config;

import java.time.Duration;

/**
 * The Prometheus-compatible query API's bounds: points per series of a range query, view series one query may read,
 * how long a query may run, the longest regular expression in a matcher, how far back an instant query looks for a
 * window, and the series one listing ({@code /labels}, {@code /label/<name>/values}, {@code /series}) may read.
 */
public record PromQueryConfig(int maxPoints, int maxSeries, Duration timeout, int maxRegexLength, Duration lookback,
                              int maxListedSeries) {

    public static final PromQueryConfig DEFAULTS = new PromQueryConfig(11_000, 100_000, Duration.ofMinutes(2), 1024,
            Duration.ofMinutes(5), 1_000_000);

    /** As the canonical constructor, with the default bound of listings. */
    public PromQueryConfig(int maxPoints, int maxSeries, Duration timeout, int maxRegexLength, Duration lookback) {
        this(maxPoints, maxSeries, timeout, maxRegexLength, lookback, 1_000_000);
    }

    public PromQueryConfig {
        if (maxPoints < 1) {
            throw new IllegalArgumentException("maxPoints: " + maxPoints + " (expected: > 0)");
        }
        if (maxSeries < 1) {
            throw new IllegalArgumentException("maxSeries: " + maxSeries + " (expected: > 0)");
        }
        if (timeout == null || timeout.isZero() || timeout.isNegative()) {
            throw new IllegalArgumentException("timeout: " + timeout + " (expected: > 0)");
        }
        if (maxRegexLength < 1) {
            throw new IllegalArgumentException("maxRegexLength: " + maxRegexLength + " (expected: > 0)");
        }
        if (lookback == null || lookback.isZero() || lookback.isNegative()) {
            throw new IllegalArgumentException("lookback: " + lookback + " (expected: > 0)");
        }
        if (maxListedSeries < 1) {
            throw new IllegalArgumentException("maxListedSeries: " + maxListedSeries + " (expected: > 0)");
        }
    }
}
