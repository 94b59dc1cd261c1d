package dev.meterline.query;

import dev.meterline.Background;
import dev.meterline.aggregate.Aggregation;
import dev.meterline.aggregate.Flusher;
import dev.meterline.aggregate.SeriesBudget;
import dev.meterline.config.AggregationConfig;
import dev.meterline.config.StoreConfig;
import dev.meterline.config.Tier;
import dev.meterline.model.Aggregate;
import dev.meterline.model.Batch;
import dev.meterline.model.Part;
import dev.meterline.model.Point;
import dev.meterline.model.SeriesKey;
import dev.meterline.model.SeriesValues;
import dev.meterline.model.Window;
import dev.meterline.store.Store;
import dev.meterline.store.StoreGateway;
import dev.meterline.store.TagValues;
import dev.meterline.telemetry.PipelineMetrics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
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
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A query whose store read and shard snapshot run while a flush moves windows from the shards through pending into
 * the real SQLite store still counts every point exactly once. The shards, the query's store thread and the flush's
 * store thread are queues this test runs by hand, so each interleaving is exact and nothing depends on timing.
 */
class FlushDuringQueryTest {

    private static final long WINDOW = 10_000;
    private static final long LATENESS = 5_000;
    /** A window-aligned time: the points land in [T0, T0 + 10 s), due at T0 + 15 s. */
    private static final long T0 = 1_800_000_000_000L;
    private static final SeriesKey SERIES = SeriesKey.of("q.cpu", Map.of("host", "a"));

    @TempDir
    Path dir;

    private final AtomicLong now = new AtomicLong(T0);
    private final ManualThread shards = new ManualThread();
    private final ManualThread queryStore = new ManualThread();
    private final ManualThread flushStore = new ManualThread();
    private final Sinks.Many<Part> parts = Sinks.many().unicast().onBackpressureBuffer();
    private Store store;
    private Aggregation aggregation;
    private Flusher flusher;
    private QueryService service;

    @BeforeEach
    void start() {
        StoreConfig storeConfig = new StoreConfig(dir, "", "", "",
                List.of(new Tier(Duration.ofMillis(WINDOW), Duration.ofDays(1))), "r1");
        store = Store.connect(storeConfig, Clock.fixed(Instant.ofEpochMilli(T0), ZoneOffset.UTC));
        PipelineMetrics metrics = new PipelineMetrics(new SimpleMeterRegistry());
        AggregationConfig config = new AggregationConfig(Duration.ofMillis(WINDOW), Duration.ofMillis(LATENESS),
                Duration.ofSeconds(1), 100, 2);
        aggregation = new Aggregation(config, new SeriesBudget(100), shards.scheduler, metrics, now::get);
        aggregation.run(parts.asFlux()).subscribe();
        StoreGateway forFlushes = new StoreGateway(store, flushStore.scheduler);
        flusher = new Flusher(aggregation, forFlushes::write, Duration.ofSeconds(1), metrics, now::get,
                Duration.ofMillis(100), Duration.ofSeconds(1));
        service = new QueryService(aggregation, new StoreGateway(store, queryStore.scheduler), new SeriesBudget(100),
                "r1", WINDOW, LATENESS, now::get);
    }

    @AfterEach
    void stop() {
        parts.tryEmitComplete();
        shards.runAll();
        store.close();
    }

    private void record(double... values) {
        List<Point> points = new ArrayList<>();
        for (int i = 0; i < values.length; i++) {
            points.add(new Point(SERIES, values[i], T0 + 1_000 + i, i + 1));
        }
        Batch batch = new Batch(b -> { }, points, new ArrayList<>(), null);
        batch.validated(List.of(), 1);
        parts.tryEmitNext(new Part(SERIES.shard(2), batch, points));
        shards.runAll();
    }

    /** The window is due: a flush closes it in the shards and leaves it pending, its write queued for a store thread. */
    private void closeTheWindow() {
        now.set(T0 + WINDOW + LATENESS);
        flusher.flushOnce().subscribe();
        shards.runAll();
    }

    private CompletableFuture<List<QueryService.SeriesResult>> query() {
        AggregateQuery q = new AggregateQuery("q.cpu", Map.of("host", List.of("a")), T0 - 60_000, T0 + 60_000,
                WINDOW, List.of());
        return service.aggregates(q).toFuture();
    }

    private static void assertOneWindowOf(long count, double sum, CompletableFuture<List<QueryService.SeriesResult>> f)
            throws Exception {
        assertTrue(f.isDone(), "the query has answered");
        List<QueryService.SeriesResult> results = f.get();
        assertEquals(1, results.size(), results.toString());
        List<QueryService.MergedWindow> windows = results.get(0).windows();
        assertEquals(1, windows.size(), windows.toString());
        assertEquals(T0, windows.get(0).start());
        assertEquals(count, windows.get(0).aggregate().count());
        assertEquals(sum, windows.get(0).aggregate().sum());
    }

