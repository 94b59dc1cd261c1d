package dev.meterline.validate;

import dev.meterline.config.ValidationConfig;
import dev.meterline.model.Point;
import dev.meterline.model.RejectReason;
import dev.meterline.model.SeriesKey;
import dev.meterline.model.SeriesRules;

/**
 * The rules a decoded point must meet. On its series, applied by the decoders once per key they build: metric and tag
 * sizes in UTF-8 bytes and no control characters in the metric, then the configured static tags added. On each point,
 * applied by the validation rails: an event time neither too far ahead of the server clock nor older than the
 * retention. Pure: the clock reading is a parameter.
 */
public final class Validator implements SeriesRules {

    static final int MAX_METRIC_BYTES = 256;
    static final int MAX_TAG_KEY_BYTES = 128;
    static final int MAX_TAG_VALUE_BYTES = 256;

    private final long maxFutureSkewMs;
    private final long maxAgeMs;
    private final String[] staticTags;

    public Validator(ValidationConfig config) {
        this.maxFutureSkewMs = config.maxFutureSkew().toMillis();
        this.maxAgeMs = config.maxAge().toMillis();
        this.staticTags = config.staticTags().toArray(new String[0]);
    }

    /**
     * Null when the event time of {@code p} is acceptable at server time {@code now}, else why not; its series passed
     * {@link #checkSeries} where it was decoded.
     */
    public RejectReason check(Point p, long now) {
        long ts = p.timestamp();
        if (ts > now + maxFutureSkewMs) {
            return RejectReason.TIMESTAMP_IN_FUTURE;
        }
        if (ts < now - maxAgeMs) {
            return RejectReason.TIMESTAMP_EXPIRED;
        }
        return null;
    }

    /**
     * True when every event time from {@code earliest} to {@code latest} is acceptable at server time {@code now}:
     * {@link #check} then passes every point whose timestamp lies between them.
     */
    public boolean acceptsAll(long earliest, long latest, long now) {
        return latest <= now + maxFutureSkewMs && earliest >= now - maxAgeMs;
    }

    /** The rules on the series itself, which hold or not for good (a key is immutable and the limits fixed). */
    @Override
    public RejectReason checkSeries(SeriesKey s) {
        String metric = s.metric();
        if (metric.isEmpty()) {
            return RejectReason.METRIC_EMPTY;
        }
        if (utf8Length(metric, MAX_METRIC_BYTES) > MAX_METRIC_BYTES) {
            return RejectReason.METRIC_TOO_LONG;
        }
        if (hasControlChars(metric)) {
            return RejectReason.METRIC_CONTROL_CHARS;
        }
        int outside = s.firstTagStringOutside(MAX_TAG_KEY_BYTES, MAX_TAG_VALUE_BYTES);
        if (outside < 0) {
            return null;
        }
        return (outside & 1) == 0 ? RejectReason.TAG_KEY_LENGTH : RejectReason.TAG_VALUE_LENGTH;
    }

    /** The series with the configured static tags added (a tag the series already has wins). */
    @Override
    public SeriesKey enrich(SeriesKey series) {
        return series.withDefaults(staticTags);
    }

    /** UTF-8 length of {@code s}, counting no further than just past {@code limit}. */
    static int utf8Length(String s, int limit) {
        int n = 0;
        for (int i = 0, len = s.length(); i < len && n <= limit; i++) {
            char c = s.charAt(i);
            if (c < 0x80) {
                n++;
            } else if (c < 0x800) {
                n += 2;
            } else if (Character.isHighSurrogate(c) && i + 1 < len && Character.isLowSurrogate(s.charAt(i + 1))) {
                n += 4;
                i++;
            } else {
                n += 3;
            }
        }
        return n;
    }

    private static boolean hasControlChars(String s) {
        for (int i = 0, len = s.length(); i < len; i++) {
            char c = s.charAt(i);
            if (c < 0x20 || (c >= 0x7f && c < 0xa0)) {
                return true;
            }
        }
        return false;
    }
}
