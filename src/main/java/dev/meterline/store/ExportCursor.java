package dev.meterline.store;

import static java.util.Objects.requireNonNull;

/**
 * How far an export has gone: every window starting before {@code through} is sent, and of the slice starting at
 * {@code through} every series up to ({@code metric}, {@code tags}) in the store's order; empty strings mean none of
 * that slice yet. {@code tags} is the stored tags text, opaque outside the store.
 */
public record ExportCursor(long through, String metric, String tags) {

    public ExportCursor {
        requireNonNull(metric, "metric");
        requireNonNull(tags, "tags");
    }

    /** The start of the slice at {@code through}, before its first series. */
    public static ExportCursor at(long through) {
        return new ExportCursor(through, "", "");
    }

    /** True when no series of the slice at {@link #through()} has been sent. */
    public boolean atSliceStart() {
        return metric.isEmpty() && tags.isEmpty();
    }
}
