package dev.meterline.promql;

import dev.meterline.model.PrometheusNames;
import dev.meterline.model.SeriesKey;
import dev.meterline.model.SeriesValues;
import dev.meterline.model.TagKeySets;
import dev.meterline.store.TagValues;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Predicate;

/**
 * The answers of the listings ({@code /labels}, {@code /label/<name>/values}, {@code /series}) for a request's
 * selectors, each as the union, over the known series its selectors select, of what each view series gives.
 *
 * <p>What does not depend on the values of a series' tags is answered without listing series: a metric's sample
 * names and added labels come from its name, and the label names of its series from one series per distinct set of
 * tag keys ({@link WindowReader#tagKeySets}). A selector that tests a series' labels lists the series that pass, found
 * by the values its matchers name as reads find them ({@link TagNarrowing}); so does the listing of series. A label's
 * values are gathered where the series are, without listing them ({@link WindowReader#seriesValues}). The series one
 * request reads are bounded: each place stops one past the bound, and the request then fails rather than answer from
 * part of its series.
 */
final class Listing {

    /** The part of a listing one selector gives of one metric. */
    private record Part(String metric, boolean collides, String base, List<View.Kind> kinds, boolean tested,
                        List<SeriesKey> series) {

        /** True when the selector selects some series of the metric. */
        boolean any() {
            return !tested || !series.isEmpty();
        }
    }

    private final WindowReader reader;
    private final int maxSeries;
    private final Runnable refused;
    private final AtomicInteger listed = new AtomicInteger();

    /** {@code refused} counts a listing that would read more than {@code maxSeries} series. */
    Listing(WindowReader reader, int maxSeries, Runnable refused) {
        this.reader = reader;
        this.maxSeries = maxSeries;
        this.refused = refused;
    }

    /** The label names of the series the selectors select. */
    Mono<TreeSet<String>> labelNames(List<List<Expr.Matcher>> selectors) {
        return parts(selectors, false).flatMap(parts -> {
            boolean whole = parts.stream().anyMatch(p -> p.any() && !p.tested());
            Mono<List<SeriesKey>> sets = whole ? reader.tagKeySets() : Mono.just(List.of());
            return sets.map(tagKeySets -> {
                TreeSet<String> names = new TreeSet<>();
                for (Part p : parts) {
                    if (!p.any()) {
                        continue;
                    }
                    names.add(View.NAME);
                    for (View.Kind k : p.kinds()) {
                        if (k.extraLabel() != null) {
                            names.add(k.extraLabel());
                        }
                    }
                    TagKeySets keys = new TagKeySets();
                    if (p.tested()) {
                        keys.addAll(p.series());
                    } else {
                        for (SeriesKey k : tagKeySets) {
                            if (k.metric().equals(p.metric())) {
                                keys.add(k);
                            }
                        }
                    }
                    for (SeriesKey k : keys.keys()) {
                        names.addAll(PrometheusNames.labels(k, p.collides()).keySet());
                    }
                }
                return names;
            });
        });
    }

    /** The values of label {@code name} of the series the selectors select. */
    Mono<TreeSet<String>> labelValues(String name, List<List<Expr.Matcher>> selectors) {
        if (!PrometheusNames.reserved(name)) {
            return tagLabelValues(name, selectors);
        }
        return parts(selectors, false).map(parts -> {
            TreeSet<String> values = new TreeSet<>();
            for (Part p : parts) {
                if (!p.any()) {
                    continue;
                }
                if (name.equals(View.NAME)) {
                    for (View.Kind k : p.kinds()) {
                        values.add(k.sampleName(p.base()));
                    }
                } else if (name.equals(PrometheusNames.METRIC_LABEL)) {
                    if (p.collides()) {
                        values.add(p.metric());
                    }
                } else {
                    for (View.Kind k : p.kinds()) {
                        if (name.equals(k.extraLabel())) {
                            values.add(k.extraValue());
                        }
                    }
                }
            }
            return values;
        });
    }

    /**
     * The values of a label that comes from the series' tags, gathered where the series are (the shards, the pending
     * flushes, the store) without listing them: each place gives the distinct values of the series it holds that a
     * selector selects, with their count against the bound.
     */
    private Mono<TreeSet<String>> tagLabelValues(String name, List<List<Expr.Matcher>> selectors) {
        boolean ownKey = TagNarrowing.ownKey(name);
        return reader.metrics().flatMap(metrics -> {
            Set<String> colliding = PrometheusNames.colliding(metrics);
            List<Mono<Set<String>>> reads = new ArrayList<>();
            for (List<Expr.Matcher> matchers : selectors) {
                boolean tested = testsSeries(matchers);
                TagValues named = TagNarrowing.of(matchers);
                for (String m : metrics) {
                    if (View.kinds(PrometheusNames.baseName(m), matchers).isEmpty()) {
                        continue;
                    }
                    boolean collides = colliding.contains(m);
                    // Only the tag key of the label's own name gives it: its value is read from the key as it is.
                    SeriesValues.Value valueOf = ownKey ? SeriesValues.Value.ofTag(name)
                            : k -> PrometheusNames.labels(k, collides).get(name);
                    StrictTest test = tested ? new StrictTest(matchers, collides) : null;
                    reads.add(Mono.defer(() -> reader.seriesValues(m, named, test, valueOf, maxSeries)).map(v -> {
                        if (test != null) {
                            test.rethrow();
                        }
                        count(v.series());
                        return v.values();
                    }));
                }
            }
            return Flux.concat(reads).collect(TreeSet::new, TreeSet::addAll);
        });
    }

