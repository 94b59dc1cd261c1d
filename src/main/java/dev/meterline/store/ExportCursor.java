package dev.meterline.store;

import static java.util.Objects.requireNonNull;

/**
 * How far an export has gone: every window starting before {@code through} is sent, and of the slice starting at
 * {@code through} every series up to ({@code metric}, {@code series}) in the store's order; an empty metric and
 * series 0 mean none of that slice yet. {@code series} is the store's id of the series, opaque outside the store.
 */
public record ExportCursor(long through, String metric, long series) {

    public ExportCursor {
        requireNonNull(metric, "metric");
    }

    /** The start of the slice at {@code through}, before its first series. */
    public static ExportCursor at(long through) {
        return new ExportCursor(through, "", 0);
    }

    /** True when no series of the slice at {@link #through()} has been sent. */
    public boolean atSliceStart() {
        return metric.isEmpty() && series == 0;
    }
}
