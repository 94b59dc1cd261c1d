package dev.meterline.wal;

import dev.meterline.config.ConfigException;
import dev.meterline.config.WalConfig;
import dev.meterline.config.WalFsync;
import dev.meterline.model.Point;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import static java.util.Objects.requireNonNull;

/**
 * The write-ahead log: shards hand it the points they aggregated and the windows they closed, and one dedicated
 * writer thread appends them to segment files in the data directory, then runs each batch's completion (which lets
 * the acknowledgement go out). Appending never blocks the caller: entries wait in a lock-free queue and the writer
 * is unparked. Everything that queued while the writer was busy goes out in one write, and under
 * {@link WalFsync#ALWAYS} one fsync (group commit).
 *
 * <p>The log is bounded: once its segments reach {@link WalConfig#maxBytes()} the pause listener is told, and told
 * again when {@link #dropBelow} let segments go. Segments go once every point in them is in the store.
 */
public final class Wal implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(Wal.class);

    private final WalConfig config;
    private final WalBound bound;
    private final Segments segments;
    private final WalWriter writer;
    private volatile boolean dropsAllowed = true;

    private Wal(Path dir, WalConfig config, int shards, long firstSegment, WalReader.Result existing,
                MeterRegistry registry, Consumer<Boolean> pauseListener) {
        this.config = config;
        TreeMap<Long, Long> closed = Segments.onDisk(dir);
        this.bound = new WalBound(config.maxBytes(), registry, pauseListener);
        this.segments = new Segments(dir, firstSegment, closed, registry);
        Counter.builder("meterline.wal.replayed.points").description("points read back from the write-ahead log at start")
                .register(registry).increment(existing.points());
        Counter.builder("meterline.wal.corruptions")
                .description("damaged write-ahead log segments found at start (the valid prefix was kept)")
                .register(registry).increment(existing.corruptions());
        this.writer = new WalWriter(config, segments, new RecordEncoder(shards), bound);
    }

    /**
     * Opens the log in {@code dir}, creating it when absent: replays every segment into {@code replay} (repairing
     * damage, see {@link WalReader}), then starts the writer on a new segment after them.
     *
     * @throws ConfigException when the log was written with another shard count
     */
    public static Wal open(Path dir, WalConfig config, int shards, Replay replay, MeterRegistry registry,
                           Consumer<Boolean> pauseListener) {
        requireNonNull(replay, "replay");
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the write-ahead log directory " + dir, e);
        }
        long started = System.nanoTime();
        WalReader.Result r;
        try {
            r = WalReader.read(dir, shards, replay);
        } catch (WalReader.ShardMismatch e) {
            throw new ConfigException("METERLINE_SHARDS / --shards: " + e.getMessage() + ", not " + shards
                    + "; start once with --shards=" + e.logShards + " and stop it with SIGTERM (which empties the "
                    + "log), then change the shard count");
        }
        if (r.segments() > 0) {
            log.info("write-ahead log replayed: {} points from {} segment(s), {} bytes, in {} ms{}", r.points(),
                    r.segments(), r.bytes(), TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started),
                    r.corruptions() > 0 ? " (" + r.corruptions() + " damaged segment(s) repaired)" : "");
        }
        log.info("write-ahead log: segments of {} bytes, bound {} bytes", config.segmentBytes(), config.maxBytes());
        Wal wal = new Wal(dir, config, shards, r.lastSegment() + 1, r, registry, pauseListener);
        wal.writer.start();
        return wal;
    }

    /** A lower bound of the segment the next appended record lands in. */
    public long segment() {
        return segments.segment();
    }

    /** Bytes of every segment on disk. */
    public long bytes() {
        return segments.bytes();
    }

    public int segments() {
        return segments.count();
    }

    /** True while ingest is paused at the bound. */
    public boolean paused() {
        return bound.paused();
    }

    public WalConfig config() {
        return config;
    }

    /**
     * Appends the points shard {@code shard} aggregated; {@code done} runs once they are written (and fsynced under
     * ALWAYS). {@code numbers[i]} is the number of {@code points.get(i)}'s series in that shard, which stays the
     * series' own while the shard keeps it; {@code renumbered} are the numbers the shard gave to other series since
     * its last points, whose references are forgotten first.
     */
    public void points(int shard, List<Point> points, int[] numbers, int[] renumbered, Runnable done) {
        if (numbers.length < points.size()) {
            throw new IllegalArgumentException("numbers: " + numbers.length + " for " + points.size()
                    + " points (expected: one per point)");
        }
        writer.offer(new WalEntry.Points(shard, points, numbers, renumbered, done));
    }

    /** Appends that shard {@code shard} closed, as flush {@code seq}, the windows due at {@code cutoff}. */
    public void closed(int shard, long seq, long cutoff, boolean all) {
        writer.offer(new WalEntry.Closed(shard, seq, cutoff, all));
    }

    /** Runs {@code done} once everything appended so far is written and fsynced, whatever the fsync setting. */
    public void sync(Runnable done) {
        writer.offer(new WalEntry.Task(true, done));
    }

    /** Starts the next segment once everything appended so far is written; then runs {@code done}. */
    public void roll(Runnable done) {
        writer.offer(new WalEntry.Task(true, () -> {
            writer.roll();
            done.run();
        }));
    }

    /**
     * Deletes the segments before {@code segment} (never the one being written), then runs {@code done}; resumes
     * ingest once the log is below its bound again.
     */
    public void dropBelow(long segment, Runnable done) {
        writer.offer(new WalEntry.Task(false, () -> {
            if (dropsAllowed) {
                writer.deleteBelow(Math.min(segment, segments.segment()));
            }
            done.run();
        }));
    }

    /** From now on {@link #dropBelow} deletes nothing: the shutdown's final windows are on their way to storage. */
    public void holdDrops() {
        dropsAllowed = false;
    }

    /** Deletes every segment once everything appended so far is written: every point in it is in the store. */
    public void clear(Runnable done) {
        writer.offer(new WalEntry.Task(true, () -> {
            writer.clear();
            done.run();
        }));
    }

    /** Stops the writer after it wrote everything queued, fsyncs and closes the segment. */
    @Override
    public void close() {
        writer.close();
    }
}
