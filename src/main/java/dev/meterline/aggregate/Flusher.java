package dev.meterline.aggregate;

import dev.meterline.model.Window;
import dev.meterline.telemetry.MeterNames;
import dev.meterline.telemetry.PipelineMetrics;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * The flush loop: on every tick, closes the windows that are due (they become pending) and writes every pending
 * flush, oldest first. A tick that comes while a write is still running is skipped and counted. A failed write
 * leaves its windows pending, counts the failure and waits out an exponential backoff, while later ticks go on
 * closing windows into pending, so that pending is the whole backlog waiting for storage.
 */
public final class Flusher {

    private static final Logger log = LoggerFactory.getLogger(Flusher.class);

    /** Most windows written in one transaction when a backlog is written; a flush of a backlog is never split. */
    static final int MAX_WINDOWS_PER_WRITE = 100_000;
    /** Windows per spool transaction; the spool's bound is checked between chunks. */
    static final int SPILL_CHUNK = 250;

    /** What one flush did: {@code windows} written ({@code 0} after a failure), in {@code attempts} tries so far. */
    public record FlushReport(long seq, int windows, Duration took, int attempts) {
    }

    private final Aggregation aggregation;
    private final Function<List<Window>, Mono<Void>> writer;
    private final Duration interval;
    private final PipelineMetrics metrics;
    private final LongSupplier clock;
    private final long firstBackoffMillis;
    private final long maxBackoffMillis;
    private final StorageHealth health;
    private final int maxPendingWindows;
    private final Consumer<Boolean> pauseIngest;
    private final Spill spill;
    private final Supplier<Mono<Void>> afterStored;
    private final FlushPace pace;

    /** The close time of the last flush after which nothing waited for storage; see {@link #storedThrough()}. */
    private volatile long storedThrough;

    /** Consecutive failed writes; touched only by the flush loop, one flush at a time. */
    private volatile int failures;
    private volatile long nextAttemptAt;
    /** When a write last left no closed window waiting for storage (clock ms). */
    private volatile long caughtUpAt;
    /** The pace's waiting time when the flush under way began, so that a report counts the writing alone. */
    private volatile long pacedAtStart;

    public Flusher(Aggregation aggregation, Function<List<Window>, Mono<Void>> writer, Duration interval,
                   PipelineMetrics metrics, LongSupplier clock, Duration firstBackoff, Duration maxBackoff) {
        this(aggregation, writer, interval, metrics, clock, firstBackoff, maxBackoff, new StorageHealth(),
                Integer.MAX_VALUE, paused -> { }, Spill.NONE);
    }

    /**
     * As above, reporting write failures and recoveries to {@code health}; when {@code maxPendingWindows} or more
     * windows wait for storage and none fit in {@code spill}, {@code pauseIngest} is told {@code true} (and
     * {@code false} once fewer wait).
     */
    public Flusher(Aggregation aggregation, Function<List<Window>, Mono<Void>> writer, Duration interval,
                   PipelineMetrics metrics, LongSupplier clock, Duration firstBackoff, Duration maxBackoff,
                   StorageHealth health, int maxPendingWindows, Consumer<Boolean> pauseIngest, Spill spill) {
        this(aggregation, writer, interval, metrics, clock, firstBackoff, maxBackoff, health, maxPendingWindows,
                pauseIngest, spill, Mono::empty);
    }

    /**
     * As above; {@code afterStored} runs after a flush that left no closed window waiting for storage (the
     * write-ahead log drops what the store now holds), before the next flush can close more.
     */
    public Flusher(Aggregation aggregation, Function<List<Window>, Mono<Void>> writer, Duration interval,
                   PipelineMetrics metrics, LongSupplier clock, Duration firstBackoff, Duration maxBackoff,
                   StorageHealth health, int maxPendingWindows, Consumer<Boolean> pauseIngest, Spill spill,
                   Supplier<Mono<Void>> afterStored) {
        this(aggregation, writer, interval, metrics, clock, firstBackoff, maxBackoff, health, maxPendingWindows,
                pauseIngest, spill, afterStored, FlushPace.off());
    }

