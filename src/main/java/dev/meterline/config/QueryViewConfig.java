package dev.meterline.config;

import java.time.Duration;

/**
 * The published open windows that answer repeated {@code /api/v1/aggregates} queries without a shard: how many query
 * shapes (a metric and its tag filters) are kept, how many series they may hold in all, and how long a shape nobody
 * asks for is kept.
 */
public record QueryViewConfig(int maxViews, int maxSeries, Duration idle) {

    public static final QueryViewConfig DEFAULTS = new QueryViewConfig(64, 1000, Duration.ofMinutes(5));

    public QueryViewConfig {
        if (maxViews < 0) {
            throw new IllegalArgumentException("maxViews: " + maxViews + " (expected: >= 0)");
        }
        if (maxSeries < 0) {
            throw new IllegalArgumentException("maxSeries: " + maxSeries + " (expected: >= 0)");
        }
        if (idle == null || idle.isZero() || idle.isNegative()) {
            throw new IllegalArgumentException("idle: " + idle + " (expected: > 0)");
        }
    }
}
