package dev.meterline.query;

import dev.meterline.aggregate.Aggregation;
import dev.meterline.aggregate.Flusher;
import dev.meterline.aggregate.NamedFilter;
import dev.meterline.aggregate.PipelineStopping;
import dev.meterline.aggregate.SeriesBudget;
import dev.meterline.config.AggregationConfig;
import dev.meterline.config.QueryViewConfig;
import dev.meterline.config.StoreConfig;
import dev.meterline.config.Tier;
import dev.meterline.model.Batch;
import dev.meterline.model.Part;
import dev.meterline.model.Point;
import dev.meterline.model.SeriesKey;
import dev.meterline.store.Store;
import dev.meterline.store.StoreGateway;
import dev.meterline.store.TagValues;
import dev.meterline.telemetry.MeterNames;
import dev.meterline.telemetry.PipelineMetrics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.publisher.Sinks;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Queries answered from the open windows the shards publish: a query asked again needs no shard thread, sees every
 * point acknowledged before it, and still counts each point exactly once while windows move from the shards through
 * pending into the real SQLite store. The shard threads and the store threads are queues this test runs by hand, so
 * "answered without a shard" is observable: the answer is there while the shards' queue has not run.
 */
class PublishedViewsTest {

    private static final long WINDOW = 10_000;
    private static final long LATENESS = 5_000;
    private static final long T0 = 1_800_000_000_000L;
    private static final SeriesKey A = SeriesKey.of("q.cpu", Map.of("host", "a", "region", "eu"));
    private static final SeriesKey B = SeriesKey.of("q.cpu", Map.of("host", "b", "region", "eu"));
    private static final int SHARDS = 2;

    @TempDir
    Path dir;

    private final AtomicLong now = new AtomicLong(T0);
    private final ManualThread shards = new ManualThread();
    private final ManualThread queryStore = new ManualThread();
    private final ManualThread flushStore = new ManualThread();
    private final Sinks.Many<Part> parts = Sinks.many().unicast().onBackpressureBuffer();
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private Store store;
    private Aggregation aggregation;
    private Flusher flusher;
    private QueryService service;

    private void start(QueryViewConfig views) {
        StoreConfig storeConfig = new StoreConfig(dir, "", "", "",
                List.of(new Tier(Duration.ofMillis(WINDOW), Duration.ofDays(1))), "r1");
        store = Store.connect(storeConfig, Clock.fixed(Instant.ofEpochMilli(T0), ZoneOffset.UTC));
        PipelineMetrics metrics = new PipelineMetrics(registry);
        AggregationConfig config = new AggregationConfig(Duration.ofMillis(WINDOW), Duration.ofMillis(LATENESS),
                Duration.ofSeconds(1), 100, SHARDS);
        aggregation = new Aggregation(config, views, new SeriesBudget(100), shards.scheduler, metrics, now::get);
        aggregation.run(parts.asFlux()).subscribe();
        StoreGateway forFlushes = new StoreGateway(store, flushStore.scheduler);
        flusher = new Flusher(aggregation, forFlushes::write, Duration.ofSeconds(1), metrics, now::get,
                Duration.ofMillis(100), Duration.ofSeconds(1));
        service = new QueryService(aggregation, new StoreGateway(store, queryStore.scheduler), new SeriesBudget(100),
                "r1", WINDOW, LATENESS, now::get);
    }

    @AfterEach
    void stop() {
        if (store != null) {
            parts.tryEmitComplete();
            shards.runAll();
            store.close();
        }
    }

    /** Sends points of {@code series} at T0 + 1 s and runs the shards; returns how many batches were told. */
    private AtomicInteger record(SeriesKey series, double... values) {
        List<Point> points = new ArrayList<>();
        for (int i = 0; i < values.length; i++) {
            points.add(new Point(series, values[i], T0 + 1_000 + i, i + 1));
        }
        AtomicInteger told = new AtomicInteger();
        Batch batch = new Batch(b -> told.incrementAndGet(), points, new ArrayList<>(), null);
        batch.validated(List.of(), 1);
        parts.tryEmitNext(new Part(series.shard(SHARDS), batch, points));
        shards.runAll();
        return told;
    }

