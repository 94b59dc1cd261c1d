package dev.meterline.aggregate;

import dev.meterline.config.AggregationConfig;
import dev.meterline.model.Aggregate;
import dev.meterline.model.Batch;
import dev.meterline.model.Part;
import dev.meterline.model.Point;
import dev.meterline.model.SeriesKey;
import dev.meterline.model.Window;
import dev.meterline.telemetry.MeterNames;
import dev.meterline.telemetry.PipelineMetrics;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Schedulers;
import reactor.test.scheduler.VirtualTimeScheduler;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The flush loop with a pace, on virtual time: a flush alone is spread and stays wholly pending until its last slice;
 * a retry, the drain when the ticks end and the final flush go at full speed.
 */
class FlusherPaceTest {

    private static final int SERIES = 7;

    private final VirtualTimeScheduler vts = VirtualTimeScheduler.create();
    private final PipelineMetrics metrics = new PipelineMetrics(new SimpleMeterRegistry());
    private FlushPace pace;
    private final AtomicBoolean down = new AtomicBoolean();
    /** Each write as "part@ms:size" or "whole@ms:size" (virtual ms). */
    private final List<String> writes = new CopyOnWriteArrayList<>();
    private final List<Window> stored = new CopyOnWriteArrayList<>();
    private final AtomicInteger afterStored = new AtomicInteger();
    private final Sinks.Empty<Void> stopTicks = Sinks.empty();
    private final AtomicBoolean loopDone = new AtomicBoolean();
    private Aggregation aggregation;
    private Flusher flusher;

    private Mono<Void> write(String kind, List<Window> windows) {
        return Mono.defer(() -> {
            if (down.get()) {
                return Mono.error(new IllegalStateException("connection refused"));
            }
            writes.add(kind + "@" + vts.now(TimeUnit.MILLISECONDS) + ":" + windows.size());
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

    /**
     * Seven series with a point each in window [0 s, 10 s), due at 15 s; a flusher on 1 s ticks (until
     * {@code stopTicks}), pacing a flush over 50 % of the 10 s until the next windows fall due, in slices of two
     * windows (at 0, 1.25, 2.5 and 3.75 s).
     */
    @BeforeEach
    void start() {
        AggregationConfig config = new AggregationConfig(Duration.ofSeconds(10), Duration.ofSeconds(5),
                Duration.ofSeconds(1), 100, 1, 100, Duration.ofMillis(500), Duration.ofSeconds(4), 50);
        aggregation = new Aggregation(config, new SeriesBudget(100), Schedulers.immediate(), metrics,
                () -> vts.now(TimeUnit.MILLISECONDS));
        Sinks.Many<Part> parts = Sinks.many().unicast().onBackpressureBuffer();
        aggregation.run(parts.asFlux()).subscribe();
        for (int s = 0; s < SERIES; s++) {
            parts.tryEmitNext(part(SeriesKey.of("cpu", Map.of("host", "h" + s)), s, 2_000));
        }
        pace = new FlushPace(config, 2, Mono::just, w -> write("part", w), Mono::empty, vts, () -> false);
        flusher = new Flusher(aggregation, w -> write("whole", w), Duration.ofSeconds(1), metrics,
                () -> vts.now(TimeUnit.MILLISECONDS), Duration.ofMillis(500), Duration.ofSeconds(4),
                new StorageHealth(), 100, paused -> { }, Spill.NONE,
                () -> Mono.fromRunnable(afterStored::incrementAndGet), pace);
        flusher.run(Flux.interval(Duration.ofSeconds(1), vts).takeUntilOther(stopTicks.asMono()))
                .subscribe(null, null, () -> loopDone.set(true));
    }

    @AfterEach
    void stop() {
        vts.dispose();
    }

    private void at(long millis) {
        vts.advanceTimeTo(java.time.Instant.ofEpochMilli(millis));
    }

    private int pending() {
        return aggregation.pending().windows();
    }

    @Test
    void aFlushAloneIsSpreadAndStaysWhollyPendingUntilItsLastSliceIsStored() {
        at(14_500);
        int emptyFlushes = afterStored.get();
        at(17_000);
        assertEquals(List.of("part@15000:2", "part@16250:2"), writes);
        // Queries take the pending copy of a flush and skip its stored rows: all seven stay pending.
        assertEquals(SERIES, pending());
        assertEquals(0, aggregation.pending().departures());
        assertEquals(emptyFlushes, afterStored.get(), "the log keeps the flush's points");

        at(18_900);
        assertEquals(List.of("part@15000:2", "part@16250:2", "part@17500:2", "whole@18750:1"), writes);
        assertEquals(SERIES, stored.size());
        assertEquals(0, pending());
        assertEquals(1, aggregation.pending().departures());
        assertEquals(emptyFlushes + 1, afterStored.get());
        assertEquals((long) SERIES, metrics.snapshot().get("flushedWindows"));
        // The ticks at 16, 17 and 18 s came within the spread, when no window was due: not skipped.
        assertEquals(0L, metrics.snapshot().get("flushTicksSkipped"));
        // Writes take no virtual time: every flush, the paced one too (3.75 s of it waits), is timed at zero, on the
        // clock its waits were counted on.
        Timer writing = metrics.registry().get(MeterNames.FLUSH_DURATION).timer();
        assertTrue(writing.count() >= 4, "flushes timed: " + writing.count());
        assertEquals(0.0, writing.totalTime(TimeUnit.NANOSECONDS));
        assertEquals(3_750, TimeUnit.NANOSECONDS.toMillis(pace.pacedNanos()));
    }

    @Test
    void aRetryAfterAFailedSliceWritesTheWholeFlushAtOnce() {
        at(17_000);
        down.set(true);
        // The third slice, at 17.5 s, fails; the next attempt may come from 18 s.
        at(17_700);
        assertEquals(List.of("part@15000:2", "part@16250:2"), writes);
        assertEquals(SERIES, pending(), "a failed flush stays wholly pending");
        assertEquals(1, metrics.flushFailures());
        down.set(false);

        at(18_000);
        // The retry goes whole, in one write; the store skips the two slices it holds already.
        assertEquals(List.of("part@15000:2", "part@16250:2", "whole@18000:7"), writes);
        assertEquals(0, pending());
    }

    @Test
    void whenTheTicksEndTheFlushUnderWayFinishesAtFullSpeed() {
        at(16_300);
        stopTicks.tryEmitEmpty();
        assertEquals(List.of("part@15000:2", "part@16250:2", "part@16300:2", "whole@16300:1"), writes);
        assertEquals(0, pending());
        assertTrue(loopDone.get());
    }

    @Test
    void theFinalFlushIsWrittenWholeAtOnce() {
        List<Window> last = new ArrayList<>();
        for (int s = 0; s < SERIES; s++) {
            last.add(new Window(SeriesKey.of("mem", Map.of("host", "h" + s)), 0, 10_000, new Aggregate(), true, 1));
        }
        at(14_000);
        flusher.flushFinal(List.of(last)).subscribe();
        assertEquals(List.of("whole@14000:" + SERIES), writes);
        assertEquals(0, pending());
    }
}
