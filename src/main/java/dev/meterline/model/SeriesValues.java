package dev.meterline.model;

import java.util.HashSet;
import java.util.Set;
import java.util.function.Function;

/**
 * The distinct values that one label or tag takes among some series, and how many series were read for them: what a
 * listing of a label's values gathers from each place that holds series, without keeping the series.
 */
public final class SeriesValues {

    /** What a listing reads of each series: a label's value, or null when the series has none. */
    public interface Value extends Function<SeriesKey, String> {

        /** The tag key whose value, as the series' key holds it, this is; null when the value is derived otherwise. */
        default String tagKey() {
            return null;
        }

        /** The value of tag {@code key}. */
        static Value ofTag(String key) {
            return new Value() {
                @Override
                public String apply(SeriesKey k) {
                    return k.tag(key);
                }

                @Override
                public String tagKey() {
                    return key;
                }
            };
        }
    }

    private final Set<String> values;
    private int series;

    public SeriesValues() {
        this(new HashSet<>(), 0);
    }

    /** {@code values} read from {@code series} series; the set is taken, not copied. */
    public SeriesValues(Set<String> values, int series) {
        this.values = values;
        this.series = series;
    }

    /** Counts one more series read, and keeps what {@code valueOf} gives of it unless null (it has no such value). */
    public void add(SeriesKey key, Value valueOf) {
        add(valueOf.apply(key));
    }

    /** Counts one more series read, and keeps its value unless null (it has no such value). */
    public void add(String value) {
        series++;
        if (value != null) {
            values.add(value);
        }
    }

    /** Adds the values and the series count of {@code other}, whose series are not among these. */
    public void addDisjoint(SeriesValues other) {
        values.addAll(other.values);
        series += other.series;
    }

    /**
     * Adds the values of {@code other}, read from another place that may hold the same series: the count becomes the
     * larger of the two, which is at most the distinct series read.
     */
    public void addPlace(SeriesValues other) {
        values.addAll(other.values);
        series = Math.max(series, other.series);
    }

    public Set<String> values() {
        return values;
    }

    /** The series read. */
    public int series() {
        return series;
    }
}
