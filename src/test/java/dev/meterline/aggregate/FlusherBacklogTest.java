package dev.meterline.aggregate;

import dev.meterline.config.AggregationConfig;
import dev.meterline.model.Batch;
import dev.meterline.model.Part;
import dev.meterline.model.Point;
import dev.meterline.model.SeriesKey;
import dev.meterline.model.Window;
import dev.meterline.telemetry.PipelineMetrics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Schedulers;
import reactor.test.StepVerifier;
import reactor.test.scheduler.VirtualTimeScheduler;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import java.util.function.LongSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The flush loop against a failing store, on virtual time: backlog kept, backoff, push back at the bound, spill. */
class FlusherBacklogTest {

    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final PipelineMetrics metrics = new PipelineMetrics(registry);
    private final AtomicBoolean down = new AtomicBoolean(true);
    private final List<Window> stored = new CopyOnWriteArrayList<>();
    private final List<Boolean> pauses = new CopyOnWriteArrayList<>();
    private final StorageHealth health = new StorageHealth();
    private final AtomicReference<Aggregation> aggregation = new AtomicReference<>();
    private final AtomicReference<Flusher> flusher = new AtomicReference<>();

    private Mono<Void> write(List<Window> windows) {
        return Mono.defer(() -> {
            if (down.get()) {
                return Mono.error(new IllegalStateException("connection refused"));
            }
            stored.addAll(windows);
            return Mono.empty();
        });
    }

    private static Part part(SeriesKey key, double value, long ts) {
        Point p = new Point(key, value, ts, 1);
        Batch b = new Batch(batch -> { }, List.of(p), new ArrayList<>(), null);
        b.validated(List.of(), 1);
        return new Part(0, b, List.of(p));
    }

    /** Three series with one point each in window [0 s, 10 s), due at 15 s, and a flusher ticking every second. */
    private Mono<Void> start(int maxPending, Spill spill) {
        return start(maxPending, spill, 3);
    }

    /** As {@link #start(int, Spill)}, with {@code series} series. */
    private Mono<Void> start(int maxPending, Spill spill, int series) {
        VirtualTimeScheduler vts = VirtualTimeScheduler.get();
        LongSupplier clock = () -> vts.now(TimeUnit.MILLISECONDS);
        Aggregation agg = new Aggregation(new AggregationConfig(Duration.ofSeconds(10), Duration.ofSeconds(5),
                Duration.ofSeconds(1), 100, 1), new SeriesBudget(1_000), Schedulers.immediate(), metrics, clock);
        aggregation.set(agg);
        Sinks.Many<Part> parts = Sinks.many().unicast().onBackpressureBuffer();
        agg.run(parts.asFlux()).subscribe();
        for (int s = 0; s < series; s++) {
            parts.tryEmitNext(part(SeriesKey.of("cpu", Map.of("host", "h" + s)), s, 2_000));
        }
        Flusher f = new Flusher(agg, this::write, Duration.ofSeconds(1), metrics, clock,
                Duration.ofMillis(500), Duration.ofSeconds(4), health, maxPending, pauses::add, spill);
        flusher.set(f);
        // The reports are not the subject here: the state of memory, spill and store is.
        return f.run(Flux.interval(Duration.ofSeconds(1))).then();
    }

    private int pending() {
        return aggregation.get().pending().windows();
    }

    @Test
    void failedWritesKeepTheBacklogPauseIngestAtTheBoundAndResumeOnceStored() {
        StepVerifier.withVirtualTime(() -> start(2, Spill.NONE))
                .thenAwait(Duration.ofSeconds(15))
                .then(() -> {
                    assertEquals(3, pending());
                    assertTrue(health.failing());
                    assertTrue(health.lastFailure().contains("connection refused"), health.lastFailure());
                    assertEquals(List.of(true), pauses);
                    assertTrue(health.ingestPaused());
                })
                // Backoff 500 ms, 1 s, 2 s, 4 s, 4 s (at most), checked on 1 s ticks: attempts at 15, 16, 17, 19, 23
                // and 27 s, and no others up to 30 s.
                .thenAwait(Duration.ofSeconds(15))
                .then(() -> {
                    assertEquals(6, metrics.flushFailures());
                    assertEquals(3, pending());
                    assertTrue(stored.isEmpty());
                    down.set(false);
                })
                .thenAwait(Duration.ofSeconds(5))
                .then(() -> {
                    assertEquals(3, stored.size());
                    assertEquals(0, pending());
                    assertFalse(health.failing());
                    assertEquals(List.of(true, false), pauses);
                })
                .thenCancel()
                .verify(Duration.ofSeconds(10));
    }