    private CompletableFuture<List<QueryService.SeriesResult>> query(Map<String, List<String>> tags) {
        AggregateQuery q = new AggregateQuery("q.cpu", tags, T0 - 60_000, T0 + 60_000, WINDOW, List.of());
        return service.aggregates(q).toFuture();
    }

    private CompletableFuture<List<QueryService.SeriesResult>> queryA() {
        return query(Map.of("host", List.of("a")));
    }

    /** Runs the query's store read only: an answer is then there without any shard having run. */
    private static <T> T withoutShards(ManualThread queryStore, CompletableFuture<T> f) throws Exception {
        queryStore.runAll();
        assertTrue(f.isDone(), "answered without the shards");
        return f.get();
    }

    private static void assertCounts(List<QueryService.SeriesResult> results, long... counts) {
        assertEquals(counts.length, results.size(), results.toString());
        for (int i = 0; i < counts.length; i++) {
            List<QueryService.MergedWindow> windows = results.get(i).windows();
            assertEquals(1, windows.size(), windows.toString());
            assertEquals(T0, windows.get(0).start());
            assertEquals(counts[i], windows.get(0).aggregate().count(), results.toString());
        }
    }

    private int published() {
        return (int) registry.get(MeterNames.QUERY_VIEW_SERIES).gauge().value();
    }

    private double counter(String name) {
        return registry.counter(name).count();
    }

    @Test
    void aQueryAskedAgainIsAnsweredWithoutTheShardsAndSeesEveryAcknowledgedPoint() throws Exception {
        start(QueryViewConfig.DEFAULTS);
        record(A, 1, 2, 3);
        CompletableFuture<List<QueryService.SeriesResult>> first = queryA();
        queryStore.runAll();
        assertFalse(first.isDone(), "the first query of a shape asks the shards");
        shards.runAll();
        queryStore.runAll();
        assertCounts(first.get(), 3);

        assertCounts(withoutShards(queryStore, queryA()), 3);

        AtomicInteger told = record(A, 4, 5);
        assertEquals(1, told.get(), "the batch was acknowledged");
        List<QueryService.SeriesResult> after = withoutShards(queryStore, queryA());
        assertCounts(after, 5);
        assertEquals(15.0, after.get(0).windows().get(0).aggregate().sum());
        assertEquals(5.0, after.get(0).windows().get(0).aggregate().max());
        assertEquals(2.0, counter(MeterNames.QUERY_VIEW_READS));
    }

    @Test
    void windowsMergedIntoACoarserBucketLeaveThePublishedWindowsAsTheyWere() throws Exception {
        start(QueryViewConfig.DEFAULTS);
        List<Point> points = List.of(new Point(A, 1, T0 + 1_000, 1), new Point(A, 2, T0 + 2_000, 2),
                new Point(A, 10, T0 + WINDOW + 1_000, 3));
        Batch batch = new Batch(b -> { }, points, new ArrayList<>(), null);
        batch.validated(List.of(), 1);
        parts.tryEmitNext(new Part(A.shard(SHARDS), batch, points));
        shards.runAll();
        AggregateQuery q = new AggregateQuery("q.cpu", Map.of("host", List.of("a")), T0 - 60_000, T0 + 60_000,
                2 * WINDOW, List.of());
        CompletableFuture<List<QueryService.SeriesResult>> first = service.aggregates(q).toFuture();
        shards.runAll();
        queryStore.runAll();
        for (List<QueryService.SeriesResult> answer : List.of(first.get(),
                withoutShards(queryStore, service.aggregates(q).toFuture()),
                withoutShards(queryStore, service.aggregates(q).toFuture()))) {
            assertEquals(1, answer.size(), answer.toString());
            QueryService.MergedWindow w = answer.get(0).windows().get(0);
            assertEquals(3, w.aggregate().count(), answer.toString());
            assertEquals(13.0, w.aggregate().sum(), answer.toString());
        }
        CompletableFuture<List<QueryService.SeriesResult>> fine = queryA();
        queryStore.runAll();
        assertEquals(List.of(2L, 1L), fine.get().get(0).windows().stream().map(w -> w.aggregate().count()).toList());
    }

