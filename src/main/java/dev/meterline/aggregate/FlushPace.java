package dev.meterline.aggregate;

import dev.meterline.config.AggregationConfig;
import dev.meterline.model.Window;
import dev.meterline.telemetry.MeterNames;
import dev.meterline.telemetry.PipelineMetrics;
import io.micrometer.core.instrument.FunctionCounter;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * Writes one large flush in slices, each its own transaction, whose starts are spread evenly over a share of the time
 * until the next windows fall due, so that the store's writer takes a bounded share of the CPU beside ingest instead
 * of a whole core for as long as it runs. Windows are aligned to the epoch, so every series' windows fall due
 * together, once per window length; the ticks in between close nothing but corrections by late points. A slice that
 * the schedule finds late starts at once, so a flush never ends later than at full speed; while {@code urgent} holds
 * (the log or the backlog past half its bound) and after {@link #hurry()} every slice starts at once. The waits are
 * timers, not sleeps.
 */
public final class FlushPace {

    /** Windows per slice; a flush of fewer than two slices is written whole. */
    public static final int SLICE_WINDOWS = 10_000;
    /** How often a wait looks whether the pace turned urgent. */
    static final Duration URGENT_CHECK = Duration.ofMillis(100);

    private final int spreadPercent;
    private final long windowMs;
    private final long latenessMs;
    private final long intervalMs;
    private final int sliceWindows;
    private final BooleanSupplier urgent;
    private final long maxSpanMs;
    private final Function<List<Window>, Mono<List<Window>>> order;
    private final Function<List<Window>, Mono<Void>> writePart;
    private final Supplier<Mono<Void>> beforeFirst;
    private final Scheduler timer;
    private final LongSupplier nanoTime;
    private final AtomicLong pacedNanos = new AtomicLong();
    private final AtomicLong pacedFlushes = new AtomicLong();
    private final Sinks.Empty<Void> hurried = Sinks.empty();
    private volatile boolean hurry;
    /** The end of the time the flush under way may take, on the timer (nanoseconds); 0 when none is paced. */
    private volatile long pacedUntil;

    /**
     * Spreads a flush over {@code flushSpreadPercent} % of {@code config}'s time until the next windows fall due (0:
     * every flush is written whole, at full speed) in slices of {@code sliceWindows}, waiting on {@code timer}. The
     * slices are cut from the flush as {@code order} puts it (the store's key order, so that each slice fills one
     * stretch of the key). Every slice but the last goes through {@code writePart} (which must leave the flush's
     * number unstored, see {@link dev.meterline.store.Store#writePart}), the first after {@code beforeFirst} completes
     * (the write-ahead log's sync); the last goes through the writer {@link #write} is given. The waits are counted
     * on the timer's own clock.
     */
    public FlushPace(AggregationConfig config, int sliceWindows, Function<List<Window>, Mono<List<Window>>> order,
                     Function<List<Window>, Mono<Void>> writePart, Supplier<Mono<Void>> beforeFirst, Scheduler timer,
                     BooleanSupplier urgent) {
        this(config, sliceWindows, order, writePart, beforeFirst, timer, urgent, Long.MAX_VALUE,
                () -> timer.now(TimeUnit.NANOSECONDS));
    }

    /**
     * As above, never spreading a flush over more than {@code maxSpanMs} (the remote write delay, after which the
     * exporting replica reads the windows of every replica), and counting the waits on {@code nanoTime}: the clock
     * the flusher times its writes by ({@link #nanoTime()}), so that a write's time less its waits is never negative.
     */
    public FlushPace(AggregationConfig config, int sliceWindows, Function<List<Window>, Mono<List<Window>>> order,
                     Function<List<Window>, Mono<Void>> writePart, Supplier<Mono<Void>> beforeFirst, Scheduler timer,
                     BooleanSupplier urgent, long maxSpanMs, LongSupplier nanoTime) {
        if (sliceWindows < 1) {
            throw new IllegalArgumentException("sliceWindows: " + sliceWindows + " (expected: > 0)");
        }
        this.spreadPercent = config.flushSpreadPercent();
        this.windowMs = config.window().toMillis();
        this.latenessMs = config.lateness().toMillis();
        this.intervalMs = config.flushInterval().toMillis();
        this.sliceWindows = sliceWindows;
        this.order = order;
        this.writePart = writePart;
        this.beforeFirst = beforeFirst;
        this.timer = timer;
        this.nanoTime = nanoTime;
        this.urgent = urgent;
        if (maxSpanMs < 0) {
            throw new IllegalArgumentException("maxSpanMs: " + maxSpanMs + " (expected: >= 0)");
        }
        this.maxSpanMs = maxSpanMs;
    }

    /** A pace that writes every flush whole, at full speed. */
    public static FlushPace off() {
        AggregationConfig config = new AggregationConfig(Duration.ofSeconds(10), Duration.ZERO, Duration.ofSeconds(1),
                1, 1, 1, AggregationConfig.DEFAULT_FLUSH_BACKOFF, AggregationConfig.DEFAULT_FLUSH_BACKOFF_MAX, 0);
        return new FlushPace(config, SLICE_WINDOWS, Mono::just, w -> Mono.empty(), Mono::empty,
                Schedulers.immediate(), () -> false, Long.MAX_VALUE, System::nanoTime);
    }

    /**
     * The time a flush closed at {@code cutoff} may be spread over, in ms: until the next windows fall due (a window's
     * end plus lateness), or one flush interval when that is longer (the next tick is the next chance to close); at
     * most the longest span this pace was given.
     */
    long spanAfter(long cutoff) {
        long nextStart = Math.floorDiv(cutoff - windowMs - latenessMs, windowMs) * windowMs + windowMs;
        return Math.min(maxSpanMs, Math.max(intervalMs, nextStart + windowMs + latenessMs - cutoff));
    }

    /** True while a paced flush is under way and within the time it may take. */
    public boolean withinSpread() {
        long until = pacedUntil;
        return until != 0 && timer.now(TimeUnit.NANOSECONDS) <= until;
    }

    /** Registers the time spent waiting between slices and the number of paced flushes on {@code metrics}. */
    public void bindTo(PipelineMetrics metrics) {
        FunctionCounter.builder(MeterNames.FLUSH_PACED, pacedNanos, n -> n.get() / 1e9).baseUnit("seconds")
                .description("time flushes waited between their slices to leave CPU to ingest")
                .register(metrics.registry());
        FunctionCounter.builder(MeterNames.FLUSHES_PACED, pacedFlushes, AtomicLong::get)
                .description("flushes written in slices spread until the next windows fall due")
                .register(metrics.registry());
    }

    /** The share of the time until the next windows fall due that a flush is spread over, in percent; 0 when off. */
    public int spreadPercent() {
        return spreadPercent;
    }

    /** Nanoseconds spent waiting between slices so far, on {@link #nanoTime()}'s clock. */
    public long pacedNanos() {
        return pacedNanos.get();
    }

    /** The clock, in nanoseconds, that the waits are counted on and that a flush's writing time is taken by. */
    public long nanoTime() {
        return nanoTime.getAsLong();
    }

    /** True when a flush of {@code windows} windows would be written in slices. */
    public boolean applies(int windows) {
        return spreadPercent > 0 && !hurry && windows >= 2L * sliceWindows;
    }

    /** From now on (the process is stopping), every slice starts at once; a wait under way ends. */
    public void hurry() {
        hurry = true;
        hurried.tryEmitEmpty();
    }

    /** As {@link #write(List, Duration, Function)}, spread over the share of {@link #spanAfter}({@code cutoff}). */
    Mono<Void> write(List<Window> windows, long cutoff, Function<List<Window>, Mono<Void>> writeLast) {
        return write(windows, Duration.ofMillis(spanAfter(cutoff)), writeLast);
    }

    /**
     * Writes {@code windows}, one flush: when {@link #applies}, in slices spread over the share of {@code span}, with
     * the last slice through {@code writeLast}; else whole through {@code writeLast}. Fails with the first slice that
     * fails, leaving the slices written before it stored (a retry writes the flush again; the store skips what it
     * holds).
     */
    public Mono<Void> write(List<Window> windows, Duration span, Function<List<Window>, Mono<Void>> writeLast) {
        return Mono.defer(() -> {
            int n = windows.size();
            if (!applies(n)) {
                return writeLast.apply(windows);
            }
            pacedFlushes.incrementAndGet();
            int slices = (n + sliceWindows - 1) / sliceWindows;
            long start = timer.now(TimeUnit.NANOSECONDS);
            long budgetNanos = span.toNanos() / 100 * spreadPercent;
            pacedUntil = start + budgetNanos;
            return order.apply(windows).flatMapMany(ordered -> Flux.range(0, slices).concatMap(i -> {
                int from = i * sliceWindows;
                int to = Math.min(n, from + sliceWindows);
                List<Window> slice = ordered.subList(from, to);
                Mono<Void> write = Mono.defer(() -> i == slices - 1 ? writeLast.apply(slice)
                        : i == 0 ? beforeFirst.get().then(writePart.apply(slice)) : writePart.apply(slice));
                return waitUntil(start, start + budgetNanos / slices * i).then(write);
            }, 0)).then().doFinally(s -> pacedUntil = 0);
        });
    }

    /**
     * Completes at {@code due} on the timer, at once when that has passed, the pace hurries or the timer's clock went
     * back before the flush's {@code start}, and within {@link #URGENT_CHECK} once the pace turns urgent.
     */
    private Mono<Void> waitUntil(long start, long due) {
        return Mono.defer(() -> {
            long began = timer.now(TimeUnit.NANOSECONDS);
            long wait = due - began;
            if (wait <= 0 || began < start || hurry || urgent.getAsBoolean()) {
                return Mono.empty();
            }
            long waitFrom = nanoTime.getAsLong();
            // Counted before the wait's end reaches the slice: the flusher may read the count as the flush ends.
            Runnable count = () -> pacedNanos.addAndGet(Math.max(0, nanoTime.getAsLong() - waitFrom));
            return Mono.delay(Duration.ofNanos(Math.min(wait, URGENT_CHECK.toNanos())), timer).then()
                    .or(hurried.asMono())
                    .doOnTerminate(count)
                    .doOnCancel(count)
                    .then(Mono.defer(() -> waitUntil(start, due)));
        });
    }
}
