package dev.meterline.model;

/**
 * One decoded data point: its series, value, event time in epoch milliseconds, the input line it came from (counted
 * from 1 per connection or request), and its series' hash.
 *
 * <p>The hash is read where the point is made, while the decoder has the key at hand; the stages after it route
 * the point to its shard and find its series by the point alone, without a read of the key from another core's
 * cache. It costs no memory: the object is 40 bytes with or without it.
 *
 * <p>A value of -0.0 is taken as 0.0: SQLite stores a whole-numbered real as an integer and gives back 0.0, so a
 * window's min, max, last and sum would otherwise change sign once stored.
 */
public record Point(SeriesKey series, double value, long timestamp, int line, int seriesHash) {

    public Point {
        value += 0.0;
        if (seriesHash != series.hashCode()) {
            throw new IllegalArgumentException("seriesHash " + seriesHash + " is not the hash of " + series);
        }
    }

    public Point(SeriesKey series, double value, long timestamp, int line) {
        this(series, value, timestamp, line, series.hashCode());
    }
}
