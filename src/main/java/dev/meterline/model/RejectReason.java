package dev.meterline.model;

import java.util.Locale;

/** Why an input line was rejected; each reason is a counter tag and a fixed error message for the client. */
public enum RejectReason {
    INVALID_JSON("invalid JSON"),
    INVALID_UTF8("invalid UTF-8"),
    NOT_AN_OBJECT("line must be a JSON object"),
    LINE_TOO_LONG("line too long"),
    METRIC_MISSING("metric is required"),
    METRIC_INVALID("metric must be a string"),
    METRIC_EMPTY("metric must not be empty"),
    METRIC_TOO_LONG("metric must be at most 256 bytes"),
    METRIC_CONTROL_CHARS("metric must not contain control characters"),
    VALUE_MISSING("value is required"),
    VALUE_INVALID("value must be a finite number"),
    TIMESTAMP_INVALID("timestamp must be epoch milliseconds or an RFC 3339 string"),
    TIMESTAMP_IN_FUTURE("timestamp is too far in the future"),
    TIMESTAMP_EXPIRED("timestamp is older than the retention"),
    TAGS_INVALID("tags must be an object"),
    TAG_VALUE_INVALID("tag values must be strings"),
    TAG_KEY_LENGTH("tag keys must be 1 to 128 bytes"),
    TAG_VALUE_LENGTH("tag values must be at most 256 bytes"),
    TAG_DUPLICATE("duplicate tag key"),
    TOO_MANY_TAGS("too many tags"),
    DUPLICATE_FIELD("duplicate field"),
    SYNC_INVALID("sync must be a string"),
    SERIES_LIMIT("series limit reached"),
    METRIC_SERIES_LIMIT("series limit of this metric reached"),
    INTERNAL_ERROR("internal error");

    private final String message;
    private final String tag;

    RejectReason(String message) {
        this.message = message;
        this.tag = name().toLowerCase(Locale.ROOT);
    }

    /** The default message sent to the client. */
    public String message() {
        return message;
    }

    /** The meter tag value: the enum name in lower case, never user data. */
    public String tag() {
        return tag;
    }
}
