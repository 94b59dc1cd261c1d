package dev.meterline.store;

import dev.meterline.model.SeriesKey;
import dev.meterline.model.SeriesValues;
import dev.meterline.model.Window;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;

import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

import static java.util.Objects.requireNonNull;

/**
 * The reactive face of a blocking {@link Store}: every call runs on the store's own bounded scheduler, so JDBC never
 * runs on an event loop or a pipeline rail.
 */
public final class StoreGateway {

    private final Store store;
    private final Scheduler scheduler;

    public StoreGateway(Store store, Scheduler scheduler) {
        this.store = requireNonNull(store, "store");
        this.scheduler = requireNonNull(scheduler, "scheduler");
    }

    public Mono<Void> write(List<Window> windows) {
        if (windows.isEmpty()) {
            return Mono.empty();
        }
        return Mono.<Void>fromRunnable(() -> store.write(windows)).subscribeOn(scheduler);
    }

    /** {@link Store#inKeyOrder} on the store's scheduler. */
    public Mono<List<Window>> inKeyOrder(List<Window> windows) {
        return Mono.fromCallable(() -> store.inKeyOrder(windows)).subscribeOn(scheduler);
    }

    /** {@link Store#writePart} on the store's scheduler. */
    public Mono<Void> writePart(List<Window> windows) {
        if (windows.isEmpty()) {
            return Mono.empty();
        }
        return Mono.<Void>fromRunnable(() -> store.writePart(windows)).subscribeOn(scheduler);
    }

    public Mono<List<StoredWindow>> read(String metric, Predicate<SeriesKey> series, long from, long to,
                                         long resolution) {
        return Mono.fromCallable(() -> store.read(metric, series, from, to, resolution)).subscribeOn(scheduler);
    }

    /** Stored partials as {@link #read} returns them, and the newest start the store held before reading them. */
    public record Read(List<StoredWindow> windows, long newestStart) {
    }

    /**
     * As {@link #read}, and before it {@link Store#newestStart} of {@code metric}, in one call on the store's
     * scheduler: a row that starts after that newest start was committed after it was read.
     */
    public Mono<Read> readWithNewest(String metric, TagValues named, Predicate<SeriesKey> series, long from, long to,
                                     long resolution) {
        return Mono.fromCallable(() -> {
            long newest = store.newestStart(metric);
            return new Read(store.read(metric, named, series, from, to, resolution), newest);
        }).subscribeOn(scheduler);
    }

    public Mono<Map<String, Long>> metrics() {
        return Mono.fromCallable(store::metrics).subscribeOn(scheduler);
    }

    public Mono<List<String>> metricNames() {
        return Mono.fromCallable(store::metricNames).subscribeOn(scheduler);
    }

    public Mono<List<SeriesKey>> series(String metric) {
        return Mono.fromCallable(() -> store.series(metric)).subscribeOn(scheduler);
    }

    public Mono<Void> maintain(long now) {
        return Mono.<Void>fromRunnable(() -> store.maintain(now)).subscribeOn(scheduler);
    }

    /** The underlying store, for start-up and shutdown, which run off the pipeline. */
    public Store store() {
        return store;
    }

    /** {@link Store#series(String, TagValues, Predicate, int)} on the store's scheduler. */
    public Mono<List<SeriesKey>> series(String metric, TagValues named, Predicate<SeriesKey> filter, int max) {
        return Mono.fromCallable(() -> store.series(metric, named, filter, max)).subscribeOn(scheduler);
    }

    /** {@link Store#seriesValues} on the store's scheduler. */
    public Mono<SeriesValues> seriesValues(String metric, TagValues named, Predicate<SeriesKey> filter,
                                           SeriesValues.Value valueOf, int max) {
        return Mono.fromCallable(() -> store.seriesValues(metric, named, filter, valueOf, max)).subscribeOn(scheduler);
    }

    /** {@link Store#tagKeySets} on the store's scheduler. */
    public Mono<List<SeriesKey>> tagKeySets() {
        return Mono.fromCallable(store::tagKeySets).subscribeOn(scheduler);
    }
}
