package dev.meterline.promql;

import dev.meterline.model.SeriesKey;
import dev.meterline.model.SeriesValues;
import dev.meterline.model.TagKeySets;
import dev.meterline.query.QueryService;
import dev.meterline.store.TagValues;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/** Where queries read windows: the known metrics, and the windows of one metric's series. */
interface WindowReader {

    /** Every known metric name. */
    Mono<List<String>> metrics();

    /** Every known series of {@code metric}. */
    Mono<List<SeriesKey>> series(String metric);

    /**
     * The windows of each series of {@code metric} that has the values {@code named} names and passes {@code filter}
     * (which implies those values; null when the values decide alone), ending in {@code (from, to]}, merged into
     * epoch-aligned buckets of {@code resolution} (a multiple of the window).
     */
    Mono<List<QueryService.SeriesResult>> windows(String metric, TagValues named, Predicate<SeriesKey> filter,
                                                  long from, long to, long resolution);

    /** The window length, in milliseconds. */
    long windowMs();

    /**
     * The known series of {@code metric} that have the values {@code named} names and pass {@code filter} (null for
     * none), sorted; a list of more than {@code max} says they are more than {@code max} (and may not be all).
     */
    default Mono<List<SeriesKey>> listSeries(String metric, TagValues named, Predicate<SeriesKey> filter, int max) {
        return series(metric).map(all -> {
            List<SeriesKey> out = new ArrayList<>();
            for (SeriesKey k : all) {
                if (named.admits(k, filter)) {
                    out.add(k);
                }
            }
            return out;
        });
    }

    /**
     * The distinct values {@code valueOf} gives (null for none) of the known series of {@code metric} that have the
     * values {@code named} names and pass {@code filter} (null for none), with a count of those series that is over
     * {@code max} when they are more than {@code max} (and then the values may not be all).
     */
    default Mono<SeriesValues> seriesValues(String metric, TagValues named, Predicate<SeriesKey> filter,
                                            SeriesValues.Value valueOf, int max) {
        return listSeries(metric, named, filter, max).map(keys -> {
            SeriesValues out = new SeriesValues();
            keys.forEach(k -> out.add(k, valueOf));
            return out;
        });
    }

    /** One known series of each distinct metric and set of tag keys. */
    default Mono<List<SeriesKey>> tagKeySets() {
        return metrics().flatMapMany(Flux::fromIterable).concatMap(this::series).collect(TagKeySets::new,
                TagKeySets::addAll).map(TagKeySets::keys);
    }

    /** Reads through the query service, as {@code /api/v1/aggregates} does. */
    static WindowReader of(QueryService service) {
        return new WindowReader() {
            @Override
            public Mono<List<String>> metrics() {
                return service.metricNames();
            }

            @Override
            public Mono<List<SeriesKey>> series(String metric) {
                return service.series(metric);
            }

            @Override
            public Mono<List<QueryService.SeriesResult>> windows(String metric, TagValues named,
                                                                 Predicate<SeriesKey> filter, long from, long to,
                                                                 long resolution) {
                // Bucket starts in [from - r + 1, to - r + 1) are ends in (from, to].
                return service.windows(metric, named, filter, from - resolution + 1, to - resolution + 1,
                        resolution);
            }

            @Override
            public long windowMs() {
                return service.windowMs();
            }

            @Override
            public Mono<List<SeriesKey>> listSeries(String metric, TagValues named, Predicate<SeriesKey> filter,
                                                    int max) {
                return service.listSeries(metric, named, filter, max);
            }

            @Override
            public Mono<SeriesValues> seriesValues(String metric, TagValues named, Predicate<SeriesKey> filter,
                                                   SeriesValues.Value valueOf, int max) {
                return service.seriesValues(metric, named, filter, valueOf, max);
            }

            @Override
            public Mono<List<SeriesKey>> tagKeySets() {
                return service.tagKeySets();
            }
        };
    }
}
