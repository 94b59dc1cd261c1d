package dev.meterline.config;

import java.time.Duration;

/**
 * Windowing and flushing: window size, allowed lateness, flush interval, the series budget (in total and per
 * metric), the shard count, the backoff after a failed flush (first wait, doubled up to the longest), and the share
 * of the flush interval, in percent, over which a large flush is spread (0: written at full speed).
 */
public record AggregationConfig(Duration window, Duration lateness, Duration flushInterval, int maxSeries,
                                int shards, int maxSeriesPerMetric, Duration flushBackoff, Duration flushBackoffMax,
                                int flushSpreadPercent) {

    /** The default of {@code flush-spread}, in percent of the flush interval. */
    public static final int DEFAULT_FLUSH_SPREAD = 80;
    /** The largest {@code flush-spread}: the flush ends before the next tick, so no tick is skipped for pacing. */
    public static final int MAX_FLUSH_SPREAD = 90;

    /** The default of {@code flush-backoff}. */
    public static final Duration DEFAULT_FLUSH_BACKOFF = Duration.ofMillis(100);
    /** The default of {@code flush-backoff-max}. */
    public static final Duration DEFAULT_FLUSH_BACKOFF_MAX = Duration.ofSeconds(10);

    public AggregationConfig {
        if (flushBackoff.isNegative() || flushBackoff.isZero()) {
            throw new IllegalArgumentException("flushBackoff: " + flushBackoff + " (expected: > 0)");
        }
        if (flushBackoffMax.compareTo(flushBackoff) < 0) {
            throw new IllegalArgumentException("flushBackoffMax: " + flushBackoffMax + " (expected: >= flushBackoff "
                    + flushBackoff + ")");
        }
        if (flushSpreadPercent < 0 || flushSpreadPercent > MAX_FLUSH_SPREAD) {
            throw new IllegalArgumentException("flushSpreadPercent: " + flushSpreadPercent + " (expected: 0 to "
                    + MAX_FLUSH_SPREAD + ")");
        }
    }

    /** With the default flush spread. */
    public AggregationConfig(Duration window, Duration lateness, Duration flushInterval, int maxSeries, int shards,
                             int maxSeriesPerMetric, Duration flushBackoff, Duration flushBackoffMax) {
        this(window, lateness, flushInterval, maxSeries, shards, maxSeriesPerMetric, flushBackoff, flushBackoffMax,
                DEFAULT_FLUSH_SPREAD);
    }

    /** With the default flush backoff. */
    public AggregationConfig(Duration window, Duration lateness, Duration flushInterval, int maxSeries, int shards,
                             int maxSeriesPerMetric) {
        this(window, lateness, flushInterval, maxSeries, shards, maxSeriesPerMetric, DEFAULT_FLUSH_BACKOFF,
                DEFAULT_FLUSH_BACKOFF_MAX);
    }

    /** Without a separate per-metric limit: one metric may take the whole budget. */
    public AggregationConfig(Duration window, Duration lateness, Duration flushInterval, int maxSeries, int shards) {
        this(window, lateness, flushInterval, maxSeries, shards, maxSeries);
    }
}
