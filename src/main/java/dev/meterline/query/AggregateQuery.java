package dev.meterline.query;

import dev.meterline.aggregate.NamedFilter;
import dev.meterline.model.SeriesKey;

import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * A parsed {@code GET /api/v1/aggregates}: the metric, tag filters (a series matches when, for every filtered key,
 * its value is one of the listed values), the time range of window starts {@code [from, to)}, the output resolution
 * and the tag keys to group by (none: one result per series); {@code filter}, when not null, is a further test a
 * series must pass (the Prometheus view's label matchers).
 */
record AggregateQuery(String metric, Map<String, List<String>> tags, long from, long to, long resolution,
                      List<String> groupBy, Predicate<SeriesKey> filter) {

    AggregateQuery(String metric, Map<String, List<String>> tags, long from, long to, long resolution,
                   List<String> groupBy) {
        this(metric, tags, from, to, resolution, groupBy, null);
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
        return filter instanceof NamedFilter named ? named : null;
    }

    boolean matches(SeriesKey series) {
        if (filter != null && !filter.test(series)) {
            return false;
        }
        for (Map.Entry<String, List<String>> e : tags.entrySet()) {
            if (!series.tagIn(e.getKey(), e.getValue())) {
                return false;
            }
        }
        return true;
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