    /** The names of the known metrics, as a Prometheus query lists them, with the threads run in order. */
    private List<String> metricNames() throws Exception {
        CompletableFuture<List<String>> names = service.metricNames().toFuture();
        shards.runAll();
        queryStore.runAll();
        assertTrue(names.isDone(), "the names are listed");
        return names.get();
    }

    /** The known metrics and their series, as the listing of metrics counts them. */
    private List<String> listedMetrics() throws Exception {
        CompletableFuture<Map<String, long[]>> listed = service.metrics().toFuture();
        shards.runAll();
        queryStore.runAll();
        return List.copyOf(listed.get().keySet());
    }

    /**
     * A metric's name is listed while its window is open, while it waits for the store, while it is written, and once
     * it is stored, as the listing with series counts lists it; a name the store alone holds is there too.
     */
    @Test
    void aMetricIsNamedWhereverItsWindowsAre() throws Exception {
        store.write(List.of(new Window(SeriesKey.of("q.disk", Map.of()), T0 - 60_000, WINDOW, new Aggregate(), true,
                0)));
        assertEquals(List.of("q.disk"), metricNames());
        record(1, 2, 3);
        assertEquals(List.of("q.cpu", "q.disk"), metricNames(), "open");
        closeTheWindow();
        assertEquals(1, aggregation.pending().windows());
        assertEquals(List.of("q.cpu", "q.disk"), metricNames(), "pending");
        assertEquals(listedMetrics(), metricNames());

        CompletableFuture<List<String>> during = service.metricNames().toFuture();
        shards.runAll();                        // the shards answer while the window waits for the store
        flushStore.runAll();                    // the flush commits and leaves pending
        queryStore.runAll();
        assertEquals(List.of("q.cpu", "q.disk"), during.get(), "committed between the shards' answer and the read");
        assertEquals(0, aggregation.pending().windows());
        assertEquals(List.of("q.cpu", "q.disk"), metricNames(), "stored");
        assertEquals(listedMetrics(), metricNames());
    }

    /**
     * The values of a tag among series waiting to be stored with several windows each, more than the active series
     * (none here) and under a bound below or above their windows: every value is there, and the series are counted
     * once each, so a backlog of flushes never pushes a listing past its bound.
     */
    @Test
    void tagValuesOfSeriesWaitingWithManyWindowsEachAreAllFound() throws Exception {
        for (String host : List.of("a", "b")) {
            SeriesKey key = SeriesKey.of("q.cpu", Map.of("host", host));
            List<Point> points = new ArrayList<>();
            for (int w = 0; w < 5; w++) {
                points.add(new Point(key, w, T0 + w * WINDOW + 1_000, w + 1));
            }
            Batch batch = new Batch(b -> { }, points, new ArrayList<>(), null);
            batch.validated(List.of(), 1);
            parts.tryEmitNext(new Part(key.shard(2), batch, points));
            shards.runAll();
        }
        now.set(T0 + 5 * WINDOW + LATENESS);
        flusher.flushOnce().subscribe();
        shards.runAll();
        assertEquals(10, aggregation.pending().windows());

        for (int bound : new int[] {2, 10}) {
            CompletableFuture<SeriesValues> values = service.seriesValues("q.cpu", TagValues.NONE, null,
                    SeriesValues.Value.ofTag("host"), bound).toFuture();
            shards.runAll();
            queryStore.runAll();
            assertTrue(values.isDone(), "the values are gathered");
            assertEquals(Set.of("a", "b"), values.get().values(), "bound " + bound);
            assertEquals(2, values.get().series(), "bound " + bound);
        }
    }

    @Test
    void flushCommittedAfterTheStoreReadAndBeforeTheSnapshotIsStillCounted() throws Exception {
        record(1, 2, 3);
        closeTheWindow();                       // pending, its write waits for a store thread
        CompletableFuture<List<QueryService.SeriesResult>> answer = query();
        queryStore.runAll();                    // the query reads the store: nothing there yet
        flushStore.runAll();                    // the flush commits and leaves pending
        shards.runAll();                        // the snapshot: the window is neither in memory nor pending now
        queryStore.runAll();

        assertOneWindowOf(3, 6, answer);
    }

    @Test
    void flushCommittedBeforeTheStoreReadIsCountedOnce() throws Exception {
        record(1, 2, 3);
        closeTheWindow();
        CompletableFuture<List<QueryService.SeriesResult>> answer = query();
        flushStore.runAll();                    // committed before the query's store read begins
        queryStore.runAll();
        shards.runAll();
        queryStore.runAll();

        assertOneWindowOf(3, 6, answer);
    }

    @Test
    void windowClosedAfterTheSnapshotIsCountedOnceFromMemory() throws Exception {
        record(1, 2, 3);
        CompletableFuture<List<QueryService.SeriesResult>> answer = query();
        shards.runAll();                        // the snapshot holds the open window
        closeTheWindow();
        flushStore.runAll();                    // stored before the query's store read
        queryStore.runAll();
        queryStore.runAll();

        assertOneWindowOf(3, 6, answer);
    }

