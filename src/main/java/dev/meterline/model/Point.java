package dev.meterline.model;

/**
 * One decoded data point: its series, value, event time in epoch milliseconds, and the input line it came from
 * (counted from 1 per connection or request).
 */
public record Point(SeriesKey series, double value, long timestamp, int line) {
}
