package dev.meterline;

import dev.meterline.config.Config;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

import static java.util.Objects.requireNonNull;

/**
 * Every scheduler the pipeline runs on, given to it whole so that tests can replace any of them: validation rails,
 * shards and the tick timer never block; the store threads are the only ones that may.
 *
 * @param validate the parallel validation rails
 * @param shards   the aggregation shards, one serial worker each on top
 * @param store    the bounded threads that call the database and the spool
 * @param timer    flush ticks, maintenance and the stats line
 */
public record PipelineThreads(Scheduler validate, Scheduler shards, Scheduler store, Scheduler timer) {

    /** Tasks that may wait for a store thread; beyond them a store call fails at once. */
    static final int STORE_QUEUE = 10_000;

    public PipelineThreads {
        requireNonNull(validate, "validate");
        requireNonNull(shards, "shards");
        requireNonNull(store, "store");
        requireNonNull(timer, "timer");
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
                Schedulers.newSingle("meterline-timer"));
    }

    /** Stops every scheduler. */
    void dispose() {
        validate.dispose();
        shards.dispose();
        store.dispose();
        timer.dispose();
    }
}