    @Test
    void aQueryAskedAgainIsReadyOnTheCallingThreadUntilAFlushMayHaveStoredPartOfItsRange() throws Exception {
        start(QueryViewConfig.DEFAULTS);
        record(A, 1, 2, 3);
        AggregateQuery q = new AggregateQuery("q.cpu", Map.of("host", List.of("a")), T0 - 60_000, T0 + 60_000,
                WINDOW, List.of());
        QueryService.Answer first = service.answer(q);
        assertNull(first.ready(), "the first query of a shape asks the shards and reads the store");
        CompletableFuture<List<QueryService.SeriesResult>> firstResult = first.later().toFuture();
        shards.runAll();
        queryStore.runAll();
        assertCounts(firstResult.get(), 3);

        QueryService.Answer again = service.answer(q);
        assertNotNull(again.ready(), "the view and an empty store answer it with no other thread");
        assertCounts(again.ready(), 3);
        record(A, 4);
        assertCounts(service.answer(q).ready(), 4);
        assertEquals(2.0, counter(MeterNames.QUERY_VIEW_READS));
        assertEquals(0.0, counter(MeterNames.QUERY_VIEW_MISSES));

        now.set(T0 + WINDOW + LATENESS);
        flusher.flushOnce().subscribe();
        while (shards.runOne() | flushStore.runOne()) {
            // the close, then the write
        }
        QueryService.Answer afterFlush = service.answer(q);
        assertNull(afterFlush.ready(), "a flush has left pending: the store may hold a window of the range");
        CompletableFuture<List<QueryService.SeriesResult>> stored = afterFlush.later().toFuture();
        while (shards.runOne() | queryStore.runOne()) {
            // the snapshot and the store read
        }
        assertCounts(stored.get(), 4);
        assertNull(service.answer(q).ready(), "the range holds a stored window: every query reads the store");
    }

    @Test
    void aSeriesThatAppearsAfterTheFirstQueryJoinsItsView() throws Exception {
        start(QueryViewConfig.DEFAULTS);
        record(A, 1);
        CompletableFuture<List<QueryService.SeriesResult>> first = query(Map.of("region", List.of("eu")));
        shards.runAll();
        queryStore.runAll();
        assertCounts(first.get(), 1);

        record(B, 2, 3);
        record(SeriesKey.of("q.cpu", Map.of("host", "c", "region", "us")), 9);
        assertCounts(withoutShards(queryStore, query(Map.of("region", List.of("eu")))), 1, 2);
        assertEquals(2, published(), "only the matching series are published");
    }

    /**
     * A query whose further filter names its test (a PromQL selector's) is published as a view like one of tag
     * filters: asked again under the same name it needs no shard, and a series that appears later joins it only if
     * it passes. A filter of another name is another view; a filter with no name asks the shards every time.
     */
    @Test
    void aNamedFilterIsPublishedUnderItsNameAndAnUnnamedOneAsksTheShards() throws Exception {
        start(QueryViewConfig.DEFAULTS);
        record(A, 1);
        record(B, 2, 3);
        NamedFilter notB = new NamedFilter("host!=b", k -> !"b".equals(k.tag("host")));
        CompletableFuture<List<QueryService.SeriesResult>> first = filtered(notB);
        queryStore.runAll();
        assertFalse(first.isDone(), "the first query of a name asks the shards");
        shards.runAll();
        queryStore.runAll();
        assertCounts(first.get(), 1);

        record(SeriesKey.of("q.cpu", Map.of("host", "c", "region", "us")), 7, 8, 9);
        record(B, 4);
        NamedFilter sameName = new NamedFilter("host!=b", k -> !"b".equals(k.tag("host")));
        assertCounts(withoutShards(queryStore, filtered(sameName)), 1, 3);
        assertEquals(2, published(), "A and the new series c are published, B is not");

        CompletableFuture<List<QueryService.SeriesResult>> other = filtered(
                new NamedFilter("host=b", k -> "b".equals(k.tag("host"))));
        queryStore.runAll();
        assertFalse(other.isDone(), "another name is another view, registered by the shards");
        shards.runAll();
        queryStore.runAll();
        assertCounts(other.get(), 3);

        CompletableFuture<List<QueryService.SeriesResult>> unnamed = filtered(k -> "b".equals(k.tag("host")));
        shards.runAll();
        queryStore.runAll();
        assertCounts(unnamed.get(), 3);
        for (int i = 0; i < 2; i++) {
            CompletableFuture<List<QueryService.SeriesResult>> again = filtered(k -> "b".equals(k.tag("host")));
            queryStore.runAll();
            assertFalse(again.isDone(), "a filter with no name is never published");
            shards.runAll();
            queryStore.runAll();
            assertCounts(again.get(), 3);
        }
        assertEquals(1.0, counter(MeterNames.QUERY_VIEW_READS));
    }