    /**
     * As above; a flush written alone (no older flush waiting, no failure streak, nothing spooled) goes at
     * {@code pace}, which gets {@code writer} for its last slice. A backlog, a retry and the final flush go at full
     * speed, and the pace hurries once the ticks end.
     */
    public Flusher(Aggregation aggregation, Function<List<Window>, Mono<Void>> writer, Duration interval,
                   PipelineMetrics metrics, LongSupplier clock, Duration firstBackoff, Duration maxBackoff,
                   StorageHealth health, int maxPendingWindows, Consumer<Boolean> pauseIngest, Spill spill,
                   Supplier<Mono<Void>> afterStored, FlushPace pace) {
        this.afterStored = afterStored;
        this.pace = pace;
        this.aggregation = aggregation;
        this.writer = writer;
        this.interval = interval;
        this.metrics = metrics;
        this.clock = clock;
        this.firstBackoffMillis = Math.max(1, firstBackoff.toMillis());
        this.maxBackoffMillis = Math.max(firstBackoffMillis, maxBackoff.toMillis());
        this.health = health;
        if (maxPendingWindows < 1) {
            throw new IllegalArgumentException("maxPendingWindows: " + maxPendingWindows + " (expected: > 0)");
        }
        this.maxPendingWindows = maxPendingWindows;
        this.pauseIngest = pauseIngest;
        this.spill = spill;
        this.caughtUpAt = clock.getAsLong();
    }

    /**
     * How long storage has been behind: the time since a write last left no closed window waiting, while windows
     * wait (in memory or in the spool); 0 when none waits.
     */
    public long lagMillis() {
        if (aggregation.pending().windows() == 0 && spill.windows() == 0) {
            return 0;
        }
        return Math.max(0, clock.getAsLong() - caughtUpAt);
    }

    /** Registers the flush lag as a level of {@code metrics}. */
    public void bindTo(PipelineMetrics metrics) {
        metrics.levelMillis("flushLagMs", MeterNames.FLUSH_LAG,
                "time since storage last held every closed window, while windows wait for it (0 when none waits)",
                this::lagMillis);
    }

    /** Flushes on every tick of {@code ticks}; completes after the in-flight flush once the ticks complete. */
    public Flux<FlushReport> run(Flux<Long> ticks) {
        return ticks
                .doOnComplete(pace::hurry)
                // A tick during a paced flush within its spread would have closed no window that fell due.
                .onBackpressureDrop(t -> {
                    if (!pace.withinSpread()) {
                        metrics.tickSkipped();
                    }
                })
                // The loop keeps its last flush's subscription until the next tick, and through it every operator
                // of that flush and what they captured: all the windows it wrote. Detached, they are garbage once
                // written.
                .concatMap(t -> flushOnce().onTerminateDetach(), 0);
    }

    /**
     * Closes due windows, then writes the pending backlog unless a backoff is running, then moves one batch of
     * spooled windows to storage; while storage fails and memory holds its bound, spills pending windows to the
     * spool. Never fails (a failure is counted and reported). Empty when the pipeline is stopping.
     */
    public Mono<FlushReport> flushOnce() {
        return Mono.defer(() -> {
            long startedNanos = pace.nanoTime();
            pacedAtStart = pace.pacedNanos();
            long closedAt = clock.getAsLong();
            return aggregation.close(closedAt)
                    .onErrorResume(PipelineStopping.class, e -> Mono.empty())
                    .flatMap(closed -> {
                        if (failures > 0 && clock.getAsLong() < nextAttemptAt) {
                            return spillIfFull(false).thenReturn(
                                    new FlushReport(closed.seq(), 0, Duration.ZERO, failures));
                        }
                        return writeBacklog(startedNanos)
                                .flatMap(n -> moveSpooled().map(moved -> report(closed.seq(), n + moved, startedNanos)))
                                .doOnNext(r -> {
                                    if (aggregation.pending().windows() == 0 && spill.windows() == 0) {
                                        storedThrough = closedAt;
                                    }
                                })
                                .flatMap(report -> aggregation.pending().windows() > 0 ? Mono.just(report)
                                        : afterStored.get().onErrorResume(e -> {
                                            log.warn("cannot drop stored segments of the write-ahead log: {}",
                                                    e.toString());
                                            return Mono.empty();
                                        }).thenReturn(report))
                                .onErrorResume(e -> {
                                    failed(e);
                                    return spillIfFull(false).thenReturn(new FlushReport(closed.seq(), 0,
                                            Duration.ofNanos(pace.nanoTime() - startedNanos), failures));
                                });
                    })
                    .doOnNext(report -> admission());
        });
    }

    /**
     * A time by which every window this replica closed was stored: each window whose end plus lateness is at or
     * before it is in the store (a late correction may follow). 0 before the first complete flush.
     */
    public long storedThrough() {
        return storedThrough;
    }

