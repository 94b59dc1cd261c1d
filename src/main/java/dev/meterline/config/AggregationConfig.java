package dev.meterline.config;

import java.time.Duration;

/**
 * Windowing and flushing: window size, allowed lateness, flush interval, the series budget (in total and per
 * metric) and the shard count.
 */
public record AggregationConfig(Duration window, Duration lateness, Duration flushInterval, int maxSeries,
                                int shards, int maxSeriesPerMetric) {

    /** Without a separate per-metric limit: one metric may take the whole budget. */
    public AggregationConfig(Duration window, Duration lateness, Duration flushInterval, int maxSeries, int shards) {
        this(window, lateness, flushInterval, maxSeries, shards, maxSeries);
    }
}
