package dev.meterline.telemetry;

import java.util.Locale;

/** How a query's read of one metric's stored windows found its rows. */
public enum StoreReadPath {
    /** The rows of the wanted series were looked up, a seek per window start and series. */
    SEEK,
    /** Every row of the metric in the range was walked and each tested by its series. */
    RANGE,
    /** Nothing was read: the metric has no rows in the range, or no stored series passes the query's tags. */
    NONE;

    private final String tag = name().toLowerCase(Locale.ROOT);

    public String tag() {
        return tag;
    }
}