    /** Moves one batch of the oldest spooled windows to storage; emits how many. */
    private Mono<Integer> moveSpooled() {
        if (spill.windows() == 0) {
            return Mono.just(0);
        }
        return spill.moveOldest(MAX_WINDOWS_PER_WRITE, writer).doOnNext(n -> {
            if (n > 0) {
                succeeded(n);
                log.info("moved {} spooled windows to storage, {} left in the spool", n, spill.windows());
            }
        });
    }

    /**
     * While storage fails, moves whole pending flushes, oldest first, to the spool until it is full: all of them
     * when {@code everything}, else only once memory holds its bound. A spool failure is logged and leaves the
     * windows pending.
     */
    private Mono<Void> spillIfFull(boolean everything) {
        return Mono.defer(() -> {
            if (!health.failing() || spill.full()
                    || (!everything && aggregation.pending().windows() < maxPendingWindows)) {
                return Mono.empty();
            }
            Map<Long, List<Window>> backlog = new TreeMap<>(aggregation.pending().view());
            return Flux.fromIterable(backlog.entrySet())
                    .takeWhile(e -> !spill.full())
                    .concatMap(e -> spillFlush(e.getKey(), e.getValue()), 0)
                    .reduce(0, Integer::sum)
                    .filter(n -> n > 0)
                    .doOnNext(n -> log.warn("storage unreachable and {} windows waiting: spilled {} of them to the "
                                    + "spool, which now holds {} windows{}", backlog.values().stream().mapToInt(List::size).sum(),
                            n, spill.windows(), spill.full() ? " and is full (METERLINE_SPOOL_MAX_BYTES)" : ""))
                    .onErrorResume(e -> {
                        log.warn("cannot spill to the spool, the windows stay in memory: {}", e.toString());
                        return Mono.empty();
                    })
                    .then();
        });
    }

    /**
     * Spills one pending flush in chunks while the spool has room; a chunk leaves pending once the spool holds it,
     * so a flush may be split between spool and memory.
     */
    private Flux<Integer> spillFlush(long seq, List<Window> windows) {
        int chunks = (windows.size() + SPILL_CHUNK - 1) / SPILL_CHUNK;
        return Flux.range(0, chunks)
                .takeWhile(i -> !spill.full())
                .concatMap(i -> {
                    int from = i * SPILL_CHUNK;
                    int to = Math.min(windows.size(), from + SPILL_CHUNK);
                    return spill.put(windows.subList(from, to)).then(Mono.fromRunnable(() -> {
                        if (to == windows.size()) {
                            aggregation.stored(seq);
                        } else {
                            aggregation.partlyStored(seq, FlushRest.of(windows, to));
                        }
                    })).thenReturn(to - from);
                }, 0);
    }

    /** Pauses ingest while the windows waiting for storage are at their bound, and resumes it below. */
    private void admission() {
        int waiting = aggregation.pending().windows();
        boolean full = waiting >= maxPendingWindows;
        if (full == health.ingestPaused()) {
            return;
        }
        health.ingestPaused(full);
        pauseIngest.accept(full);
        if (full) {
            log.warn("ingest paused: {} windows wait for storage, at the bound of {} (METERLINE_MAX_PENDING_WINDOWS); "
                    + "TCP connections stop being read and HTTP ingest answers 503 until storage takes them", waiting,
                    maxPendingWindows);
        } else {
            log.info("ingest resumed: {} windows wait for storage (bound {})", waiting, maxPendingWindows);
        }
    }

    /**
     * The final flush at shutdown: {@code last} (every window still in memory, a list per flush number, as
     * {@link Aggregation#run} emits them) joins the backlog, and everything is written, then the spool is emptied
     * into storage. While storage fails, the backlog goes to the spool if it fits; otherwise it is retried with
     * backoff until it succeeds or the caller's deadline cancels it.
     */
    public Mono<FlushReport> flushFinal(List<List<Window>> last) {
        return Mono.defer(() -> {
            pace.hurry();
            pacedAtStart = pace.pacedNanos();
            aggregation.pendingFinal(last);
            long startedNanos = pace.nanoTime();
            return finalAttempt(startedNanos).map(n -> report(0, n, startedNanos));
        });
    }

