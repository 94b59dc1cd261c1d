package dev.meterline.aggregate;

import dev.meterline.Background;
import dev.meterline.config.AggregationConfig;
import dev.meterline.model.Batch;
import dev.meterline.model.Part;
import dev.meterline.model.Point;
import dev.meterline.model.Reject;
import dev.meterline.model.RejectReason;
import dev.meterline.model.SeriesKey;
import dev.meterline.model.Window;
import dev.meterline.telemetry.MeterNames;
import dev.meterline.telemetry.PipelineMetrics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Schedulers;
import reactor.test.StepVerifier;
import reactor.test.scheduler.VirtualTimeScheduler;

import java.lang.ref.WeakReference;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import java.util.function.LongSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Window assignment, lateness, flush timing and the final flush, on virtual time. */
class AggregationTest {

    private static final SeriesKey CPU = SeriesKey.of("cpu", Map.of("host", "a"));

    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final PipelineMetrics metrics = new PipelineMetrics(registry);
    private final List<List<Window>> written = new CopyOnWriteArrayList<>();

    private static AggregationConfig config(int shards, int maxSeries) {
        return new AggregationConfig(Duration.ofSeconds(10), Duration.ofSeconds(5), Duration.ofSeconds(1), maxSeries,
                shards);
    }

    private Mono<Void> capture(List<Window> windows) {
        written.add(windows);
        return Mono.empty();
    }

    /** The virtual clock of the scheduler {@link StepVerifier#withVirtualTime} installed, in milliseconds. */
    private static LongSupplier virtualClock() {
        VirtualTimeScheduler vts = VirtualTimeScheduler.get();
        return () -> vts.now(TimeUnit.MILLISECONDS);
    }

    /** An aggregation of {@code shards} shards (100 series at most) on {@code clock}, fed from {@code parts}. */
    private Aggregation running(int shards, LongSupplier clock, Sinks.Many<Part> parts) {
        Aggregation agg = new Aggregation(config(shards, 100), new SeriesBudget(100), Schedulers.immediate(), metrics,
                clock);
        agg.run(parts.asFlux()).subscribe();
        return agg;
    }

    /** The reports of the flushes that wrote windows, with a flush every second into {@code writer}. */
    private Flux<Flusher.FlushReport> flushesEverySecond(Aggregation agg, Function<List<Window>, Mono<Void>> writer,
                                                 LongSupplier clock) {
        Flusher flusher = new Flusher(agg, writer, Duration.ofSeconds(1), metrics, clock, Duration.ofMillis(100),
                Duration.ofSeconds(1));
        return flusher.run(Flux.interval(Duration.ofSeconds(1))).filter(r -> r.windows() > 0);
    }

    /** A batch whose owner records completion; one part per call of {@link #part}. */
    private static final class TestBatch implements Batch.Owner {
        final List<Batch> completed = new ArrayList<>();

        @Override
        public void completed(Batch batch) {
            completed.add(batch);
        }

        Part part(int shards, Point... points) {
            Batch b = new Batch(this, List.of(points), new ArrayList<>(), null);
            b.validated(List.of(), 1);
            return new Part(points[0].series().shard(shards), b, List.of(points));
        }
    }

    @Test
    void aBatchIsToldOnlyOnceTheWindowsItsPointsOpenedAreCounted() {
        // The log (here none) tells the batch on the shard's thread as soon as it holds the points; the client's
        // sync is then answered, and the stats it reads next must count the windows its points opened.
        List<Double> openWhenTold = new ArrayList<>();
        Batch.Owner owner = batch -> openWhenTold.add(registry.get(MeterNames.WINDOWS_OPEN).gauge().value());
        Sinks.Many<Part> parts = Sinks.many().unicast().onBackpressureBuffer();
        running(1, () -> 0L, parts);
        for (int i = 0; i < 3; i++) {
            Point p = new Point(SeriesKey.of("cpu", Map.of("host", "h" + i)), 1.0, 1_000 + i * 10_000L, 1);
            Batch b = new Batch(owner, List.of(p), new ArrayList<>(), null);
            b.validated(List.of(), 1);
            parts.tryEmitNext(new Part(0, b, List.of(p)));
        }
        assertEquals(List.of(1.0, 2.0, 3.0), openWhenTold);
    }

