package dev.meterline.aggregate;

import dev.meterline.model.Window;
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

/**
 * The flush loop: on every tick, closes the windows that are due (they become pending) and writes every pending
 * flush, oldest first. A tick that comes while a write is still running is skipped and counted. A failed write
 * leaves its windows pending, counts the failure and waits out an exponential backoff, while later ticks go on
 * closing windows into pending, so that pending is the whole backlog waiting for storage.
 */
public final class Flusher {

    private static final Logger log = LoggerFactory.getLogger(Flusher.class);

    /** Most windows written in one transaction when a backlog is written; a single flush is never split. */
    static final int MAX_WINDOWS_PER_WRITE = 100_000;

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

    /** Consecutive failed writes; touched only by the flush loop, one flush at a time. */
    private volatile int failures;
    private volatile long nextAttemptAt;

    public Flusher(Aggregation aggregation, Function<List<Window>, Mono<Void>> writer, Duration interval,
                   PipelineMetrics metrics, LongSupplier clock, Duration firstBackoff, Duration maxBackoff) {
        this(aggregation, writer, interval, metrics, clock, firstBackoff, maxBackoff, new StorageHealth(),
                Integer.MAX_VALUE, paused -> { });
    }

    /**
     * As above, reporting write failures and recoveries to {@code health}; when {@code maxPendingWindows} or more
     * windows wait for storage, {@code pauseIngest} is told {@code true} (and {@code false} once fewer wait).
     */
    public Flusher(Aggregation aggregation, Function<List<Window>, Mono<Void>> writer, Duration interval,
                   PipelineMetrics metrics, LongSupplier clock, Duration firstBackoff, Duration maxBackoff,
                   StorageHealth health, int maxPendingWindows, Consumer<Boolean> pauseIngest) {
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
    }

    /** Flushes on every tick of {@code ticks}; completes after the in-flight flush once the ticks complete. */
    public Flux<FlushReport> run(Flux<Long> ticks) {
        return ticks
                .onBackpressureDrop(t -> metrics.tickSkipped())
                .concatMap(t -> flushOnce(), 0);
    }

    /**
     * Closes due windows, then writes the pending backlog unless a backoff is running; never fails (a failure is
     * counted and reported). Empty when the pipeline is stopping.
     */
    public Mono<FlushReport> flushOnce() {
        return Mono.defer(() -> {
            long startedNanos = System.nanoTime();
            return aggregation.close(clock.getAsLong())
                    .onErrorResume(IllegalStateException.class, e -> Mono.empty())
                    .doOnNext(closed -> admission())
                    .flatMap(closed -> {
                        if (failures > 0 && clock.getAsLong() < nextAttemptAt) {
                            return Mono.just(new FlushReport(closed.seq(), 0, Duration.ZERO, failures));
                        }
                        return writeBacklog(startedNanos)
                                .map(n -> report(closed.seq(), n, startedNanos))
                                .onErrorResume(e -> {
                                    failed(e);
                                    return Mono.just(new FlushReport(closed.seq(), 0,
                                            Duration.ofNanos(System.nanoTime() - startedNanos), failures));
                                });
                    })
                    .doOnNext(report -> admission());
        });
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
     * The final flush at shutdown: {@code last} (every window still in memory) joins the backlog, and everything is
     * written, retried with backoff until it succeeds or the caller's deadline cancels it.
     */
    public Mono<FlushReport> flushFinal(List<Window> last) {
        return Mono.defer(() -> {
            aggregation.pending().registerAll(last);
            long startedNanos = System.nanoTime();
            return writeBacklog(startedNanos)
                    .onErrorResume(e -> {
                        failed(e);
                        return Mono.delay(Duration.ofMillis(Math.max(1, nextAttemptAt - clock.getAsLong())))
                                .then(Mono.error(e));
                    })
                    .retry()
                    .map(n -> report(0, n, startedNanos));
        });
    }

    /** Writes every pending flush in sequence order, in transactions of whole flushes; emits how many windows. */
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
        return Flux.fromIterable(groups)
                .concatMap(seqs -> {
                    List<Window> windows = new ArrayList<>();
                    for (long s : seqs) {
                        windows.addAll(backlog.get(s));
                    }
                    return writer.apply(windows).then(Mono.fromSupplier(() -> {
                        for (long s : seqs) {
                            aggregation.stored(s);
                        }
                        return windows.size();
                    }));
                }, 0)
                .reduce(0, Integer::sum)
                .doOnNext(n -> {
                    if (failures > 0) {
                        log.info("storage is back: wrote {} waiting windows after {} failed attempts", n, failures);
                    }
                    failures = 0;
                    health.recovered();
                    metrics.flushed(n, System.nanoTime() - startedNanos);
                });
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
        Duration took = Duration.ofNanos(System.nanoTime() - startedNanos);
        if (took.compareTo(interval) > 0) {
            log.warn("flush {} of {} windows took {} ms, longer than the flush interval of {} ms; "
                            + "ticks are skipped meanwhile. Raise METERLINE_FLUSH_INTERVAL or check the store.",
                    seq, windows, took.toMillis(), interval.toMillis());
        }
        return new FlushReport(seq, windows, took, failures + 1);
    }
}