    /**
     * The matchers that test a series' labels, as a filter for the places that hold series: it never throws there,
     * passing a series whose regular expression ran out of steps, and {@link #rethrow} raises that failure after.
     */
    private static final class StrictTest implements Predicate<SeriesKey> {
        private final List<Expr.Matcher> matchers;
        private final boolean collides;
        private final AtomicReference<PromException> failed = new AtomicReference<>();

        StrictTest(List<Expr.Matcher> matchers, boolean collides) {
            this.matchers = matchers;
            this.collides = collides;
        }

        @Override
        public boolean test(SeriesKey k) {
            try {
                return View.matchesSeries(PrometheusNames.labels(k, collides), matchers);
            } catch (PromException e) {
                failed.compareAndSet(null, e);
                return true;
            }
        }

        void rethrow() {
            PromException e = failed.get();
            if (e != null) {
                throw e;
            }
        }
    }

    /** The label sets of the view series the selectors select, each once, at most {@code limit} of them. */
    Mono<List<Map<String, String>>> series(List<List<Expr.Matcher>> selectors, int limit) {
        return parts(selectors, true).map(parts -> {
            LinkedHashSet<Map<String, String>> out = new LinkedHashSet<>();
            for (Part p : parts) {
                for (SeriesKey k : p.series()) {
                    for (View.Kind kind : p.kinds()) {
                        if (out.size() == limit) {
                            return List.copyOf(out);
                        }
                        out.add(View.labels(k, p.collides(), p.base(), kind));
                    }
                }
            }
            return List.copyOf(out);
        });
    }

    /**
     * For each selector, each known metric it may select: the metric's kinds that pass it, and, when the selector
     * tests the series' labels or {@code list} asks for them anyway, the series that pass it.
     */
    private Mono<List<Part>> parts(List<List<Expr.Matcher>> selectors, boolean list) {
        return reader.metrics().flatMap(metrics -> {
            Set<String> colliding = PrometheusNames.colliding(metrics);
            List<Mono<Part>> parts = new ArrayList<>();
            for (List<Expr.Matcher> matchers : selectors) {
                boolean tested = testsSeries(matchers);
                TagValues named = TagNarrowing.of(matchers);
                for (String m : metrics) {
                    String base = PrometheusNames.baseName(m);
                    List<View.Kind> kinds = View.kinds(base, matchers);
                    if (kinds.isEmpty()) {
                        continue;
                    }
                    boolean collides = colliding.contains(m);
                    if (!tested && !list) {
                        parts.add(Mono.just(new Part(m, collides, base, kinds, false, List.of())));
                        continue;
                    }
                    parts.add(Mono.defer(() -> reader.listSeries(m, named, tested
                                    ? k -> View.mayMatchSeries(PrometheusNames.labels(k, collides), matchers) : null,
                            maxSeries))
                            .map(keys -> {
                                List<SeriesKey> passing = new ArrayList<>(keys.size());
                                for (SeriesKey k : keys) {
                                    if (!tested || View.matchesSeries(PrometheusNames.labels(k, collides), matchers)) {
                                        passing.add(k);
                                    }
                                }
                                count(passing.size());
                                return new Part(m, collides, base, kinds, tested, passing);
                            }));
                }
            }
            return Flux.concat(parts).collectList();
        });
    }

    /** True when some matcher is on a label of the series' tags rather than the name or an added label. */
    private static boolean testsSeries(List<Expr.Matcher> matchers) {
        for (Expr.Matcher m : matchers) {
            if (!m.name().equals(View.NAME) && !m.name().equals(View.LE)
                    && !m.name().equals(PrometheusNames.QUANTILE_LABEL)) {
                return true;
            }
        }
        return false;
    }

    private void count(int n) {
        if (listed.addAndGet(n) > maxSeries) {
            refused.run();
            throw PromException.execution("the listing selects more than " + maxSeries
                    + " series (expected: at most " + maxSeries
                    + ", --prometheus-max-listed-series); narrow its match[] selectors");
        }
    }
}