    @Test
    void windowIsFlushedOnlyOnceItsEndPlusLatenessHasPassed() {
        TestBatch owner = new TestBatch();
        StepVerifier.withVirtualTime(() -> {
                    LongSupplier clock = virtualClock();
                    Sinks.Many<Part> parts = Sinks.many().unicast().onBackpressureBuffer();
                    Aggregation agg = running(2, clock, parts);
                    // Event time 2 s: window [0 s, 10 s), due at 15 s.
                    parts.tryEmitNext(owner.part(2, new Point(CPU, 1.0, 2_000, 1)));
                    parts.tryEmitNext(owner.part(2, new Point(CPU, 3.0, 9_999, 2)));
                    return flushesEverySecond(agg, this::capture, clock);
                })
                .expectSubscription()
                .expectNoEvent(Duration.ofSeconds(14))
                .thenAwait(Duration.ofSeconds(1))
                .assertNext(r -> assertEquals(1, r.windows()))
                .thenCancel()
                .verify(Duration.ofSeconds(10));
        assertEquals(2, owner.completed.size());
        Window w = written.get(written.size() - 1).get(0);
        assertEquals(0, w.start());
        assertEquals(10_000, w.end());
        assertEquals(2, w.aggregate().count());
        assertEquals(4.0, w.aggregate().sum());
        assertEquals(3.0, w.aggregate().last());
        assertTrue(w.complete());
        assertEquals(0, w.aggregate().late());
    }

    @Test
    void aFlushKeepsNoneOfItsWindowsOnceTheyAreWritten() {
        TestBatch owner = new TestBatch();
        List<WeakReference<Window>> writtenWindows = new CopyOnWriteArrayList<>();
        StepVerifier.withVirtualTime(() -> {
                    LongSupplier clock = virtualClock();
                    Sinks.Many<Part> parts = Sinks.many().unicast().onBackpressureBuffer();
                    Aggregation agg = running(2, clock, parts);
                    parts.tryEmitNext(owner.part(2, new Point(CPU, 1.0, 2_000, 1)));
                    return flushesEverySecond(agg, windows -> {
                        windows.forEach(w -> writtenWindows.add(new WeakReference<>(w)));
                        return Mono.empty();
                    }, clock);
                })
                .thenAwait(Duration.ofSeconds(15))
                .assertNext(r -> assertEquals(1, r.windows()))
                // Before the next tick: the loop holds its last flush until then, and must hold no window through it.
                .then(() -> {
                    for (int i = 0; i < 10 && writtenWindows.get(0).get() != null; i++) {
                        System.gc();
                    }
                    assertNull(writtenWindows.get(0).get(), "the written window is still reachable");
                })
                .thenCancel()
                .verify(Duration.ofSeconds(10));
        assertEquals(1, writtenWindows.size());
    }