    private Mono<Integer> finalAttempt(long startedNanos) {
        return writeBacklog(startedNanos)
                .flatMap(n -> moveAllSpooled().map(moved -> n + moved))
                .onErrorResume(e -> {
                    failed(e);
                    return spillIfFull(true).then(Mono.defer(() -> {
                        if (aggregation.pending().windows() == 0) {
                            log.warn("storage unreachable at shutdown: {} windows wait in the spool and are written "
                                    + "by the next start", spill.windows());
                            return Mono.just(0);
                        }
                        long wait = Math.max(1, nextAttemptAt - clock.getAsLong());
                        return Mono.delay(Duration.ofMillis(wait)).then(finalAttempt(startedNanos));
                    }));
                });
    }

    private Mono<Integer> moveAllSpooled() {
        return moveSpooled().expand(n -> n > 0 ? moveSpooled() : Mono.empty()).reduce(0, Integer::sum);
    }

    /**
     * Writes every pending flush in sequence order, in transactions of whole flushes, or, when one flush waits alone
     * and storage is healthy, at the pace's schedule (its windows stay pending until its last slice is committed);
     * emits how many windows.
     */
    private Mono<Integer> writeBacklog(long startedNanos) {
        return Mono.defer(() -> writeBacklogNow(startedNanos));
    }

    private Mono<Integer> writeBacklogNow(long startedNanos) {
        Map<Long, List<Window>> backlog = new TreeMap<>(aggregation.pending().view());
        List<List<Long>> groups = new ArrayList<>();
        List<Long> group = new ArrayList<>();
        int inGroup = 0;
        for (Map.Entry<Long, List<Window>> e : backlog.entrySet()) {
            if (!group.isEmpty() && inGroup + e.getValue().size() > MAX_WINDOWS_PER_WRITE) {
                groups.add(group);
                group = new ArrayList<>();
                inGroup = 0;
            }
            group.add(e.getKey());
            inGroup += e.getValue().size();
        }
        if (!group.isEmpty()) {
            groups.add(group);
        }
        boolean alone = groups.size() == 1 && groups.get(0).size() == 1 && failures == 0 && spill.windows() == 0;
        return Flux.fromIterable(groups)
                .concatMap(seqs -> {
                    List<List<Window>> flushes = new ArrayList<>(seqs.size());
                    for (long s : seqs) {
                        flushes.add(backlog.get(s));
                    }
                    List<Window> windows = JoinedWindows.of(flushes);
                    Mono<Void> write = alone ? pace.write(windows, clock.getAsLong(), writer) : writer.apply(windows);
                    return write.then(Mono.fromSupplier(() -> {
                        for (long s : seqs) {
                            aggregation.stored(s);
                        }
                        return windows.size();
                    }));
                }, 0)
                .reduce(0, Integer::sum)
                .doOnNext(n -> {
                    // The time spent writing: a paced flush's waits between its slices are not counted.
                    metrics.flushed(n, pace.nanoTime() - startedNanos - (pace.pacedNanos() - pacedAtStart));
                    if (aggregation.pending().windows() == 0 && spill.windows() == 0) {
                        caughtUpAt = clock.getAsLong();
                    }
                    if (n > 0) {
                        succeeded(n);
                    }
                });
    }

    /** A write reached storage: the failure streak (if any) ends. */
    private void succeeded(int windows) {
        if (failures > 0) {
            log.info("storage is back: wrote {} waiting windows after {} failed attempts", windows, failures);
        }
        failures = 0;
        health.recovered();
    }

    private void failed(Throwable e) {
        metrics.flushFailed();
        failures++;
        long backoff = maxBackoffMillis;
        if (failures < 32) {
            backoff = Math.min(maxBackoffMillis, firstBackoffMillis << Math.min(failures - 1, 30));
        }
        nextAttemptAt = clock.getAsLong() + backoff;
        health.failed(e);
        log.warn("flush failed (attempt {}); {} windows stay pending, next attempt in {} ms: {}", failures,
                aggregation.pending().windows(), backoff, e.toString());
    }

    private FlushReport report(long seq, int windows, long startedNanos) {
        Duration took = Duration.ofNanos(pace.nanoTime() - startedNanos);
        Duration writing = took.minusNanos(pace.pacedNanos() - pacedAtStart);
        if (windows > 0 && writing.compareTo(interval) > 0) {
            log.warn("flush {} of {} windows took {} ms, longer than the flush interval of {} ms; "
                            + "ticks are skipped meanwhile. Raise METERLINE_FLUSH_INTERVAL or check the store.",
                    seq, windows, writing.toMillis(), interval.toMillis());
        }
        return new FlushReport(seq, windows, took, failures + 1);
    }
}
