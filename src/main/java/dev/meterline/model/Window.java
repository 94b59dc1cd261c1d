package dev.meterline.model;

/**
 * A partial aggregate of one series over the tumbling window {@code [start, start + resolution)}.
 *
 * <p>{@code complete} is false while the window is open, or when a shutdown flushed it early. {@code flushSeq}
 * orders partials of one replica: the number of the flush that produced it, 0 for a window still in memory.
 */
public record Window(SeriesKey series, long start, long resolution, Aggregate aggregate, boolean complete,
                     long flushSeq) {

    public long end() {
        return start + resolution;
    }

    /** The start of the window of {@code resolution} that holds {@code timestamp}, aligned to the epoch. */
    public static long startOf(long timestamp, long resolution) {
        return Math.floorDiv(timestamp, resolution) * resolution;
    }
}
