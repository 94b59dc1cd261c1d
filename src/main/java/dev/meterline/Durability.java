package dev.meterline;

import dev.meterline.aggregate.Aggregation;
import dev.meterline.aggregate.PipelineStopping;
import dev.meterline.config.ConfigException;
import dev.meterline.config.WalConfig;
import dev.meterline.ingest.IngestBuffer;
import dev.meterline.model.Window;
import dev.meterline.telemetry.PipelineMetrics;
import dev.meterline.wal.Wal;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;

import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * The write-ahead log's part in the pipeline: replayed into the shards at start, fsynced before any flush reaches the
 * store or the spool, its segments dropped once their windows are stored, emptied after the final flush; ingest
 * pauses while the log or storage is at its bound. Without a log ({@code wal-fsync=off}) every step is a no-op.
 */
final class Durability {

    private static final Logger log = LoggerFactory.getLogger(Durability.class);

    private final WalConfig config;
    private final Path dir;
    private final Aggregation aggregation;
    private final IngestBuffer buffer;
    private final MeterRegistry registry;

    private volatile Wal wal;
    private volatile boolean stopping;
    private boolean storagePaused;
    /** The log's pause as applied to the buffer, so that readiness and stats never show it before ingest pauses. */
    private volatile boolean walPaused;

    Durability(WalConfig config, Path dir, Aggregation aggregation, IngestBuffer buffer, PipelineMetrics metrics) {
        this.config = config;
        this.dir = dir;
        this.aggregation = aggregation;
        this.buffer = buffer;
        this.registry = metrics.registry();
        metrics.level("walBytes", "meterline.wal.bytes", "bytes the write-ahead log holds on disk",
                () -> wal == null ? 0 : wal.bytes());
        metrics.level("walSegments", "meterline.wal.segments", "segment files of the write-ahead log",
                () -> wal == null ? 0 : wal.segments());
        metrics.level("walLimitBytes", "meterline.wal.limit.bytes", "bound of the write-ahead log (0: no log)",
                () -> config.enabled() ? config.maxBytes() : 0);
        metrics.level("walPaused", "meterline.wal.paused", "1 while ingest is paused at the write-ahead log's bound",
                () -> paused() ? 1 : 0);
    }

    /**
     * Replays the log into the shards (flushes numbered up to {@code committedSeq} are in the store already), then
     * routes the shards' records through it. Only what the store holds counts as committed: the store commits flushes
     * in number order, the spool may hold part of a flush; a rebuilt flush that is also spooled is stored once.
     */
    void open(long committedSeq) {
        if (!config.enabled()) {
            return;
        }
        aggregation.replayStart(committedSeq);
        long started = System.nanoTime();
        try (ShardedReplay replay = new ShardedReplay(aggregation)) {
            wal = Wal.open(dir, config, aggregation.shardCount(), replay, registry, this::walPause);
        } catch (UncheckedIOException e) {
            throw new ConfigException("METERLINE_DATA_DIR / --data-dir: " + e.getMessage() + ": "
                    + e.getCause().getMessage());
        }
        log.info("write-ahead log replay into {} shards done in {} ms", aggregation.shardCount(),
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
        aggregation.replayDone();
        if (aggregation.pending().windows() > 0) {
            log.info("{} windows rebuilt from the write-ahead log wait to be stored", aggregation.pending().windows());
        }
        aggregation.journal(new WalJournal(wal));
    }

    /** Ingest pauses while storage or the log is at its bound, and resumes when neither is. */
    synchronized void storagePause(boolean paused) {
        storagePaused = paused;
        buffer.pause(storagePaused || walPaused);
    }

    private synchronized void walPause(boolean paused) {
        buffer.pause(storagePaused || paused);
        walPaused = paused;
    }

    /** {@code writer}, each write waiting until the log holds the closes that made its windows (fsynced). */
    Function<List<Window>, Mono<Void>> before(Function<List<Window>, Mono<Void>> writer) {
        return windows -> windows.isEmpty() ? writer.apply(windows) : synced().then(writer.apply(windows));
    }

    /** Completes once everything appended to the log so far is written and fsynced; at once without a log. */
    Mono<Void> synced() {
        Wal w = wal;
        return w == null ? Mono.empty() : Mono.create(sink -> w.sync(sink::success));
    }

    /**
     * After a flush left nothing waiting for storage: deletes the segments that hold only points of stored windows.
     * At the bound the current segment is ended first, so that it can go too.
     */
    Mono<Void> dropStoredSegments() {
        Wal w = wal;
        if (w == null || stopping) {
            return Mono.empty();
        }
        Mono<Void> roll = w.paused() ? Mono.create(sink -> w.roll(sink::success)) : Mono.empty();
        return roll.then(aggregation.oldestSegment())
                .flatMap(oldest -> Mono.<Void>create(sink -> w.dropBelow(oldest, sink::success)))
                .onErrorResume(PipelineStopping.class, e -> Mono.empty());
    }

    /** After the final flush: when every window is stored (or spooled), the next start has nothing to replay. */
    Mono<Void> finalFlushDone() {
        return Mono.defer(() -> {
            Wal w = wal;
            if (w == null || aggregation.pending().windows() > 0) {
                return Mono.empty();
            }
            return Mono.<Void>create(sink -> w.clear(sink::success));
        });
    }

    /** The stop began: segments stay until the final flush decides. */
    void stopping() {
        stopping = true;
        Wal w = wal;
        if (w != null) {
            w.holdDrops();
        }
    }

    boolean paused() {
        return walPaused;
    }

    long bytes() {
        Wal w = wal;
        return w == null ? 0 : w.bytes();
    }

    long maxBytes() {
        return config.maxBytes();
    }

    void close() {
        if (wal != null) {
            wal.close();
        }
    }
}
