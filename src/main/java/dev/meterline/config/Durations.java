package dev.meterline.config;

import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Parses and prints durations written {@code 500ms}, {@code 10s}, {@code 5m}, {@code 24h}, {@code 30d}, {@code 1y}. */
public final class Durations {

    private static final Pattern FORMAT = Pattern.compile("(\\d{1,12})(ms|s|m|h|d|w|y)");

    private Durations() {
    }

    /** Parses one duration; throws IllegalArgumentException naming the expected format. */
    public static Duration parse(String text) {
        Matcher m = FORMAT.matcher(text.trim());
        if (!m.matches()) {
            throw new IllegalArgumentException("'" + text + "' (expected: a number and a unit, e.g. 500ms, 10s, 5m, 24h, 30d, 1y)");
        }
        long n = Long.parseLong(m.group(1));
        return switch (m.group(2)) {
            case "ms" -> Duration.ofMillis(n);
            case "s" -> Duration.ofSeconds(n);
            case "m" -> Duration.ofMinutes(n);
            case "h" -> Duration.ofHours(n);
            case "d" -> Duration.ofDays(n);
            case "w" -> Duration.ofDays(7 * n);
            case "y" -> Duration.ofDays(365 * n);
            default -> throw new IllegalStateException(m.group(2));
        };
    }

    /** The shortest exact form in the same notation: {@code 10s}, {@code 1m}, {@code 500ms}. */
    public static String format(Duration d) {
        long ms = d.toMillis();
        if (ms == 0) {
            return "0s";
        }
        long[] sizes = {365L * 86_400_000, 86_400_000, 3_600_000, 60_000, 1000, 1};
        String[] units = {"y", "d", "h", "m", "s", "ms"};
        for (int i = 0; i < sizes.length; i++) {
            if (ms % sizes[i] == 0) {
                return (ms / sizes[i]) + units[i];
            }
        }
        return ms + "ms";
    }
}
