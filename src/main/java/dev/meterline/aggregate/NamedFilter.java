package dev.meterline.aggregate;

import dev.meterline.model.SeriesKey;

import java.util.function.Predicate;

import static java.util.Objects.requireNonNull;

/**
 * A test of series with a name that stands for it: two filters of one metric with the same name accept the same
 * series. A query with such a filter can have its open windows published as a view, as a query of tag filters does,
 * and the next query with the same name reads them without a shard ({@link QueryViews}). The name is the caller's
 * canonical text of the test (a PromQL selector's matchers, for one).
 */
public record NamedFilter(String name, Predicate<SeriesKey> test) implements Predicate<SeriesKey> {

    public NamedFilter {
        requireNonNull(name, "name");
        requireNonNull(test, "test");
    }

    @Override
    public boolean test(SeriesKey series) {
        return test.test(series);
    }
}
