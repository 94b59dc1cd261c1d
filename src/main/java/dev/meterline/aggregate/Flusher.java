package dev.meterline.aggregate;

import dev.meterline.model.Window;
import dev.meterline.telemetry.PipelineMetrics;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.util.retry.Retry;

import java.time.Duration;
import java.util.List;
import java.util.function.Function;
import java.util.function.LongSupplier;

/**
 * The flush loop: on every tick, closes the windows that are due and writes them as one batch. A tick that comes
 * while a flush is still running is skipped and counted; a failed write is retried with backoff while its windows
 * stay in memory (pending), and a flush that overruns its interval is logged with what to do about it.
 */
public final class Flusher {

    private static final Logger log = LoggerFactory.getLogger(Flusher.class);

    /** What one flush did. */
    public record FlushReport(long seq, int windows, Duration took, int attempts) {
    }

    private final Aggregation aggregation;
    private final Function<List<Window>, Mono<Void>> writer;
    private final Duration interval;
    private final PipelineMetrics metrics;
    private final LongSupplier clock;
    private final Retry retry;

    public Flusher(Aggregation aggregation, Function<List<Window>, Mono<Void>> writer, Duration interval,
                   PipelineMetrics metrics, LongSupplier clock, Duration firstBackoff, Duration maxBackoff) {
        this.aggregation = aggregation;
        this.writer = writer;
        this.interval = interval;
        this.metrics = metrics;
        this.clock = clock;
        this.retry = Retry.backoff(Long.MAX_VALUE, firstBackoff).maxBackoff(maxBackoff);
    }

    /** Flushes on every tick of {@code ticks}; completes after the in-flight flush once the ticks complete. */
    public Flux<FlushReport> run(Flux<Long> ticks) {
        return ticks
                .onBackpressureDrop(t -> metrics.tickSkipped())
                .concatMap(t -> flushOnce(), 0);
    }

    /** Closes due windows and writes them; empty when the pipeline is stopping. */
    public Mono<FlushReport> flushOnce() {
        return Mono.defer(() -> {
            long startedNanos = System.nanoTime();
            return aggregation.close(clock.getAsLong())
                    .onErrorResume(IllegalStateException.class, e -> Mono.empty())
                    .flatMap(closed -> write(closed.seq(), closed.windows(), startedNanos));
        });
    }

    /** Writes one batch, retrying until it succeeds; exposed for the final flush at shutdown. */
    public Mono<FlushReport> write(long seq, List<Window> windows, long startedNanos) {
        int[] attempts = {0};
        Mono<Void> once = Mono.defer(() -> {
            attempts[0]++;
            return writer.apply(windows);
        }).doOnError(e -> {
            metrics.flushFailed();
            log.warn("flush {} of {} windows failed (attempt {}), retrying with backoff; the windows stay in memory: {}",
                    seq, windows.size(), attempts[0], e.toString());
        });
        return once.retryWhen(retry)
                .then(Mono.fromSupplier(() -> {
                    aggregation.stored(seq);
                    long nanos = System.nanoTime() - startedNanos;
                    metrics.flushed(windows.size(), nanos);
                    Duration took = Duration.ofNanos(nanos);
                    if (took.compareTo(interval) > 0) {
                        log.warn("flush {} of {} windows took {} ms, longer than the flush interval of {} ms; "
                                        + "ticks are skipped meanwhile. Raise METERLINE_FLUSH_INTERVAL or check the store.",
                                seq, windows.size(), took.toMillis(), interval.toMillis());
                    }
                    return new FlushReport(seq, windows.size(), took, attempts[0]);
                }));
    }
}