    @Test
    void lagCountsFromTheLastTimeStorageHeldEveryClosedWindow() {
        StepVerifier.withVirtualTime(() -> start(100, Spill.NONE))
                .thenAwait(Duration.ofSeconds(14))
                .then(() -> assertEquals(0, flusher.get().lagMillis(), "nothing closed yet"))
                // The window closes at 15 s and cannot be written; the last tick that left nothing waiting was 14 s.
                .thenAwait(Duration.ofSeconds(11))
                .then(() -> {
                    assertEquals(3, pending());
                    assertEquals(11_000, flusher.get().lagMillis());
                    down.set(false);
                })
                // The next attempt, at 27 s, stores the windows.
                .thenAwait(Duration.ofSeconds(2))
                .then(() -> {
                    assertEquals(0, pending());
                    assertEquals(0, flusher.get().lagMillis());
                })
                .thenCancel()
                .verify(Duration.ofSeconds(10));
    }

    @Test
    void beyondTheBoundWindowsSpillWhileTheSpillHasRoomAndMoveToStorageWhenItIsBack() {
        InMemorySpill spill = new InMemorySpill(2);
        StepVerifier.withVirtualTime(() -> start(1, spill))
                .thenAwait(Duration.ofSeconds(15))
                .then(() -> {
                    // Chunks of up to 250 windows: the whole flush went to the spill, which is now full.
                    assertEquals(3, spill.held.size());
                    assertEquals(0, pending());
                    assertTrue(pauses.isEmpty(), "nothing waits in memory, so ingest goes on: " + pauses);
                    down.set(false);
                })
                .thenAwait(Duration.ofSeconds(3))
                .then(() -> {
                    assertEquals(3, stored.size());
                    assertEquals(0, spill.held.size());
                    assertFalse(health.failing());
                })
                .thenCancel()
                .verify(Duration.ofSeconds(10));
    }

    @Test
    void whatTheSpillHasNoRoomForStaysPendingInItsShardsRuns() {
        InMemorySpill spill = new InMemorySpill(300);
        StepVerifier.withVirtualTime(() -> start(1, spill, 600))
                .thenAwait(Duration.ofSeconds(15))
                .then(() -> {
                    // Two chunks of 250 filled the spill; the rest of the flush waits in memory.
                    assertEquals(500, spill.held.size());
                    assertEquals(100, pending());
                    PendingFlushes pending = (PendingFlushes) aggregation.get().pending();
                    long seq = pending.view().keySet().iterator().next();
                    List<Window> rest = pending.view("cpu").get(seq);
                    assertTrue(pending.groupedByRuns(seq), "grouped by the runs the shard closed the windows in");
                    Set<SeriesKey> all = new HashSet<>();
                    spill.held.forEach(w -> all.add(w.series()));
                    rest.forEach(w -> all.add(w.series()));
                    assertEquals(600, all.size(), "each window either spilled or pending");
                    down.set(false);
                })
                .thenAwait(Duration.ofSeconds(5))
                .then(() -> {
                    assertEquals(600, stored.size());
                    assertEquals(0, pending());
                    assertEquals(0, spill.held.size());
                })
                .thenCancel()
                .verify(Duration.ofSeconds(10));
    }

    /** A spill in memory that is full once it holds {@code capacity} windows or more. */
    private static final class InMemorySpill implements Spill {
        final List<Window> held = new CopyOnWriteArrayList<>();
        final int capacity;

        InMemorySpill(int capacity) {
            this.capacity = capacity;
        }

        @Override
        public boolean full() {
            return held.size() >= capacity;
        }

        @Override
        public long windows() {
            return held.size();
        }

        @Override
        public Mono<Void> put(List<Window> windows) {
            return Mono.fromRunnable(() -> held.addAll(windows));
        }

        @Override
        public Mono<Integer> moveOldest(int max, Function<List<Window>, Mono<Void>> writer) {
            List<Window> batch = List.copyOf(held.subList(0, Math.min(max, held.size())));
            return writer.apply(batch).then(Mono.fromSupplier(() -> {
                held.subList(0, batch.size()).clear();
                return batch.size();
            }));
        }
    }
}
