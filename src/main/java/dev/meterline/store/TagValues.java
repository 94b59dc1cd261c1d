package dev.meterline.store;

import dev.meterline.model.SeriesKey;

import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

import static java.util.Objects.requireNonNull;

/**
 * Tag values a read names of the series it wants, so that the store reads only series that have them: for each key of
 * {@code byKey}, one of its values under that key (a query's tag filters); for each list of {@code anyKey}, one of its
 * values under any key (a Prometheus label matcher whose label may come from more than one tag key). An empty list
 * names nothing and admits every series.
 */
public record TagValues(Map<String, List<String>> byKey, List<List<String>> anyKey) {

    /** Names no value: a read of every series its test accepts. */
    public static final TagValues NONE = new TagValues(Map.of(), List.of());

    public TagValues {
        byKey = Map.copyOf(requireNonNull(byKey, "byKey"));
        anyKey = List.copyOf(requireNonNull(anyKey, "anyKey"));
    }

    /** Values by key only, as a query's tag filters name them. */
    public static TagValues of(Map<String, List<String>> byKey) {
        return byKey.isEmpty() ? NONE : new TagValues(byKey, List.of());
    }

    /** True when some value is named, so that not every series is admitted. */
    public boolean names() {
        for (List<String> values : byKey.values()) {
            if (!values.isEmpty()) {
                return true;
            }
        }
        for (List<String> values : anyKey) {
            if (!values.isEmpty()) {
                return true;
            }
        }
        return false;
    }

    /**
     * True when {@code series} has the values named and passes {@code filter} (null for none); the values first, since
     * they are a look at the key's tags while a filter may build every label of the series (a PromQL selector's).
     */
    public boolean admits(SeriesKey series, Predicate<SeriesKey> filter) {
        return admits(series) && (filter == null || filter.test(series));
    }

    /** True when {@code series} has every value named (one of each list), under its key where one is given. */
    public boolean admits(SeriesKey series) {
        for (Map.Entry<String, List<String>> e : byKey.entrySet()) {
            if (!e.getValue().isEmpty() && !series.tagIn(e.getKey(), e.getValue())) {
                return false;
            }
        }
        for (List<String> values : anyKey) {
            if (!values.isEmpty() && !anyTagIn(series, values)) {
                return false;
            }
        }
        return true;
    }

    private static boolean anyTagIn(SeriesKey series, List<String> values) {
        for (int i = 0; i < series.tagCount(); i++) {
            if (values.contains(series.tagValue(i))) {
                return true;
            }
        }
        return false;
    }
}