    @Test
    void aSeriesWhoseLastWindowWasFlushedLingersForAWindowWithoutCountingAsActive() {
        TestBatch owner = new TestBatch();
        List<Sinks.Many<Part>> sink = new ArrayList<>();
        StepVerifier.withVirtualTime(() -> {
                    LongSupplier clock = virtualClock();
                    Sinks.Many<Part> parts = Sinks.many().unicast().onBackpressureBuffer();
                    sink.add(parts);
                    Aggregation agg = running(2, clock, parts);
                    parts.tryEmitNext(owner.part(2, new Point(CPU, 1.0, 8_000, 1)));
                    return flushesEverySecond(agg, this::capture, clock);
                })
                .thenAwait(Duration.ofSeconds(15))
                .assertNext(r -> assertEquals(1, r.windows()))
                .then(() -> {
                    assertEquals(1.0, gauge("meterline.series.lingering"));
                    assertEquals(0.0, gauge("meterline.series.active"));
                    sink.get(0).tryEmitNext(owner.part(2, new Point(CPU, 2.0, 18_000, 2)));
                    assertEquals(0.0, gauge("meterline.series.lingering"), "back under its number");
                    assertEquals(1.0, gauge("meterline.series.active"));
                })
                .thenAwait(Duration.ofSeconds(10))
                .assertNext(r -> assertEquals(1, r.windows()))
                .then(() -> assertEquals(1.0, gauge("meterline.series.lingering")))
                // It missed a window: by the flush of the window after its last, its number is free.
                .thenAwait(Duration.ofSeconds(10))
                .then(() -> assertEquals(0.0, gauge("meterline.series.lingering")))
                .thenCancel()
                .verify(Duration.ofSeconds(10));
    }

    private double gauge(String name) {
        return registry.get(name).gauge().value();
    }

    @Test
    void latePointBecomesACorrectionFlushedOnTheNextTick() {
        TestBatch owner = new TestBatch();
        Sinks.Many<Part> parts = Sinks.many().unicast().onBackpressureBuffer();
        StepVerifier.withVirtualTime(() -> {
                    LongSupplier clock = virtualClock();
                    Aggregation agg = running(1, clock, parts);
                    parts.tryEmitNext(owner.part(1, new Point(CPU, 1.0, 2_000, 1)));
                    return flushesEverySecond(agg, this::capture, clock);
                })
                .thenAwait(Duration.ofSeconds(15))
                .assertNext(r -> assertEquals(1, r.windows()))
                .then(() -> parts.tryEmitNext(owner.part(1, new Point(CPU, 5.0, 4_000, 2))))
                .expectNoEvent(Duration.ofMillis(500))
                .thenAwait(Duration.ofMillis(500))
                .assertNext(r -> assertEquals(1, r.windows()))
                .thenCancel()
                .verify(Duration.ofSeconds(10));
        Window correction = written.get(written.size() - 1).get(0);
        assertEquals(0, correction.start());
        assertEquals(1, correction.aggregate().count());
        assertEquals(1, correction.aggregate().late());
        assertTrue(correction.complete());
        assertEquals(1.0, registry.get("meterline.points.late").counter().count());
    }

    @Test
    void completedInputFlushesEveryWindowAndMarksOpenOnesIncomplete() {
        TestBatch owner = new TestBatch();
        StepVerifier.withVirtualTime(() -> {
                    VirtualTimeScheduler vts = VirtualTimeScheduler.get();
                    LongSupplier clock = () -> vts.now(TimeUnit.MILLISECONDS);
                    Aggregation agg = new Aggregation(config(4, 100), new SeriesBudget(100), Schedulers.immediate(),
                            metrics, clock);
                    Flux<Part> parts = Flux.concat(
                            Mono.fromSupplier(() -> owner.part(4, new Point(CPU, 1.0, 1_000, 1))),
                            Mono.delay(Duration.ofSeconds(16)).then(Mono.fromSupplier(
                                    () -> owner.part(4, new Point(CPU, 2.0, 12_000, 2)))));
                    return agg.run(parts).flatMapIterable(w -> w).collectList();
                })
                .expectSubscription()
                .expectNoEvent(Duration.ofSeconds(16))
                .assertNext(windows -> {
                    assertEquals(2, windows.size());
                    Window closed = windows.stream().filter(w -> w.start() == 0).findFirst().orElseThrow();
                    Window open = windows.stream().filter(w -> w.start() == 10_000).findFirst().orElseThrow();
                    assertTrue(closed.complete(), "window [0,10s) was due at 15s");
                    assertFalse(open.complete(), "window [10s,20s) is flushed early by the shutdown");
                })
                .verifyComplete();
    }

