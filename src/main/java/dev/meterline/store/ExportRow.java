package dev.meterline.store;

import dev.meterline.model.Aggregate;
import dev.meterline.model.SeriesKey;

/**
 * One stored partial window as remote write reads it: its series and start, its exact statistics, and its sketch
 * still encoded, so that the reader decides whether to decode it ({@link #aggregate()}) or read quantiles straight
 * from the bytes. {@code min} and {@code max} are NaN where the store holds none.
 */
public record ExportRow(SeriesKey series, long start, long count, double sum, double min, double max, double last,
                        long firstTimestamp, long lastTimestamp, long late, byte[] sketch) {

    /** The partial as an aggregate, its sketch decoded. */
    public Aggregate aggregate() {
        return Aggregate.restore(count, sum, min, max, last, firstTimestamp, lastTimestamp, late, sketch);
    }
}