    private CompletableFuture<List<QueryService.SeriesResult>> filtered(java.util.function.Predicate<SeriesKey> f) {
        return service.aggregates(new AggregateQuery("q.cpu", TagValues.NONE, T0 - 60_000, T0 + 60_000, WINDOW,
                List.of(), f)).toFuture();
    }

    /**
     * A flush closes the watched window while queries keep coming: stepping the shards one task at a time, then the
     * store write, a query issued at every step counts the three points exactly once, whether it read the view or
     * asked the shards.
     */
    @Test
    void everyQueryDuringAFlushCountsEachPointOnce() throws Exception {
        start(QueryViewConfig.DEFAULTS);
        record(A, 1, 2, 3);
        record(B, 4);
        CompletableFuture<List<QueryService.SeriesResult>> first = queryA();
        shards.runAll();
        queryStore.runAll();
        assertCounts(first.get(), 3);

        List<CompletableFuture<List<QueryService.SeriesResult>>> answers = new ArrayList<>();
        now.set(T0 + WINDOW + LATENESS);
        flusher.flushOnce().subscribe();
        do {
            answers.add(queryA());
            queryStore.runOne();
        } while (shards.runOne());
        do {
            answers.add(queryA());
            queryStore.runOne();
        } while (flushStore.runOne());
        answers.add(queryA());
        while (shards.runOne() | queryStore.runOne() | flushStore.runOne()) {
            // until every query has answered
        }
        for (CompletableFuture<List<QueryService.SeriesResult>> a : answers) {
            assertTrue(a.isDone());
            assertCounts(a.get(), 3);
        }
        assertTrue(counter(MeterNames.QUERY_VIEW_READS) >= 2, "some answers came from the view");
        assertTrue(counter(MeterNames.QUERY_VIEW_MISSES) >= 1, "some asked the shards while the close was under way");
        assertEquals(0, published(), "a series without an open window is not published");

        record(A, 7);
        List<QueryService.SeriesResult> late = withoutShards(queryStore, queryA());
        assertEquals(1, late.size());
        assertEquals(4, late.get(0).windows().get(0).aggregate().count(), "the stored window and the late point");
    }

    @Test
    void aViewThatWouldPassTheSeriesBoundIsDroppedAndItsQueriesAskTheShards() throws Exception {
        start(new QueryViewConfig(64, 1, Duration.ofMinutes(5)));
        record(A, 1);
        record(B, 2);
        CompletableFuture<List<QueryService.SeriesResult>> first = query(Map.of());
        shards.runAll();
        queryStore.runAll();
        assertCounts(first.get(), 1, 1);
        assertEquals(1.0, counter(MeterNames.QUERY_VIEWS_REFUSED));

        CompletableFuture<List<QueryService.SeriesResult>> again = query(Map.of());
        queryStore.runAll();
        assertFalse(again.isDone(), "asks the shards again");
        shards.runAll();
        queryStore.runAll();
        assertCounts(again.get(), 1, 1);
        assertEquals(2.0, counter(MeterNames.QUERY_VIEWS_REFUSED), "tried again, refused again");

        // One series fits: that view is kept, and the shards forgot the dropped views' series.
        CompletableFuture<List<QueryService.SeriesResult>> one = queryA();
        shards.runAll();
        queryStore.runAll();
        assertCounts(one.get(), 1);
        assertCounts(withoutShards(queryStore, queryA()), 1);
        assertEquals(1, published());
    }