    @Test
    void theFinalFlushComesAsAListPerShardOfOneFlushNumberThatBuildsEachWindowAsItIsRead() {
        TestBatch owner = new TestBatch();
        Aggregation agg = new Aggregation(config(2, 100), new SeriesBudget(100), Schedulers.immediate(), metrics,
                () -> 0L);
        List<Part> parts = new ArrayList<>();
        for (int h = 0; h < 20; h++) {
            parts.add(owner.part(2, new Point(SeriesKey.of("cpu", Map.of("host", "h" + h)), h, 1_000, h + 1)));
        }
        List<List<Window>> lists = agg.run(Flux.fromIterable(parts)).collectList().block();

        assertEquals(2, lists.size(), "one list per shard");
        assertEquals(20, lists.stream().mapToInt(List::size).sum());
        assertNotEquals(lists.get(0).get(0).flushSeq(), lists.get(1).get(0).flushSeq());
        double sum = 0;
        for (List<Window> windows : lists) {
            for (Window w : windows) {
                assertEquals(windows.get(0).flushSeq(), w.flushSeq(), "a list holds one flush number");
                assertFalse(w.complete(), "window [0 s, 10 s) is flushed early by the shutdown");
                sum += w.aggregate().sum();
            }
            assertNotSame(windows.get(0), windows.get(0), "the windows wait in columns, not as window objects");
        }
        assertEquals(190, sum);
    }

    @Test
    void seriesLimitRejectsNewSeriesButExistingOnesKeepAggregating() {
        TestBatch owner = new TestBatch();
        Aggregation agg = new Aggregation(config(1, 2), new SeriesBudget(2), Schedulers.immediate(), metrics,
                () -> 0L);
        Sinks.Many<Part> parts = Sinks.many().unicast().onBackpressureBuffer();
        List<Window> all = new ArrayList<>();
        agg.run(parts.asFlux()).subscribe(all::addAll);
        SeriesKey a = SeriesKey.of("m", Map.of("k", "a"));
        SeriesKey b = SeriesKey.of("m", Map.of("k", "b"));
        SeriesKey c = SeriesKey.of("m", Map.of("k", "c"));
        Part p = owner.part(1, new Point(a, 1, 0, 1), new Point(b, 1, 0, 2), new Point(c, 1, 0, 3),
                new Point(a, 1, 0, 4));
        parts.tryEmitNext(p);
        parts.tryEmitComplete();
        Batch batch = owner.completed.get(0);
        assertEquals(3, batch.accepted());
        List<Reject> rejects = batch.rejects();
        assertEquals(1, rejects.size());
        assertEquals(3, rejects.get(0).line());
        assertEquals(RejectReason.SERIES_LIMIT, rejects.get(0).reason());
        assertEquals("series limit reached", rejects.get(0).message());
        assertEquals(2, all.stream().filter(w -> w.series().equals(a)).mapToLong(w -> w.aggregate().count()).sum());
    }

    @Test
    void onceTheStageHasEndedTheShardsAnswerThatThePipelineIsStopping() {
        Aggregation agg = new Aggregation(config(2, 100), new SeriesBudget(100), Schedulers.immediate(), metrics,
                () -> 0L);
        StepVerifier.create(agg.run(Flux.empty())).verifyComplete();
        StepVerifier.create(agg.close(1_000)).verifyError(PipelineStopping.class);
        StepVerifier.create(agg.snapshot("m", Map.of(), s -> true, 0, 10_000)).verifyError(PipelineStopping.class);
        StepVerifier.create(agg.activeSeries(null)).verifyError(PipelineStopping.class);
    }

