package dev.meterline.validate;

import dev.meterline.model.Batch;
import dev.meterline.model.Part;
import dev.meterline.model.Point;
import dev.meterline.model.Reject;
import dev.meterline.model.RejectReason;
import dev.meterline.model.SeriesKey;
import dev.meterline.telemetry.PipelineMetrics;
import dev.meterline.telemetry.RateLimitedLog;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Flux;
import reactor.core.scheduler.Scheduler;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.function.LongSupplier;

/**
 * The parallel stage: on {@code workers} rails, checks the event time of every point of a batch against the clock
 * and splits the good ones into one {@link Part} per aggregation shard. Series content and static tags were settled
 * where the key was decoded ({@link Validator#checkSeries}, {@link Validator#enrich}).
 */
public final class ValidationStage implements Function<Flux<Batch>, Flux<Part>> {

    private static final Logger log = LoggerFactory.getLogger(ValidationStage.class);

    private final Validator validator;
    private final int workers;
    private final int shards;
    private final Scheduler scheduler;
    private final LongSupplier clock;
    private final PipelineMetrics metrics;
    private final RateLimitedLog errors = new RateLimitedLog(log, 10_000);

    public ValidationStage(Validator validator, int workers, int shards, Scheduler scheduler, LongSupplier clock,
                           PipelineMetrics metrics) {
        this.validator = validator;
        this.workers = workers;
        this.shards = shards;
        this.scheduler = scheduler;
        this.clock = clock;
        this.metrics = metrics;
    }

    @Override
    public Flux<Part> apply(Flux<Batch> batches) {
        return batches
                .parallel(workers)
                .runOn(scheduler)
                .map(this::split)
                .sequential()
                .flatMapIterable(parts -> parts);
    }

    /** Validates one batch; never throws: a failure rejects the batch's points as internal errors. */
    List<Part> split(Batch batch) {
        try {
            return splitUnchecked(batch);
        } catch (RuntimeException e) {
            metrics.internalError();
            errors.warn("validation failed on a batch of " + batch.points().size() + " points", e);
            batch.failAll(RejectReason.INTERNAL_ERROR);
            return List.of();
        }
    }

    private List<Part> splitUnchecked(Batch batch) {
        long now = clock.getAsLong();
        List<Reject> rejects = List.of();
        @SuppressWarnings("unchecked")
        List<Point>[] byShard = new List[shards];
        int parts = 0;
        for (Point p : batch.points()) {
            RejectReason why = validator.check(p, now);
            if (why != null) {
                if (rejects.isEmpty()) {
                    rejects = new ArrayList<>();
                }
                rejects.add(Reject.of(p.line(), why));
                continue;
            }
            int shard = SeriesKey.shard(p.seriesHash(), shards);
            List<Point> list = byShard[shard];
            if (list == null) {
                list = byShard[shard] = new ArrayList<>(Math.max(16, batch.points().size() / shards + 8));
                parts++;
            }
            list.add(p);
        }
        List<Part> out = new ArrayList<>(parts);
        for (int s = 0; s < shards; s++) {
            if (byShard[s] != null) {
                out.add(new Part(s, batch, byShard[s]));
            }
        }
        batch.validated(rejects, out.size());
        return out;
    }
}