    @Test
    void aSeriesThatWouldPassTheBoundDropsItsViewAndTheNextQueryStillSeesIt() throws Exception {
        start(new QueryViewConfig(64, 2, Duration.ofMinutes(5)));
        Map<String, List<String>> eu = Map.of("region", List.of("eu"));
        record(A, 1);
        CompletableFuture<List<QueryService.SeriesResult>> first = query(eu);
        shards.runAll();
        queryStore.runAll();
        assertCounts(first.get(), 1);
        record(B, 2);
        assertCounts(withoutShards(queryStore, query(eu)), 1, 1);

        AtomicInteger told = record(SeriesKey.of("q.cpu", Map.of("host", "c", "region", "eu")), 3);
        assertEquals(1, told.get());
        CompletableFuture<List<QueryService.SeriesResult>> after = query(eu);
        queryStore.runAll();
        assertFalse(after.isDone(), "the view was dropped: the query asks the shards");
        shards.runAll();
        queryStore.runAll();
        assertCounts(after.get(), 1, 1, 1);
        assertEquals(2.0, counter(MeterNames.QUERY_VIEWS_REFUSED), "dropped, then refused to the query that asked");
    }

    @Test
    void aViewNobodyReadsForTheIdleTimeIsDroppedAtTheNextClose() throws Exception {
        start(new QueryViewConfig(64, 1000, Duration.ofSeconds(10)));
        record(A, 1);
        CompletableFuture<List<QueryService.SeriesResult>> first = queryA();
        shards.runAll();
        queryStore.runAll();
        assertCounts(withoutShards(queryStore, queryA()), 1);
        assertEquals(1, published());

        // The window stays open until T0 + 15 s; closes before that find nothing to close.
        now.set(T0 + 9_000);
        flusher.flushOnce().subscribe();
        shards.runAll();
        flushStore.runAll();
        assertEquals(1, published(), "read 9 s ago: kept");

        now.set(T0 + 11_000);
        flusher.flushOnce().subscribe();
        shards.runAll();
        flushStore.runAll();
        assertEquals(0, published(), "read 11 s ago: dropped");
        assertEquals(0, registry.get(MeterNames.QUERY_VIEWS).gauge().value());
        assertTrue(first.isDone());
    }

    @Test
    void withViewsOffEveryQueryAsksTheShards() throws Exception {
        start(new QueryViewConfig(0, 1000, Duration.ofMinutes(5)));
        record(A, 1);
        for (int i = 0; i < 2; i++) {
            CompletableFuture<List<QueryService.SeriesResult>> f = queryA();
            queryStore.runAll();
            assertFalse(f.isDone());
            shards.runAll();
            queryStore.runAll();
            assertCounts(f.get(), 1);
        }
    }

    @Test
    void onceTheInputCompletesAViewIsNoLongerRead() throws Exception {
        start(QueryViewConfig.DEFAULTS);
        record(A, 1);
        CompletableFuture<List<QueryService.SeriesResult>> first = queryA();
        shards.runAll();
        queryStore.runAll();
        assertCounts(withoutShards(queryStore, queryA()), 1);

        parts.tryEmitComplete();
        shards.runAll();
        CompletableFuture<Aggregation.Snapshot> open = aggregation.openWindows("q.cpu", Map.of("host", List.of("a")),
                null, T0, T0 + WINDOW).toFuture();
        ExecutionException e = assertThrows(ExecutionException.class, open::get);
        assertInstanceOf(PipelineStopping.class, e.getCause());
        assertTrue(first.isDone());
    }
}