    @Test
    @Timeout(120)
    void queriesOnAMultiThreadedShardExecutorNeverRunBesideTheShardsOwnWork() throws Exception {
        int shards = 2;
        int partCount = 3_000;
        int pointsPerPart = 8;
        long total = (long) partCount * pointsPerPart;
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            Aggregation agg = new Aggregation(config(shards, (int) total), new SeriesBudget((int) total),
                    Schedulers.fromExecutorService(pool), metrics, () -> 0L);
            Sinks.Many<Part> parts = Sinks.many().unicast().onBackpressureBuffer();
            agg.run(parts.asFlux()).subscribe();
            AtomicBoolean sending = new AtomicBoolean(true);
            CompletableFuture<List<Long>> seen = Background.call("querying", () -> {
                List<Long> counts = new ArrayList<>();
                while (sending.get()) {
                    counts.add(count(agg.snapshot("m", Map.of(), s -> true, 0, 10_000).block(Duration.ofSeconds(30))));
                }
                return counts;
            });
            // Every point is a new series, so the shards' maps keep growing while the queries walk them.
            Batch.Owner owner = b -> { };
            int next = 0;
            for (int i = 0; i < partCount; i++) {
                List<Point> points = new ArrayList<>();
                int shard = i % shards;
                while (points.size() < pointsPerPart) {
                    SeriesKey s = SeriesKey.of("m", Map.of("s", String.valueOf(next++)));
                    if (s.shard(shards) == shard) {
                        points.add(new Point(s, 1, 1_000, points.size() + 1));
                    }
                }
                Batch batch = new Batch(owner, points, new ArrayList<>(), null);
                batch.validated(List.of(), 1);
                parts.tryEmitNext(new Part(shard, batch, points));
            }
            long last = 0;
            while (last < total) {
                last = count(agg.snapshot("m", Map.of(), s -> true, 0, 10_000).block(Duration.ofSeconds(30)));
            }
            sending.set(false);
            List<Long> counts = seen.get(30, TimeUnit.SECONDS);
            assertEquals(total, last);
            for (int i = 1; i < counts.size(); i++) {
                assertTrue(counts.get(i) >= counts.get(i - 1) && counts.get(i) <= total,
                        "a snapshot sees every part before it whole, once: " + counts);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void aCloseAfterAFlushQueriesReadThroughATagIndexHandsItsRunsOverIndexedByThatTag() {
        int series = 2 * PendingFlushes.INDEX_FROM;
        Aggregation agg = new Aggregation(config(1, series), new SeriesBudget(series), Schedulers.immediate(),
                metrics, () -> 0L);
        List<Runnable> preparations = new ArrayList<>();
        agg.prepareOn(Schedulers.fromExecutor(preparations::add));
        Sinks.Many<Part> parts = Sinks.many().unicast().onBackpressureBuffer();
        agg.run(parts.asFlux()).subscribe();
        TestBatch owner = new TestBatch();
        for (long start : new long[]{0, 10_000}) {
            for (int i = 0; i < series; i++) {
                parts.tryEmitNext(owner.part(1, new Point(SeriesKey.of("cpu", Map.of("host", "h" + i)), 1,
                        start + 1_000, 1)));
            }
            ClosedWindows closed = (ClosedWindows) agg.close(start + 15_000).block(Duration.ofSeconds(10)).windows();
            List<long[]> indexes = new ArrayList<>();
            assertTrue(closed.runs(0, 0, (run, metric, from, to, cut) -> indexes.add(closed.runIndex(run, "host"))));
            assertEquals(1, indexes.size(), "one run, of cpu");
            if (start == 0) {
                assertNull(indexes.get(0), "no flush read before");
                agg.pending().view("cpu", Map.of("host", List.of("h7")));
            } else {
                assertEquals(series, indexes.get(0).length, "indexed by host, as the query read the flush before");
                assertEquals(1, preparations.size(), "to be prepared by merging");
            }
        }
    }

    private static long count(Aggregation.Snapshot snap) {
        return snap.windows().stream().mapToLong(w -> w.aggregate().count()).sum();
    }
}
