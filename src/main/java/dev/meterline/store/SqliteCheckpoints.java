package dev.meterline.store;

import dev.meterline.telemetry.CheckpointFailure;
import dev.meterline.telemetry.StoreMeters;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Copies the write-ahead log's committed pages into the SQLite database file after a write, on a connection and a
 * thread of its own, so that the writer's commit neither copies them nor waits for the two {@code fsync}s of a
 * checkpoint.
 *
 * <p>The checkpoints are PASSIVE: they never wait for or block the writer or a reader, and copy what the log holds
 * when they start; the writer's next transaction then starts the log again from its beginning. Requests made while
 * one waits to run are one request, so at most one checkpoint runs and one waits. Should the log outgrow
 * {@link SqliteDb#WRITER_AUTOCHECKPOINT_PAGES} all the same (a flush larger than that, or checkpoints falling behind),
 * the writer's own commit checkpoints it, as SQLite does by default. Durability does not change: a commit is in the
 * log before the writer returns, and the log is synced before any checkpoint copies it, wherever that runs.
 *
 * <p>Each checkpoint is metered: one that ran, with the log's pages and those a reader kept it from copying, or one
 * that copied nothing because another connection held the checkpoint lock ({@code busy}) or SQLite failed it.
 */
final class SqliteCheckpoints implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(SqliteCheckpoints.class);

    /** The checkpoint thread's name. */
    static final String THREAD_NAME = "meterline-sqlite-checkpoint";

    private final Connection connection;
    private final ExecutorService thread;
    private final AtomicBoolean waiting = new AtomicBoolean();
    private final AtomicLong done = new AtomicLong();
    private final AtomicLong failed = new AtomicLong();
    private final StoreMeters meters;

    /** Checkpoints on {@code connection}, which it closes when closed, metered on {@code meters}. */
    SqliteCheckpoints(Connection connection, StoreMeters meters) {
        this.connection = connection;
        this.meters = meters;
        this.thread = new ThreadPoolExecutor(1, 1, 0, TimeUnit.MILLISECONDS, new LinkedBlockingQueue<>(), r -> {
            Thread t = new Thread(r, THREAD_NAME);
            t.setDaemon(true);
            return t;
        });
    }

    /** Asks for a checkpoint of what the log holds now, unless one is already waiting to run. */
    void request() {
        if (waiting.compareAndSet(false, true)) {
            try {
                thread.execute(this::checkpoint);
            } catch (RuntimeException e) {
                // Closed: the last connection's close checkpoints the log.
                waiting.set(false);
            }
        }
    }

    private void checkpoint() {
        waiting.set(false);
        long began = System.nanoTime();
        try (Statement st = connection.createStatement();
             ResultSet rs = st.executeQuery("PRAGMA wal_checkpoint(PASSIVE)")) {
            // One row: busy (1 when another connection held the checkpoint lock: nothing copied), the log's pages,
            // and the pages copied into the file (fewer when a reader still used the rest).
            rs.next();
            if (rs.getInt(1) != 0) {
                fail(CheckpointFailure.BUSY, began, "another connection held the checkpoint lock");
                return;
            }
            done.incrementAndGet();
            meters.checkpointed(rs.getLong(2), rs.getLong(3), System.nanoTime() - began);
        } catch (SQLException e) {
            fail(CheckpointFailure.ERROR, began, e.getMessage());
        }
    }

    /** The log stays as it is; the next request, or the writer's own checkpoint past its bound, copies it. */
    private void fail(CheckpointFailure reason, long began, String why) {
        meters.checkpointFailed(reason, System.nanoTime() - began);
        long n = failed.incrementAndGet();
        if (Long.bitCount(n) == 1) {
            log.warn("SQLite checkpoint failed ({} so far), the log waits for the next: {}", n, why);
        }
    }

    /** Checkpoints run to their end. */
    long done() {
        return done.get();
    }

    /** Checkpoints that failed (the log then waits for the next one). */
    long failed() {
        return failed.get();
    }

    /** Waits until every checkpoint requested before this call has run, for at most {@code millis}. */
    void awaitIdle(long millis) throws Exception {
        Future<?> marker = thread.submit(() -> { });
        marker.get(millis, TimeUnit.MILLISECONDS);
    }

    /** Lets the running and the waiting checkpoint finish, then closes the connection. */
    @Override
    public void close() {
        thread.shutdown();
        try {
            thread.awaitTermination(1, TimeUnit.MINUTES);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            connection.close();
        } catch (SQLException e) {
            // Closing releases the file; a failure here leaves nothing the caller could act on.
        }
    }
}
