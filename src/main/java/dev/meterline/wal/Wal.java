package dev.meterline.wal;

import dev.meterline.config.ConfigException;
import dev.meterline.config.WalConfig;
import dev.meterline.config.WalFsync;
import dev.meterline.model.Point;
import dev.meterline.model.SeriesKey;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
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
    /** Bytes encoded before they are written out, within one batch of entries. */
    private static final int WRITE_CHUNK = 1 << 20;

    private sealed interface Entry permits Points, Closed, Task {
    }

    private record Points(int shard, List<Point> points, Runnable done) implements Entry {
    }

    private record Closed(int shard, long seq, long cutoff, boolean all) implements Entry {
    }

    /** Work for the writer thread between writes: runs after everything queued before it is written. */
    private record Task(boolean sync, Runnable work) implements Entry {
    }

    private final Path dir;
    private final WalConfig config;
    private final int shards;
    private final Consumer<Boolean> pauseListener;
    private final ConcurrentLinkedQueue<Entry> queue = new ConcurrentLinkedQueue<>();
    private final Thread writer;
    private final WalFormat.Out out = new WalFormat.Out();
    private final Map<SeriesKey, Integer> refs = new HashMap<>();
    private final long[] cutoffs;
    private final TreeMap<Long, Long> closedSegments = new TreeMap<>();
    private final Counter pauses;
    private final Counter bytesWritten;
    private final Timer fsyncTimer;

    private FileChannel channel;
    private volatile long segment;
    private volatile long segmentBytes;
    private volatile long closedBytes;
    private volatile int closedCount;
    private volatile boolean paused;
    private volatile boolean stopping;
    private volatile boolean dropsAllowed = true;
    private long lastSync = System.nanoTime();
    private boolean unsynced;

    private Wal(Path dir, WalConfig config, int shards, long firstSegment, WalReader.Result existing,
                MeterRegistry registry, Consumer<Boolean> pauseListener) {
        this.dir = dir;
        this.config = config;
        this.shards = shards;
        this.pauseListener = pauseListener;
        this.cutoffs = new long[shards];
        Arrays.fill(cutoffs, Long.MIN_VALUE);
        this.segment = firstSegment;
        for (Map.Entry<Long, Path> e : WalReader.segments(dir).entrySet()) {
            try {
                closedSegments.put(e.getKey(), Files.size(e.getValue()));
            } catch (IOException ex) {
                throw new UncheckedIOException(ex);
            }
        }
        closedBytes = closedSegments.values().stream().mapToLong(Long::longValue).sum();
        closedCount = closedSegments.size();
        pauses = Counter.builder("meterline.wal.pauses")
                .description("times ingest paused because the write-ahead log reached its bound").register(registry);
        bytesWritten = Counter.builder("meterline.wal.written").baseUnit("bytes")
                .description("bytes appended to the write-ahead log").register(registry);
        fsyncTimer = Timer.builder("meterline.wal.fsync.duration").description("time of one write-ahead log fsync")
                .register(registry);
        Counter.builder("meterline.wal.replayed.points").description("points read back from the write-ahead log at start")
                .register(registry).increment(existing.points());
        Counter.builder("meterline.wal.corruptions")
                .description("damaged write-ahead log segments found at start (the valid prefix was kept)")
                .register(registry).increment(existing.corruptions());
        this.writer = new Thread(this::loop, "meterline-wal");
        writer.setDaemon(true);
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
        Wal wal = new Wal(dir, config, shards, r.lastSegment() + 1, r, registry, pauseListener);
        wal.openSegment();
        wal.writer.start();
        return wal;
    }

    /** A lower bound of the segment the next appended record lands in. */
    public long segment() {
        return segment;
    }

    /** Bytes of every segment on disk. */
    public long bytes() {
        return closedBytes + segmentBytes;
    }

    public int segments() {
        return closedCount + 1;
    }

    /** True while ingest is paused at the bound. */
    public boolean paused() {
        return paused;
    }

    public WalConfig config() {
        return config;
    }

    /** Appends the points shard {@code shard} aggregated; {@code done} runs once they are written (and fsynced under ALWAYS). */
    public void points(int shard, List<Point> points, Runnable done) {
        offer(new Points(shard, points, done));
    }

    /** Appends that shard {@code shard} closed, as flush {@code seq}, the windows due at {@code cutoff}. */
    public void closed(int shard, long seq, long cutoff, boolean all) {
        offer(new Closed(shard, seq, cutoff, all));
    }

    /** Runs {@code done} once everything appended so far is written and fsynced, whatever the fsync setting. */
    public void sync(Runnable done) {
        offer(new Task(true, done));
    }

    /** Starts the next segment once everything appended so far is written; then runs {@code done}. */
    public void roll(Runnable done) {
        offer(new Task(true, () -> {
            if (segmentBytes > headerBytes()) {
                nextSegment();
            }
            done.run();
        }));
    }

    /**
     * Deletes the segments before {@code segment} (never the one being written), then runs {@code done}; resumes
     * ingest once the log is below its bound again.
     */
    public void dropBelow(long segment, Runnable done) {
        offer(new Task(false, () -> {
            if (dropsAllowed) {
                deleteBelow(Math.min(segment, this.segment));
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
        offer(new Task(true, () -> {
            nextSegment();
            deleteBelow(segment);
            done.run();
        }));
    }

    private void offer(Entry e) {
        if (stopping) {
            throw new IllegalStateException("the write-ahead log is closed");
        }
        queue.offer(e);
        LockSupport.unpark(writer);
    }

    /** Stops the writer after it wrote everything queued, fsyncs and closes the segment. */
    @Override
    public void close() {
        stopping = true;
        LockSupport.unpark(writer);
        try {
            writer.join(TimeUnit.SECONDS.toMillis(10));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void loop() {
        List<Entry> batch = new ArrayList<>();
        while (true) {
            Entry e;
            while (batch.size() < 65_536 && (e = queue.poll()) != null) {
                batch.add(e);
            }
            if (batch.isEmpty()) {
                if (stopping) {
                    break;
                }
                long untilSync = config.fsyncInterval().toNanos() - (System.nanoTime() - lastSync);
                if (unsynced && untilSync <= 0) {
                    fsync();
                    continue;
                }
                LockSupport.parkNanos(this, unsynced ? untilSync : TimeUnit.SECONDS.toNanos(1));
                continue;
            }
            try {
                process(batch);
            } catch (RuntimeException ex) {
                log.error("the write-ahead log writer failed on a batch; its points are not acknowledged", ex);
            }
            batch.clear();
        }
        try {
            if (channel != null) {
                fsync();
                channel.close();
            }
        } catch (IOException ex) {
            log.warn("closing the write-ahead log: {}", ex.toString());
        }
    }

    private void process(List<Entry> batch) {
        List<Runnable> done = new ArrayList<>();
        for (Entry e : batch) {
            if (e instanceof Points p) {
                encode(p);
                done.add(p.done);
            } else if (e instanceof Closed c) {
                out.begin(c.all ? WalFormat.CLOSE_ALL : WalFormat.CLOSE);
                out.varint(c.shard);
                out.varint(c.seq);
                out.fixed64(c.cutoff);
                out.end();
                if (!c.all) {
                    cutoffs[c.shard] = Math.max(cutoffs[c.shard], c.cutoff);
                }
            } else if (e instanceof Task t) {
                writeOut();
                if (t.sync) {
                    fsync();
                }
                complete(done);
                run(t.work);
            }
            if (out.size >= WRITE_CHUNK || segmentBytes + out.size >= config.segmentBytes()) {
                writeOut();
                if (segmentBytes >= config.segmentBytes()) {
                    nextSegment();
                }
            }
        }
        writeOut();
        if (config.fsync() == WalFsync.ALWAYS && unsynced) {
            fsync();
        }
        complete(done);
        if (segmentBytes >= config.segmentBytes()) {
            nextSegment();
        }
        checkBound();
    }

    private void encode(Points p) {
        List<Point> points = p.points;
        if (points.isEmpty()) {
            return;
        }
        int[] ids = new int[points.size()];
        for (int i = 0; i < ids.length; i++) {
            SeriesKey key = points.get(i).series();
            Integer ref = refs.get(key);
            if (ref == null) {
                ref = refs.size();
                refs.put(key, ref);
                out.series(ref, key);
            }
            ids[i] = ref;
        }
        out.begin(WalFormat.SAMPLES);
        out.varint(p.shard);
        out.varint(ids.length);
        long ts = points.get(0).timestamp();
        out.fixed64(ts);
        for (int i = 0; i < ids.length; i++) {
            Point pt = points.get(i);
            out.varint(ids[i]);
            out.zigzag(pt.timestamp() - ts);
            ts = pt.timestamp();
            out.fixed64(Double.doubleToRawLongBits(pt.value()));
        }
        out.end();
    }

    private static void complete(List<Runnable> done) {
        for (Runnable r : done) {
            run(r);
        }
        done.clear();
    }

    private static void run(Runnable r) {
        try {
            r.run();
        } catch (RuntimeException e) {
            log.warn("a write-ahead log completion failed", e);
        }
    }

    /** Writes the encoded records; on an IO error retries every second, holding every acknowledgement meanwhile. */
    private void writeOut() {
        if (out.size == 0) {
            return;
        }
        ByteBuffer b = ByteBuffer.wrap(out.buf, 0, out.size);
        long position = segmentBytes;
        int attempt = 0;
        while (true) {
            try {
                while (b.hasRemaining()) {
                    channel.write(b);
                }
                break;
            } catch (IOException e) {
                attempt++;
                log.error("cannot write the write-ahead log segment {} (attempt {}); ingest waits: {}",
                        WalFormat.fileName(segment), attempt, e.toString());
                LockSupport.parkNanos(TimeUnit.SECONDS.toNanos(1));
                try {
                    channel.truncate(position);
                    channel.position(position);
                } catch (IOException ignored) {
                    // retried on the next attempt
                }
                b.rewind();
            }
        }
        segmentBytes = position + out.size;
        bytesWritten.increment(out.size);
        out.reset();
        unsynced = true;
    }

    private void fsync() {
        if (!unsynced) {
            lastSync = System.nanoTime();
            return;
        }
        long t = System.nanoTime();
        try {
            channel.force(false);
        } catch (IOException e) {
            log.error("cannot fsync the write-ahead log segment {}: {}", WalFormat.fileName(segment), e.toString());
            return;
        }
        lastSync = System.nanoTime();
        fsyncTimer.record(lastSync - t, TimeUnit.NANOSECONDS);
        unsynced = false;
    }

    private long headerBytes() {
        return WalFormat.FRAME + 8 + 1 + 2 + 8 + 8L * shards;
    }

    private void openSegment() {
        Path file = dir.resolve(WalFormat.fileName(segment));
        try {
            channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.TRUNCATE_EXISTING);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the write-ahead log segment " + file, e);
        }
        refs.clear();
        segmentBytes = 0;
        out.begin(WalFormat.HEADER);
        out.fixed64(WalFormat.MAGIC);
        out.varint(WalFormat.VERSION);
        out.varint(shards);
        out.fixed64(segment);
        for (long c : cutoffs) {
            out.fixed64(c);
        }
        out.end();
        writeOut();
    }

    private void nextSegment() {
        writeOut();
        fsync();
        try {
            channel.close();
        } catch (IOException e) {
            log.warn("closing the write-ahead log segment {}: {}", WalFormat.fileName(segment), e.toString());
        }
        closedSegments.put(segment, segmentBytes);
        closedBytes += segmentBytes;
        closedCount = closedSegments.size();
        segment++;
        openSegment();
    }

    private void deleteBelow(long below) {
        while (!closedSegments.isEmpty() && closedSegments.firstKey() < below) {
            Map.Entry<Long, Long> e = closedSegments.pollFirstEntry();
            try {
                Files.deleteIfExists(dir.resolve(WalFormat.fileName(e.getKey())));
            } catch (IOException ex) {
                log.warn("cannot delete the write-ahead log segment {}: {}", WalFormat.fileName(e.getKey()),
                        ex.toString());
                closedSegments.put(e.getKey(), e.getValue());
                break;
            }
            closedBytes -= e.getValue();
        }
        closedCount = closedSegments.size();
        checkBound();
    }

    private void checkBound() {
        boolean full = bytes() >= config.maxBytes();
        if (full == paused) {
            return;
        }
        paused = full;
        if (full) {
            pauses.increment();
            log.warn("ingest paused: the write-ahead log holds {} bytes, at its bound of {} (METERLINE_WAL_MAX_BYTES); "
                    + "it resumes once flushed windows let segments go", bytes(), config.maxBytes());
        } else {
            log.info("ingest resumed: the write-ahead log holds {} bytes (bound {})", bytes(), config.maxBytes());
        }
        run(() -> pauseListener.accept(full));
    }
}
