package dev.meterline;

import dev.meterline.config.Config;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

import static java.util.Objects.requireNonNull;

/**
 * Every scheduler the pipeline runs on, given to it whole so that tests can replace any of them: validation rails,
 * shards, the tick timer and PromQL evaluation never block; the store threads and the remote write thread are the
 * only ones that may.
 *
 * @param validate    the parallel validation rails
 * @param shards      the aggregation shards, one serial worker each on top
 * @param store       the bounded threads that write to the database and the spool (flushes, maintenance)
 * @param storeReads  as many bounded threads that read the database for queries, so a query never waits behind a
 *                    flush
 * @param timer       flush ticks, maintenance and the stats line
 * @param promql      PromQL evaluation, off the HTTP loops and the threads that deliver the windows
 * @param remoteWrite the remote write exporter's one thread, which reads the store between its requests
 */
public record PipelineThreads(Scheduler validate, Scheduler shards, Scheduler store, Scheduler storeReads,
                              Scheduler timer, Scheduler promql, Scheduler remoteWrite) {

    /** Tasks that may wait for a store thread; beyond them a store call fails at once. */
    static final int STORE_QUEUE = 10_000;
    /** Export rounds and retry delays that may wait for the remote write thread. */
    static final int REMOTE_WRITE_QUEUE = 1_000;

    public PipelineThreads {
        requireNonNull(validate, "validate");
        requireNonNull(shards, "shards");
        requireNonNull(store, "store");
        requireNonNull(storeReads, "storeReads");
        requireNonNull(timer, "timer");
        requireNonNull(promql, "promql");
        requireNonNull(remoteWrite, "remoteWrite");
    }

    /** The schedulers sized by the configuration. */
    public static PipelineThreads of(Config config) {
        return of(config, Schedulers.newParallel("meterline-shard", config.aggregation().shards()));
    }

    /** As above, with the shards on {@code shards}; tests pass one they can pause. */
    public static PipelineThreads of(Config config, Scheduler shards) {
        return new PipelineThreads(
                Schedulers.newParallel("meterline-validate", config.validation().workers()),
                shards,
                Schedulers.newBoundedElastic(config.store().threads(), STORE_QUEUE, "meterline-store"),
                Schedulers.newBoundedElastic(config.store().threads(), STORE_QUEUE, "meterline-store-read"),
                Schedulers.newSingle("meterline-timer"),
                Schedulers.newParallel("meterline-promql", Runtime.getRuntime().availableProcessors()),
                Schedulers.newBoundedElastic(1, REMOTE_WRITE_QUEUE, "meterline-remote-write"));
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
    }
}
