package dev.meterline.config;

import java.time.Duration;

/** Windowing and flushing: window size, allowed lateness, flush interval, the series budget and the shard count. */
public record AggregationConfig(Duration window, Duration lateness, Duration flushInterval, int maxSeries,
                                int shards) {
}
