package dev.meterline;

import dev.meterline.aggregate.Aggregation;
import dev.meterline.model.SeriesKey;
import dev.meterline.wal.Replay;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Feeds the log's records to the shards with one thread per shard: a shard's records keep their order (one queue
 * and one thread each), and shards share nothing but thread-safe counters, so they replay side by side while the
 * reader decodes. Records travel in chunks, and at most {@link #IN_FLIGHT} chunks per shard wait, so memory stays
 * bounded whatever the log's size.
 */
public final class ShardedReplay implements Replay, AutoCloseable {

    private static final int CHUNK = 4096;
    private static final int IN_FLIGHT = 8;

    private final Aggregation aggregation;
    private final ExecutorService[] workers;
    private final Semaphore[] room;
    private final Chunk[] current;
    private final AtomicReference<Throwable> failure = new AtomicReference<>();

    /** Buffered points of one shard. */
    private static final class Chunk {
        final SeriesKey[] keys = new SeriesKey[CHUNK];
        final long[] times = new long[CHUNK];
        final double[] values = new double[CHUNK];
        final long[] segments = new long[CHUNK];
        int n;
    }

    public ShardedReplay(Aggregation aggregation) {
        this.aggregation = aggregation;
        int shards = aggregation.shardCount();
        this.workers = new ExecutorService[shards];
        this.room = new Semaphore[shards];
        this.current = new Chunk[shards];
        for (int i = 0; i < shards; i++) {
            int shard = i;
            workers[i] = Executors.newSingleThreadExecutor(r -> {
                Thread t = new Thread(r, "meterline-replay-" + shard);
                t.setDaemon(true);
                return t;
            });
            room[i] = new Semaphore(IN_FLIGHT);
            current[i] = new Chunk();
        }
    }

    @Override
    public void closedThrough(int shard, long cutoff) {
        submit(shard, () -> aggregation.replayClosedThrough(shard, cutoff));
    }

    @Override
    public void point(int shard, SeriesKey series, long timestamp, double value, long segment) {
        Chunk c = current[shard];
        c.keys[c.n] = series;
        c.times[c.n] = timestamp;
        c.values[c.n] = value;
        c.segments[c.n] = segment;
        if (++c.n == CHUNK) {
            flush(shard);
        }
    }

    @Override
    public void closed(int shard, long seq, long cutoff, boolean all) {
        submit(shard, () -> aggregation.replayClosed(shard, seq, cutoff, all));
    }

    private void flush(int shard) {
        Chunk c = current[shard];
        if (c.n == 0) {
            return;
        }
        current[shard] = new Chunk();
        enqueue(shard, () -> {
            for (int i = 0; i < c.n; i++) {
                aggregation.replayPoint(shard, c.keys[i], c.times[i], c.values[i], c.segments[i]);
            }
        });
    }

    /** Runs {@code work} on the shard's thread after the points buffered before it. */
    private void submit(int shard, Runnable work) {
        flush(shard);
        enqueue(shard, work);
    }

    private void enqueue(int shard, Runnable work) {
        room[shard].acquireUninterruptibly();
        workers[shard].execute(() -> {
            try {
                if (failure.get() == null) {
                    work.run();
                }
            } catch (RuntimeException | Error e) {
                failure.compareAndSet(null, e);
            } finally {
                room[shard].release();
            }
        });
    }

    /** Waits until every shard has replayed everything; rethrows the first failure. */
    @Override
    public void close() {
        for (int i = 0; i < workers.length; i++) {
            flush(i);
        }
        for (ExecutorService w : workers) {
            w.shutdown();
        }
        try {
            for (ExecutorService w : workers) {
                if (!w.awaitTermination(1, TimeUnit.HOURS)) {
                    throw new IllegalStateException("the replay of the write-ahead log did not end within an hour");
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while replaying the write-ahead log", e);
        }
        Throwable f = failure.get();
        if (f instanceof RuntimeException re) {
            throw re;
        }
        if (f instanceof Error err) {
            throw err;
        }
    }
}
