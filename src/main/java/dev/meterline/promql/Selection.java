package dev.meterline.promql;

import dev.meterline.model.Aggregate;
import dev.meterline.model.PrometheusNames;
import dev.meterline.model.SeriesKey;
import dev.meterline.query.QueryService;
import dev.meterline.store.TagValues;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;

/** Resolves a selector's matchers to view series and reads their windows, within the query's series bound. */
final class Selection {

    /** Metrics read at once for one selector. */
    private static final int CONCURRENCY = 4;

    private final WindowReader reader;
    private final int maxSeries;
    private final AtomicInteger touched = new AtomicInteger();

    Selection(WindowReader reader, int maxSeries) {
        this.reader = reader;
        this.maxSeries = maxSeries;
    }

    /** The metrics known now, read once per query. */
    Mono<Known> known() {
        return reader.metrics().map(ms -> new Known(ms, PrometheusNames.colliding(ms)));
    }

    /** The known metric names and those whose base name another shares. */
    record Known(List<String> metrics, Set<String> colliding) {
    }

    /**
     * The view series passing {@code matchers}, with their windows ending in {@code (from, to]}, merged into buckets
     * of {@code resolution}.
     */
    Mono<List<View.Series>> select(Known known, List<Expr.Matcher> matchers, long from, long to, long resolution) {
        List<String> candidates = new ArrayList<>();
        for (String m : known.metrics()) {
            if (!View.kinds(PrometheusNames.baseName(m), matchers).isEmpty()) {
                candidates.add(m);
            }
        }
        TagValues named = TagNarrowing.of(matchers);
        return Flux.fromIterable(candidates)
                .flatMapSequential(m -> read(known, m, matchers, named, from, to, resolution), CONCURRENCY)
                .concatMapIterable(l -> l)
                .collectList();
    }

    private Mono<List<View.Series>> read(Known known, String metric, List<Expr.Matcher> matchers, TagValues named,
                                         long from, long to, long resolution) {
        boolean collides = known.colliding().contains(metric);
        String base = PrometheusNames.baseName(metric);
        List<View.Kind> kinds = View.kinds(base, matchers);
        Predicate<SeriesKey> filter = TagNarrowing.decides(matchers, named) ? null
                : View.seriesFilter(matchers, collides);
        return reader.windows(metric, named, filter, from, to, resolution)
                .map(results -> {
                    List<View.Series> out = new ArrayList<>();
                    for (QueryService.SeriesResult r : results) {
                        if (!View.matchesSeries(PrometheusNames.labels(r.group(), collides), matchers)) {
                            continue;
                        }
                        List<QueryService.MergedWindow> ws = new ArrayList<>();
                        for (QueryService.MergedWindow w : r.windows()) {
                            if (w.end() > from && w.end() <= to && w.aggregate().count() > 0) {
                                ws.add(w);
                            }
                        }
                        if (ws.isEmpty()) {
                            continue;
                        }
                        ws.sort((a, b) -> Long.compare(a.end(), b.end()));
                        long[] ends = new long[ws.size()];
                        Aggregate[] aggs = new Aggregate[ws.size()];
                        for (int i = 0; i < ends.length; i++) {
                            ends[i] = ws.get(i).end();
                            aggs[i] = ws.get(i).aggregate();
                        }
                        for (View.Kind k : kinds) {
                            out.add(new View.Series(View.labels(r.group(), collides, base, k), k, ends, aggs));
                        }
                        count(r.group());
                    }
                    return out;
                });
    }

    private void count(SeriesKey key) {
        int n = touched.incrementAndGet();
        if (n > maxSeries) {
            throw PromException.execution("the query touches more than " + maxSeries
                    + " series (expected: at most " + maxSeries
                    + ", --prometheus-max-series); narrow its selectors or its time range");
        }
    }

    /** Series of the view read so far by this query. */
    int touched() {
        return touched.get();
    }
}
