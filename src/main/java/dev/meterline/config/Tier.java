package dev.meterline.config;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** A storage tier: windows of {@code resolution} kept for {@code retention}. */
public record Tier(Duration resolution, Duration retention) {

    /**
     * Parses {@code 10s:24h,1m:30d,1h:1y}: resolutions strictly increasing, each a multiple of the previous one,
     * retentions increasing and each longer than its resolution.
     */
    public static List<Tier> parseList(String text) {
        List<Tier> tiers = new ArrayList<>();
        for (String part : text.split(",")) {
            String[] rr = part.trim().split(":");
            if (rr.length != 2) {
                throw new IllegalArgumentException("'" + part + "' (expected: resolution:retention, e.g. 10s:24h)");
            }
            Tier t = new Tier(Durations.parse(rr[0]), Durations.parse(rr[1]));
            if (t.resolution.isZero() || t.retention.compareTo(t.resolution) <= 0) {
                throw new IllegalArgumentException("'" + part + "' (expected: retention longer than a non-zero resolution)");
            }
            if (!tiers.isEmpty()) {
                Tier prev = tiers.get(tiers.size() - 1);
                if (t.resolution.toMillis() <= prev.resolution.toMillis()
                        || t.resolution.toMillis() % prev.resolution.toMillis() != 0) {
                    throw new IllegalArgumentException("'" + part + "' (expected: a resolution that is a multiple of "
                            + Durations.format(prev.resolution) + ")");
                }
                if (t.retention.compareTo(prev.retention) < 0) {
                    throw new IllegalArgumentException("'" + part + "' (expected: a retention of at least "
                            + Durations.format(prev.retention) + ")");
                }
            }
            tiers.add(t);
        }
        return List.copyOf(tiers);
    }

    @Override
    public String toString() {
        return Durations.format(resolution) + ":" + Durations.format(retention);
    }
}