    @Test
    void storeIsReadWhileTheShardsTakeTheirSnapshot() throws Exception {
        record(1, 2, 3);
        CompletableFuture<List<QueryService.SeriesResult>> answer = query();
        queryStore.runAll();                    // before the shards answer: the read does not wait for them
        shards.runAll();                        // no flush left pending meanwhile, so that read is the answer's

        assertOneWindowOf(3, 6, answer);
    }

    private CompletableFuture<List<QueryService.SeriesResult>> query(long from, java.util.function.Predicate<SeriesKey> filter) {
        AggregateQuery q = new AggregateQuery("q.cpu", TagValues.of(Map.of("host", List.of("a"))), from,
                T0 + 60_000, WINDOW, List.of(), filter);
        return service.aggregates(q).toFuture();
    }

    /** Answers the first query, which reads the store and so learns what the store holds. */
    private void learnTheStore() throws Exception {
        CompletableFuture<List<QueryService.SeriesResult>> first = query();
        shards.runAll();
        queryStore.runAll();
        assertTrue(first.isDone(), "the first query has answered");
    }

    @Test
    void queryWhoseRangeTheStoreCannotHoldIsAnsweredWithoutTheStore() throws Exception {
        record(1, 2, 3);
        learnTheStore();                        // the store holds nothing of the metric

        CompletableFuture<List<QueryService.SeriesResult>> answer = query();
        shards.runAll();                        // no store read: the memory alone answers
        assertOneWindowOf(3, 6, answer);

        closeTheWindow();                       // pending now, its write waits for a store thread
        CompletableFuture<List<QueryService.SeriesResult>> fromPending = query();
        shards.runAll();
        assertOneWindowOf(3, 6, fromPending);
    }

    @Test
    void flushThatLeftPendingSendsTheNextQueryToTheStoreAgain() throws Exception {
        record(1, 2, 3);
        learnTheStore();
        closeTheWindow();
        flushStore.runAll();                    // committed and gone from pending: only the store has it now

        CompletableFuture<List<QueryService.SeriesResult>> answer = query();
        shards.runAll();
        assertTrue(!answer.isDone(), "the query waits for the store");
        queryStore.runAll();
        assertOneWindowOf(3, 6, answer);

        // The store's newest window starts at T0: a range from after it needs no store read, one from T0 does.
        CompletableFuture<List<QueryService.SeriesResult>> after = query(T0 + WINDOW, null);
        shards.runAll();
        assertTrue(after.isDone(), "answered from memory");
        assertEquals(List.of(), after.get());
        CompletableFuture<List<QueryService.SeriesResult>> at = query(T0, null);
        shards.runAll();
        assertTrue(!at.isDone(), "the query waits for the store");
        queryStore.runAll();
        assertOneWindowOf(3, 6, at);
    }

    /** Without a published view the shards answer on their own thread, which must not do the query's merge. */
    @Test
    void anAnswerFromTheShardsIsMergedOnAStoreThreadNotOnAShard() throws Exception {
        record(1, 2, 3);
        learnTheStore();

        CompletableFuture<List<QueryService.SeriesResult>> answer = query(T0 - 60_000, s -> true);
        Background.run("shard", shards::runAll).get();   // the shards answer on a thread of their own
        assertTrue(!answer.isDone(), "handed to a store thread");
        queryStore.runAll();
        assertOneWindowOf(3, 6, answer);
    }

    @Test
    void flushThatLeavesPendingDuringTheSnapshotIsReadFromTheStore() throws Exception {
        record(1, 2, 3);
        learnTheStore();
        closeTheWindow();                       // pending, its write waits for a store thread
        CompletableFuture<List<QueryService.SeriesResult>> answer = query(T0 - 60_000, s -> true);
        flushStore.runAll();                    // committed and gone from pending before the shards answer
        shards.runAll();                        // the snapshot: the window is neither in memory nor pending now
        assertTrue(!answer.isDone(), "the query reads the store once more");
        queryStore.runAll();

        assertOneWindowOf(3, 6, answer);
    }

    /** A metric whose only window is on its way to the store is still listed, with its series, none of them active. */
    @Test
    void listingsKeepSeriesWhoseWindowWaitsToBeStored() throws Exception {
        record(1, 2, 3);
        closeTheWindow();                       // pending, its write waits for a store thread

        java.util.Map<String, long[]> metrics = answer(service.metrics());
        long[] counts = metrics.get("q.cpu");
        assertTrue(counts != null, "listed: " + metrics.keySet());
        assertEquals(1, counts[0], "known series");
        assertEquals(0, counts[1], "active series");
        assertEquals(List.of(SERIES), answer(service.series("q.cpu")));

        flushStore.runAll();                    // stored now: listed from the store alone
        assertEquals(1, answer(service.metrics()).get("q.cpu")[0]);
    }

    /** The answer of a listing, once the shards and the query's store thread have run. */
    private <T> T answer(reactor.core.publisher.Mono<T> listing) throws Exception {
        CompletableFuture<T> f = listing.toFuture();
        shards.runAll();
        queryStore.runAll();
        return f.get();
    }
}
