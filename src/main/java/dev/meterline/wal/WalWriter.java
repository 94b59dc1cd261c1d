package dev.meterline.wal;

import dev.meterline.config.WalConfig;
import dev.meterline.config.WalFsync;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * The log's one writer thread: takes the queued requests in batches, appends each batch in as few writes as it can
 * (and under {@link WalFsync#ALWAYS} one fsync), rolls to a new segment at the segment size, fsyncs on the interval
 * otherwise, and then runs the batch's completions.
 */
final class WalWriter {

    private static final Logger log = LoggerFactory.getLogger(Wal.class);
    /** Bytes encoded before they are written out, within one batch of entries. */
    private static final int WRITE_CHUNK = 1 << 20;
    /** Entries taken from the queue for one batch, at most. */
    private static final int BATCH = 65_536;

    private final WalConfig config;
    private final Segments segments;
    private final RecordEncoder encoder;
    private final WalBound bound;
    private final ConcurrentLinkedQueue<WalEntry> queue = new ConcurrentLinkedQueue<>();
    private final Thread thread;
    private volatile boolean stopping;

    WalWriter(WalConfig config, Segments segments, RecordEncoder encoder, WalBound bound) {
        this.config = config;
        this.segments = segments;
        this.encoder = encoder;
        this.bound = bound;
        this.thread = new Thread(this::loop, "meterline-wal");
        thread.setDaemon(true);
    }

    /** Opens the first segment on the calling thread, then starts the writer. */
    void start() {
        openSegment();
        thread.start();
    }

    /** Queues {@code e} without blocking and wakes the writer. */
    void offer(WalEntry e) {
        if (stopping) {
            throw new IllegalStateException("the write-ahead log is closed");
        }
        queue.offer(e);
        LockSupport.unpark(thread);
    }

    /** Stops the writer after it wrote everything queued, fsyncs and closes the segment. */
    void close() {
        stopping = true;
        LockSupport.unpark(thread);
        try {
            thread.join(TimeUnit.SECONDS.toMillis(10));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    // The methods below run on the writer thread (tasks call them between writes).

    /** Starts the next segment unless the current one holds nothing but its header. */
    void roll() {
        if (segments.segmentBytes() > encoder.headerBytes()) {
            nextSegment();
        }
    }

    /** Starts the next segment and deletes every one before it. */
    void clear() {
        nextSegment();
        deleteBelow(segments.segment());
    }

    /** Deletes the closed segments numbered below {@code below}; resumes ingest if the log is below its bound again. */
    void deleteBelow(long below) {
        segments.deleteBelow(below);
        bound.check(segments.bytes());
    }

    private void loop() {
        List<WalEntry> batch = new ArrayList<>();
        while (true) {
            WalEntry e;
            while (batch.size() < BATCH && (e = queue.poll()) != null) {
                batch.add(e);
            }
            if (batch.isEmpty()) {
                if (stopping) {
                    break;
                }
                long untilSync = config.fsyncInterval().toNanos() - (System.nanoTime() - segments.lastSync());
                if (segments.unsynced() && untilSync <= 0) {
                    segments.fsync();
                    continue;
                }
                LockSupport.parkNanos(this, segments.unsynced() ? untilSync : TimeUnit.SECONDS.toNanos(1));
                continue;
            }
            try {
                process(batch);
            } catch (RuntimeException ex) {
                log.error("the write-ahead log writer failed on a batch; its points are not acknowledged", ex);
            }
            batch.clear();
        }
        segments.close();
    }

    private void process(List<WalEntry> batch) {
        WalFormat.Out out = encoder.out();
        List<Runnable> done = new ArrayList<>();
        for (WalEntry e : batch) {
            if (e instanceof WalEntry.Points p) {
                encoder.points(p.shard(), p.points(), p.numbers(), p.renumbered());
                done.add(p.done());
            } else if (e instanceof WalEntry.Closed c) {
                encoder.closed(c.shard(), c.seq(), c.cutoff(), c.all());
            } else if (e instanceof WalEntry.Task t) {
                segments.write(out);
                if (t.sync()) {
                    segments.fsync();
                }
                // As at the end of a batch: the bound first, then the acknowledgements of the points before it.
                bound.check(segments.bytes());
                Completions.runAll(done);
                Completions.run(t.work());
            }
            if (out.size >= WRITE_CHUNK || segments.segmentBytes() + out.size >= config.segmentBytes()) {
                segments.write(out);
                if (segments.segmentBytes() >= config.segmentBytes()) {
                    nextSegment();
                }
            }
        }
        segments.write(out);
        if (config.fsync() == WalFsync.ALWAYS && segments.unsynced()) {
            segments.fsync();
        }
        // The bound before the acknowledgements: a client answered for the batch that reached it finds ingest paused.
        bound.check(segments.bytes());
        Completions.runAll(done);
        if (segments.segmentBytes() >= config.segmentBytes()) {
            nextSegment();
        }
        bound.check(segments.bytes());
    }

    private void openSegment() {
        segments.create();
        encoder.header(segments.segment());
        segments.write(encoder.out());
    }

    private void nextSegment() {
        segments.write(encoder.out());
        segments.fsync();
        segments.seal();
        openSegment();
    }
}
