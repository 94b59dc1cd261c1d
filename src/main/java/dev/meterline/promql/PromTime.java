package dev.meterline.promql;

import java.math.BigDecimal;
import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Times and durations as Prometheus's HTTP API and PromQL write them, to and from epoch milliseconds. */
final class PromTime {

    private static final Pattern DURATION = Pattern.compile("(?:(\\d+)y)?(?:(\\d+)w)?(?:(\\d+)d)?(?:(\\d+)h)?"
            + "(?:(\\d+)m)?(?:(\\d+)s)?(?:(\\d+)ms)?");
    private static final long[] UNIT_MS = {365L * 86_400_000, 7L * 86_400_000, 86_400_000, 3_600_000, 60_000, 1000, 1};

    private PromTime() {
    }

    /** {@code 1h30m}, {@code 5m}, {@code 500ms}: units from largest to smallest, each at most once. */
    static long duration(String s) {
        Matcher m = DURATION.matcher(s);
        if (s.isEmpty() || !m.matches()) {
            throw new IllegalArgumentException("bad duration syntax: \"" + s + "\"");
        }
        long ms = 0;
        for (int i = 0; i < UNIT_MS.length; i++) {
            if (m.group(i + 1) != null) {
                try {
                    ms = Math.addExact(ms, Math.multiplyExact(Long.parseLong(m.group(i + 1)), UNIT_MS[i]));
                } catch (ArithmeticException | NumberFormatException e) {
                    throw new IllegalArgumentException("duration out of range: \"" + s + "\"");
                }
            }
        }
        return ms;
    }

    /** A request time: Unix seconds with an optional fraction, or RFC 3339. */
    static long time(String name, String v) {
        try {
            BigDecimal seconds = new BigDecimal(v);
            return seconds.movePointRight(3).setScale(0, java.math.RoundingMode.HALF_EVEN).longValueExact();
        } catch (NumberFormatException | ArithmeticException e) {
            try {
                return OffsetDateTime.parse(v, DateTimeFormatter.ISO_OFFSET_DATE_TIME).toInstant().toEpochMilli();
            } catch (DateTimeParseException e2) {
                throw PromException.badData("invalid parameter \"" + name + "\": cannot parse \"" + v
                        + "\" to a valid timestamp");
            }
        }
    }

    /** A request duration ({@code step}, {@code timeout}): seconds with an optional fraction, or a duration. */
    static long requestDuration(String name, String v) {
        try {
            BigDecimal seconds = new BigDecimal(v);
            return seconds.movePointRight(3).setScale(0, java.math.RoundingMode.HALF_EVEN).longValueExact();
        } catch (NumberFormatException | ArithmeticException e) {
            try {
                return duration(v);
            } catch (IllegalArgumentException e2) {
                throw PromException.badData("invalid parameter \"" + name + "\": cannot parse \"" + v
                        + "\" to a valid duration");
            }
        }
    }

    /** Epoch milliseconds as Unix seconds, as the API writes sample times: {@code 1435781451.781}, {@code 4}. */
    static String seconds(long ms) {
        return BigDecimal.valueOf(ms, 3).stripTrailingZeros().toPlainString();
    }

    /** A sample value as Prometheus writes it: shortest exact decimal without exponent, {@code NaN}, {@code +Inf}, {@code -Inf}. */
    static String value(double v) {
        if (Double.isNaN(v)) {
            return "NaN";
        }
        if (Double.isInfinite(v)) {
            return v > 0 ? "+Inf" : "-Inf";
        }
        // Go's strconv 'f' format with the shortest exact digits: no exponent.
        return new BigDecimal(Double.toString(v)).stripTrailingZeros().toPlainString();
    }
}
