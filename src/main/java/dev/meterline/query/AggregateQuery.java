package dev.meterline.query;

import dev.meterline.aggregate.NamedFilter;
import dev.meterline.model.SeriesKey;
import dev.meterline.store.TagValues;

import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * A parsed {@code GET /api/v1/aggregates}: the metric, the tag values its series must have ({@code named}: for every
 * filtered key, one of the listed values), the time range of window starts {@code [from, to)}, the output
 * resolution and the tag keys to group by (none: one result per series); {@code filter}, when not null, is a further
 * test a series must pass (the Prometheus view's label matchers, whose values it names in {@code named} too, so that
 * the shards' tag indexes and the store find its series by them).
 */
record AggregateQuery(String metric, TagValues named, long from, long to, long resolution, List<String> groupBy,
                      Predicate<SeriesKey> filter) {

    AggregateQuery {
        if (filter == null && !named.anyKey().isEmpty()) {
            // The published views find series by the values named under their keys only.
            throw new IllegalArgumentException("named: " + named + " (expected: values under any key with a filter)");
        }
    }

    AggregateQuery(String metric, Map<String, List<String>> tags, long from, long to, long resolution,
                   List<String> groupBy) {
        this(metric, TagValues.of(tags), from, to, resolution, groupBy, null);
    }

    /** The values named under their keys: what the shards' tag indexes and the published views are asked for. */
    Map<String, List<String>> tags() {
        return named.byKey();
    }

    /**
     * Whether the open windows this query reads can be published as a view: it has no further filter, or one that
     * names its test ({@link NamedFilter}).
     */
    boolean publishable() {
        return filter == null || filter instanceof NamedFilter;
    }

    /** The further filter when it names its test; null otherwise. */
    NamedFilter namedFilter() {
        return filter instanceof NamedFilter name ? name : null;
    }

    /**
     * Whether {@code series} has the values named and passes the filter
     * ({@link TagValues#admits(SeriesKey, Predicate)}).
     */
    boolean matches(SeriesKey series) {
        return named.admits(series, filter);
    }

    /** The key a series' windows are merged under: the series itself, or its values of the groupBy keys. */
    SeriesKey groupOf(SeriesKey series) {
        if (groupBy.isEmpty()) {
            return series;
        }
        String[] pairs = new String[groupBy.size() * 2];
        int n = 0;
        for (String k : groupBy) {
            String v = series.tag(k);
            if (v != null) {
                pairs[2 * n] = k;
                pairs[2 * n + 1] = v;
                n++;
            }
        }
        return SeriesKey.ofPairs(series.metric(), pairs, n);
    }
}
