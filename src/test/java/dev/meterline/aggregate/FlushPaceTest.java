package dev.meterline.aggregate;

import dev.meterline.config.AggregationConfig;
import dev.meterline.model.Aggregate;
import dev.meterline.model.SeriesKey;
import dev.meterline.model.Window;
import dev.meterline.telemetry.MeterNames;
import dev.meterline.telemetry.PipelineMetrics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;
import reactor.test.scheduler.VirtualTimeScheduler;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The pace of one flush's slices on virtual time: spread, late slices at once, hurry, and when it applies. */
class FlushPaceTest {

    private final VirtualTimeScheduler vts = VirtualTimeScheduler.create();
    /** Each write as "part@ms:size" or "last@ms:size", at its start (virtual ms). */
    private final List<String> writes = new CopyOnWriteArrayList<>();
    private final AtomicInteger syncs = new AtomicInteger();
    private Duration writeTakes = Duration.ZERO;

    @AfterEach
    void dispose() {
        vts.dispose();
    }

    private static List<Window> windows(int n) {
        List<Window> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(new Window(SeriesKey.of("m", Map.of("i", String.valueOf(i))), 0, 10_000, new Aggregate(), true, 1));
        }
        return out;
    }

    private Function<List<Window>, Mono<Void>> recorder(String kind) {
        return w -> Mono.defer(() -> {
            writes.add(kind + "@" + vts.now(TimeUnit.MILLISECONDS) + ":" + w.size());
            return writeTakes.isZero() ? Mono.empty() : Mono.delay(writeTakes, vts).then();
        });
    }

    private final AtomicBoolean urgent = new AtomicBoolean();

    private static AggregationConfig config(int percent, Duration window, Duration lateness, Duration interval) {
        return new AggregationConfig(window, lateness, interval, 1, 1, 1, Duration.ofMillis(100),
                Duration.ofSeconds(10), percent);
    }

    /** A pace of {@code percent} % in slices of two windows. */
    private FlushPace pace(int percent) {
        return new FlushPace(config(percent, Duration.ofSeconds(10), Duration.ofSeconds(5), Duration.ofSeconds(1)), 2,
                Mono::just, recorder("part"), () -> Mono.fromRunnable(syncs::incrementAndGet), vts, urgent::get);
    }

    /** Writes {@code windows} windows spread over {@code percent} % of 2 s. */
    private Mono<Void> write(FlushPace pace, int windows) {
        return pace.write(windows(windows), Duration.ofSeconds(2), recorder("last"));
    }

    @Test
    void aFlushIsSpreadEvenlyOverItsShareOfTheInterval() {
        FlushPace pace = pace(50);
        AtomicBoolean done = new AtomicBoolean();
        write(pace, 10).subscribe(null, null, () -> done.set(true));

        vts.advanceTimeBy(Duration.ofMillis(799));
        assertEquals(List.of("part@0:2", "part@200:2", "part@400:2", "part@600:2"), writes);
        assertFalse(done.get());
        vts.advanceTimeBy(Duration.ofMillis(1));
        assertEquals(List.of("part@0:2", "part@200:2", "part@400:2", "part@600:2", "last@800:2"), writes);
        assertTrue(done.get());
        assertEquals(1, syncs.get(), "the log is synced before the first slice");
        assertEquals(800, TimeUnit.NANOSECONDS.toMillis(pace.pacedNanos()));
    }

    @Test
    void slicesBehindTheScheduleStartAtOnceSoAFlushNeverEndsLaterThanAtFullSpeed() {
        FlushPace pace = pace(50);
        writeTakes = Duration.ofMillis(300);
        write(pace, 10).subscribe();

        vts.advanceTimeBy(Duration.ofSeconds(2));
        assertEquals(List.of("part@0:2", "part@300:2", "part@600:2", "part@900:2", "last@1200:2"), writes);
        assertEquals(0, pace.pacedNanos());
    }

    @Test
    void aSlowerWriterWaitsOnlyWhatIsLeftOfEachSlicesTurn() {
        FlushPace pace = pace(50);
        writeTakes = Duration.ofMillis(150);
        write(pace, 10).subscribe();

        vts.advanceTimeBy(Duration.ofSeconds(2));
        assertEquals(List.of("part@0:2", "part@200:2", "part@400:2", "part@600:2", "last@800:2"), writes);
        assertEquals(4 * 50, TimeUnit.NANOSECONDS.toMillis(pace.pacedNanos()));
    }

    @Test
    void hurryEndsTheWaitUnderWayAndWritesTheRestAtOnce() {
        FlushPace pace = pace(50);
        AtomicBoolean done = new AtomicBoolean();
        write(pace, 10).subscribe(null, null, () -> done.set(true));

        vts.advanceTimeBy(Duration.ofMillis(250));
        assertEquals(List.of("part@0:2", "part@200:2"), writes);
        pace.hurry();
        assertEquals(List.of("part@0:2", "part@200:2", "part@250:2", "part@250:2", "last@250:2"), writes);
        assertTrue(done.get());
        assertFalse(pace.applies(10), "once hurried, flushes are written whole");
    }

    @Test
    void aFailedSliceFailsTheFlushAndWritesNoFurtherSlice() {
        AtomicInteger calls = new AtomicInteger();
        FlushPace pace = new FlushPace(config(50, Duration.ofSeconds(10), Duration.ZERO, Duration.ofSeconds(1)), 2,
                Mono::just, w -> Mono.defer(() -> calls.incrementAndGet() == 2
                        ? Mono.error(new IllegalStateException("connection refused")) : Mono.empty()),
                Mono::empty, vts, () -> false);
        List<Throwable> errors = new CopyOnWriteArrayList<>();
        Disposable d = write(pace, 10).subscribe(null, errors::add);

        vts.advanceTimeBy(Duration.ofSeconds(2));
        assertEquals(2, calls.get());
        assertEquals(1, errors.size());
        assertTrue(writes.isEmpty(), "the last slice was never written: " + writes);
        d.dispose();
    }

    @Test
    void smallFlushesAndAPaceOfZeroAreWrittenWholeAtOnce() {
        write(pace(50), 3).subscribe();
        write(pace(0), 10).subscribe();
        assertEquals(List.of("last@0:3", "last@0:10"), writes);
        assertTrue(pace(50).applies(4));
        assertFalse(pace(50).applies(3));
        assertFalse(FlushPace.off().applies(1_000_000));
    }

    @Test
    void theBoundsOfTheShareAreChecked() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> pace(91));
        assertEquals("flushSpreadPercent: 91 (expected: 0 to 90)", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> pace(-1));
        assertThrows(IllegalArgumentException.class, () -> new FlushPace(config(50, Duration.ofSeconds(10),
                Duration.ZERO, Duration.ofSeconds(1)), 0, Mono::just, recorder("part"), Mono::empty, vts, () -> false));
        write(pace(90), 10).subscribe();
        vts.advanceTimeBy(Duration.ofSeconds(2));
        // 90 % of 2 s over five slices: a slice every 360 ms, the last at 1.44 s, before the next tick.
        assertEquals(List.of("part@0:2", "part@360:2", "part@720:2", "part@1080:2", "last@1440:2"), writes);
    }

    @Test
    void whileUrgentTheWaitUnderWayEndsWithinACheckAndTheRestGoesAtOnce() {
        FlushPace pace = pace(50);
        write(pace, 10).subscribe();
        vts.advanceTimeBy(Duration.ofMillis(250));
        urgent.set(true);
        vts.advanceTimeBy(Duration.ofMillis(50));
        assertEquals(List.of("part@0:2", "part@200:2", "part@300:2", "part@300:2", "last@300:2"), writes);
    }

    @Test
    void aFlushMaySpreadUntilTheNextWindowsFallDueOrOverOneIntervalIfThatIsLonger() {
        FlushPace pace = pace(50);
        // Windows of 10 s with 5 s lateness: [0 s, 10 s) falls due at 15 s, the next at 25 s.
        assertEquals(10_000, pace.spanAfter(15_000));
        assertEquals(9_700, pace.spanAfter(15_300));
        assertEquals(1_000, pace.spanAfter(24_999), "at least until the next tick");
        assertEquals(10_000, pace.spanAfter(25_000));
        assertEquals(10_000, pace.spanAfter(-5_000));
        FlushPace slowTicks = new FlushPace(config(50, Duration.ofSeconds(10), Duration.ofSeconds(5),
                Duration.ofSeconds(30)), 2, Mono::just, recorder("part"), Mono::empty, vts, () -> false);
        assertEquals(30_000, slowTicks.spanAfter(15_000));
        FlushPace remoteWrite = new FlushPace(config(50, Duration.ofSeconds(10), Duration.ofSeconds(5),
                Duration.ofSeconds(1)), 2, Mono::just, recorder("part"), Mono::empty, vts, () -> false,
                5_000, System::nanoTime);
        assertEquals(5_000, remoteWrite.spanAfter(15_000), "within the remote write delay");
        assertEquals(1_000, remoteWrite.spanAfter(24_000));
    }

    @Test
    void theSlicesAreCutFromTheFlushInTheOrderGiven() {
        List<List<Window>> slices = new CopyOnWriteArrayList<>();
        FlushPace pace = new FlushPace(config(50, Duration.ofSeconds(10), Duration.ofSeconds(5),
                Duration.ofSeconds(1)), 2, w -> {
                    List<Window> reversed = new ArrayList<>(w);
                    Collections.reverse(reversed);
                    return Mono.just(reversed);
                }, w -> Mono.fromRunnable(() -> slices.add(w)), Mono::empty, vts, () -> false);
        List<Window> flush = windows(5);
        pace.write(flush, Duration.ofSeconds(2), w -> Mono.fromRunnable(() -> slices.add(w))).subscribe();
        vts.advanceTimeBy(Duration.ofSeconds(2));
        assertEquals(List.of(List.of(flush.get(4), flush.get(3)), List.of(flush.get(2), flush.get(1)),
                List.of(flush.get(0))), slices);
    }

    @Test
    void theTimeSpentWaitingIsAMeter() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        FlushPace pace = pace(50);
        pace.bindTo(new PipelineMetrics(registry));
        write(pace, 10).subscribe();
        vts.advanceTimeBy(Duration.ofSeconds(1));
        assertEquals(0.8, registry.get(MeterNames.FLUSH_PACED).functionCounter().count(), 1e-9);
        assertEquals(1.0, registry.get(MeterNames.FLUSHES_PACED).functionCounter().count());
    }
}
