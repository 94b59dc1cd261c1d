package dev.meterline;

import dev.meterline.config.Config;
import dev.meterline.lifecycle.Niceness;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

import static java.util.Objects.requireNonNull;

/**
 * Every scheduler the pipeline runs on, given to it whole so that tests can replace any of them: validation rails,
 * shards, the tick timer and PromQL evaluation never block; the store threads and the remote write thread are the
 * only ones that may.
 *
 * <p>The threads that take in and store points (rails, shards, store writers, timer, remote write, and the TCP ingest
 * loops the pipeline lowers itself) run at {@code ingestNice}; threads started from them inherit it, as the log
 * writer (started as the store opens) and SQLite's checkpointer (at the first write) do. The threads that answer
 * queries (the HTTP loops, store reads, PromQL, the preparation of pending flushes for them) stay at the default, so
 * a query gets a core first.
 *
 * @param validate    the parallel validation rails
 * @param shards      the aggregation shards, one serial worker each on top
 * @param store       the bounded threads that write to the database and the spool (flushes, maintenance)
 * @param storeReads  as many threads that read the database for queries, so a query never waits behind a flush
 * @param timer       flush ticks, maintenance and the stats line
 * @param promql      PromQL evaluation, off the HTTP loops and the threads that deliver the windows
 * @param remoteWrite the remote write exporter's one thread, which reads the store between its requests
 * @param prepare     one thread that groups and indexes a new pending flush for the queries that asked the one before,
 *                    so that the first such query after a flush does not pay for it on its event loop
 * @param ingestNice  the scheduling priority of the threads that take in and store points
 */
public record PipelineThreads(Scheduler validate, Scheduler shards, Scheduler store, Scheduler storeReads,
                              Scheduler timer, Scheduler promql, Scheduler remoteWrite, Scheduler prepare,
                              Niceness ingestNice) {

    /** Tasks that may wait for a store thread; beyond them a store call fails at once. */
    static final int STORE_QUEUE = 10_000;
    /** Export rounds and retry delays that may wait for the remote write thread. */
    static final int REMOTE_WRITE_QUEUE = 1_000;
    /** Preparations that may wait for the prepare thread; beyond them a flush is left to its first query. */
    static final int PREPARE_QUEUE = 2;
    /** Seconds an idle bounded thread lives (Reactor's default). */
    private static final int IDLE_TTL_SECONDS = 60;

    public PipelineThreads {
        requireNonNull(validate, "validate");
        requireNonNull(shards, "shards");
        requireNonNull(store, "store");
        requireNonNull(storeReads, "storeReads");
        requireNonNull(timer, "timer");
        requireNonNull(promql, "promql");
        requireNonNull(remoteWrite, "remoteWrite");
        requireNonNull(prepare, "prepare");
        requireNonNull(ingestNice, "ingestNice");
    }

    /** The schedulers sized by the configuration. */
    public static PipelineThreads of(Config config) {
        Niceness nice = Niceness.of(config.lifecycle().ingestNice());
        return of(config, nice, Schedulers.newParallel(config.aggregation().shards(),
                nice.threads("meterline-shard", true)));
    }

    /** As above, with the shards on {@code shards}; tests pass one they can pause. */
    public static PipelineThreads of(Config config, Scheduler shards) {
        return of(config, Niceness.of(config.lifecycle().ingestNice()), shards);
    }

    private static PipelineThreads of(Config config, Niceness nice, Scheduler shards) {
        return new PipelineThreads(
                Schedulers.newParallel(config.validation().workers(), nice.threads("meterline-validate", true)),
                shards,
                Schedulers.newBoundedElastic(config.store().threads(), STORE_QUEUE,
                        nice.threads("meterline-store", false), IDLE_TTL_SECONDS),
                startedPool("meterline-store-read", config.store().threads(), STORE_QUEUE, false),
                Schedulers.newSingle(nice.threads("meterline-timer", true)),
                started(Schedulers.newParallel("meterline-promql", Runtime.getRuntime().availableProcessors()),
                        Runtime.getRuntime().availableProcessors()),
                Schedulers.newBoundedElastic(1, REMOTE_WRITE_QUEUE, nice.threads("meterline-remote-write", false),
                        IDLE_TTL_SECONDS),
                startedPool("meterline-prepare", 1, PREPARE_QUEUE, true),
                nice);
    }

    /**
     * {@code threads} threads at the default priority, started now, on the calling thread, and kept: a thread inherits
     * the nice value of the thread that starts it, and one started later, from a shard or store thread that a query's
     * answer passed through, would work for queries at ingest's priority. {@code nonBlocking} threads must never
     * block.
     */
    private static Scheduler startedPool(String prefix, int threads, int queue, boolean nonBlocking) {
        ThreadPoolExecutor pool = new ThreadPoolExecutor(threads, threads, 0, TimeUnit.MILLISECONDS,
                new ArrayBlockingQueue<>(queue), Niceness.of(0).threads(prefix, nonBlocking));
        pool.prestartAllCoreThreads();
        return Schedulers.fromExecutorService(pool, prefix);
    }

    /** Starts each of a parallel scheduler's {@code workers} now, on the calling thread, for the same reason. */
    private static Scheduler started(Scheduler parallel, int workers) {
        for (int i = 0; i < workers; i++) {
            parallel.schedule(() -> { });
        }
        return parallel;
    }

    /** Stops every scheduler. */
    void dispose() {
        validate.dispose();
        shards.dispose();
        store.dispose();
        storeReads.dispose();
        timer.dispose();
        promql.dispose();
        remoteWrite.dispose();
        prepare.dispose();
    }
}
