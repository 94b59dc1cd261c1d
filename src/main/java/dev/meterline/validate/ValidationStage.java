package dev.meterline.validate;

import dev.meterline.model.Batch;
import dev.meterline.model.Part;
import dev.meterline.model.Point;
import dev.meterline.model.PointList;
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

    /**
     * Checks every point, then arranges the good ones by shard, in input order within each, in one array of exactly
     * their number; each part is a run of it. When every point is good and goes to one shard, the batch's own list is
     * the part. A batch whose summary ({@link Batch#summarize}) puts all its timestamps within bounds is split by its
     * hashes alone, without reading its points.
     */
    private List<Part> splitUnchecked(Batch batch) {
        long now = clock.getAsLong();
        List<Point> points = batch.points();
        int n = points.size();
        List<Reject> rejects = List.of();
        int[] counts = new int[shards];
        int[] hashes = batch.seriesHashes();
        if (hashes != null && validator.acceptsAll(batch.earliest(), batch.latest(), now)) {
            for (int i = 0; i < n; i++) {
                counts[SeriesKey.shard(hashes[i], shards)]++;
            }
        } else {
            hashes = null;
            for (int i = 0; i < n; i++) {
                Point p = points.get(i);
                RejectReason why = validator.check(p, now);
                if (why != null) {
                    if (rejects.isEmpty()) {
                        rejects = new ArrayList<>();
                    }
                    rejects.add(Reject.of(p.line(), why));
                    continue;
                }
                counts[SeriesKey.shard(p.seriesHash(), shards)]++;
            }
        }
        int parts = 0;
        int last = -1;
        for (int s = 0; s < shards; s++) {
            if (counts[s] > 0) {
                parts++;
                last = s;
            }
        }
        List<Part> out;
        if (parts == 0) {
            out = List.of();
        } else if (parts == 1 && rejects.isEmpty()) {
            out = List.of(new Part(last, batch, points));
        } else {
            out = arranged(batch, points, hashes, counts, parts, !rejects.isEmpty(), now);
        }
        batch.validated(rejects, out.size());
        return out;
    }

    /**
     * The parts of {@code points} by shard, with {@code counts} good points each; {@code recheck} skips bad ones. The
     * points' series hashes are taken from {@code hashes}, or from the points when it is null.
     */
    private List<Part> arranged(Batch batch, List<Point> points, int[] hashes, int[] counts, int parts,
                                boolean recheck, long now) {
        int[] next = new int[shards];
        int good = 0;
        for (int s = 0; s < shards; s++) {
            next[s] = good;
            good += counts[s];
        }
        Point[] all = new Point[good];
        int n = points.size();
        if (hashes != null) {
            for (int i = 0; i < n; i++) {
                all[next[SeriesKey.shard(hashes[i], shards)]++] = points.get(i);
            }
        } else {
            for (int i = 0; i < n; i++) {
                Point p = points.get(i);
                // The check is pure: at the same clock reading it refuses the same points as in the first pass.
                if (recheck && validator.check(p, now) != null) {
                    continue;
                }
                all[next[SeriesKey.shard(p.seriesHash(), shards)]++] = p;
            }
        }
        List<Part> out = new ArrayList<>(parts);
        for (int s = 0, from = 0; s < shards; s++) {
            if (counts[s] > 0) {
                out.add(new Part(s, batch, new PointList(all, from, counts[s])));
                from += counts[s];
            }
        }
        return out;
    }
}
