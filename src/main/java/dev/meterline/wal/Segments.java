package dev.meterline.wal;

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
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * The log's segment files: the one being appended to and fsynced, and the closed ones, kept until every point in
 * them is in the store. Only the writer thread changes them; the sizes and the current number are read from any.
 */
final class Segments {

    private static final Logger log = LoggerFactory.getLogger(Wal.class);

    private final Path dir;
    private final TreeMap<Long, Long> closed;
    private final Counter bytesWritten;
    private final Timer fsyncTimer;

    private FileChannel channel;
    private volatile long segment;
    private volatile long segmentBytes;
    private volatile long closedBytes;
    private volatile int closedCount;
    private long lastSync = System.nanoTime();
    private boolean unsynced;

    /**
     * @param first  the number of the segment to write first
     * @param closed the sizes of the segments already in {@code dir}, by number (see {@link #onDisk})
     */
    Segments(Path dir, long first, TreeMap<Long, Long> closed, MeterRegistry registry) {
        this.dir = dir;
        this.segment = first;
        this.closed = closed;
        closedBytes = closed.values().stream().mapToLong(Long::longValue).sum();
        closedCount = closed.size();
        bytesWritten = Counter.builder("meterline.wal.written").baseUnit("bytes")
                .description("bytes appended to the write-ahead log").register(registry);
        fsyncTimer = Timer.builder("meterline.wal.fsync.duration").description("time of one write-ahead log fsync")
                .register(registry);
    }

    /** The sizes of the segment files in {@code dir}, by number. */
    static TreeMap<Long, Long> onDisk(Path dir) {
        TreeMap<Long, Long> sizes = new TreeMap<>();
        for (Map.Entry<Long, Path> e : WalReader.segments(dir).entrySet()) {
            try {
                sizes.put(e.getKey(), Files.size(e.getValue()));
            } catch (IOException ex) {
                throw new UncheckedIOException(ex);
            }
        }
        return sizes;
    }

    /** The number of the segment being written. */
    long segment() {
        return segment;
    }

    /** Bytes of the segment being written. */
    long segmentBytes() {
        return segmentBytes;
    }

    /** Bytes of every segment on disk. */
    long bytes() {
        return closedBytes + segmentBytes;
    }

    /** Segments on disk, the one being written included. */
    int count() {
        return closedCount + 1;
    }

    /** True when bytes were written since the last fsync. */
    boolean unsynced() {
        return unsynced;
    }

    /** {@link System#nanoTime()} at the last fsync, or the last one found needless. */
    long lastSync() {
        return lastSync;
    }

    /** Creates the file of the current segment number, empty. */
    void create() {
        Path file = dir.resolve(WalFormat.fileName(segment));
        try {
            channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.TRUNCATE_EXISTING);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the write-ahead log segment " + file, e);
        }
        segmentBytes = 0;
    }

    /**
     * Writes the encoded records, then empties {@code out}; on an IO error retries every second, holding every
     * acknowledgement meanwhile.
     */
    void write(WalFormat.Out out) {
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

    void fsync() {
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

    /** Closes the current segment's file, counts it among the closed ones, and moves to the next number. */
    void seal() {
        try {
            channel.close();
        } catch (IOException e) {
            log.warn("closing the write-ahead log segment {}: {}", WalFormat.fileName(segment), e.toString());
        }
        closed.put(segment, segmentBytes);
        closedBytes += segmentBytes;
        closedCount = closed.size();
        segment++;
    }

    /** Deletes the closed segments numbered below {@code below}, stopping at the first that cannot be deleted. */
    void deleteBelow(long below) {
        while (!closed.isEmpty() && closed.firstKey() < below) {
            Map.Entry<Long, Long> e = closed.pollFirstEntry();
            try {
                Files.deleteIfExists(dir.resolve(WalFormat.fileName(e.getKey())));
            } catch (IOException ex) {
                log.warn("cannot delete the write-ahead log segment {}: {}", WalFormat.fileName(e.getKey()),
                        ex.toString());
                closed.put(e.getKey(), e.getValue());
                break;
            }
            closedBytes -= e.getValue();
        }
        closedCount = closed.size();
    }

    /** Fsyncs and closes the current segment's file. */
    void close() {
        try {
            if (channel != null) {
                fsync();
                channel.close();
            }
        } catch (IOException ex) {
            log.warn("closing the write-ahead log: {}", ex.toString());
        }
    }
}
