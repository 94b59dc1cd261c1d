package dev.meterline.config;

import java.time.Duration;
import java.util.List;

/**
 * Point validation and enrichment: tag limits, the accepted event-time range, and static tags added to every point
 * (alternating key, value; a tag the point already has wins).
 */
public record ValidationConfig(int maxTags, Duration maxFutureSkew, Duration maxAge, List<String> staticTags,
                               int workers) {
}
