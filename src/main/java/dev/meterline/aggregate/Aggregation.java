package dev.meterline.aggregate;

import dev.meterline.config.AggregationConfig;
import dev.meterline.config.QueryViewConfig;
import dev.meterline.model.Part;
import dev.meterline.model.Point;
import dev.meterline.model.Reject;
import dev.meterline.model.RejectReason;
import dev.meterline.model.SeriesKey;
import dev.meterline.model.SeriesValues;
import dev.meterline.model.Window;
import dev.meterline.telemetry.MeterNames;
import dev.meterline.telemetry.PipelineMetrics;
import dev.meterline.telemetry.RateLimitedLog;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.LongConsumer;
import java.util.function.LongSupplier;
import java.util.function.Predicate;

/**
 * The aggregation stage: parts are grouped by shard ({@code groupBy} over a bounded key space), and each shard's
 * group runs on its own worker, so every shard's state has exactly one writer.
 *
 * <p>Reads and closes travel as commands through the same groups, so they see each shard between two parts and
 * need no locks. They also wait in a per-shard queue that the shard empties before each part, so a query never
 * waits behind the parts already buffered for the shard, only behind the one being aggregated; asks keep their
 * order among themselves either way. Each shard runs on one serial worker of its own, and an ask also schedules the
 * emptying of that queue on the worker directly, so an idle shard answers without waiting for the command to make
 * its way through the merge and the groupBy, whose drain a preempted validation rail may be holding. When the input
 * completes, every shard hands over all its windows, open ones too.
 */
public final class Aggregation {

    private static final Logger log = LoggerFactory.getLogger(Aggregation.class);

    private final Shard[] shards;
    /** Per shard, the asks not yet answered, in the order they were sent. */
    private final Queue<Command.Ask>[] asks;
    /** Per shard, the one worker its group and its ask drains run on, so they never run at the same time. */
    private final Scheduler[] workers;
    private final PipelineMetrics metrics;
    private final LongSupplier clock;
    private final PendingFlushes pending = new PendingFlushes();
    private final QueryViews views;
    private final Sinks.Many<Command> control = Sinks.many().unicast().onBackpressureBuffer();
    private final AtomicLong flushSeq = new AtomicLong();
    private final AtomicInteger groups = new AtomicInteger();
    private final AtomicLong openWindows = new AtomicLong();
    /** Series that left their shards lately and keep their numbers there for their return. */
    private final AtomicLong lingering = new AtomicLong();
    private final RateLimitedLog errors = new RateLimitedLog(log, 10_000);
    private long lastCloseSeq;
    private boolean controlClosed;
    private volatile Journal journal = Journal.NONE;
    /** While the shards are rebuilt from the log, between {@link #replayStart} and {@link #replayDone}. */
    private volatile Rebuild rebuild;

    public Aggregation(AggregationConfig config, SeriesBudget budget, Scheduler scheduler, PipelineMetrics metrics,
                       LongSupplier clock) {
        this(config, QueryViewConfig.DEFAULTS, budget, scheduler, metrics, clock);
    }

    /** As above, publishing open windows for repeated queries within {@code views}' bounds. */
    public Aggregation(AggregationConfig config, QueryViewConfig views, SeriesBudget budget, Scheduler scheduler,
                       PipelineMetrics metrics, LongSupplier clock) {
        this.shards = new Shard[config.shards()];
        @SuppressWarnings("unchecked")
        Queue<Command.Ask>[] queues = new Queue[shards.length];
        this.asks = queues;
        this.workers = new Scheduler[shards.length];
        for (int i = 0; i < shards.length; i++) {
            shards[i] = new Shard(i, config.window().toMillis(), config.lateness().toMillis(), budget);
            asks[i] = new ConcurrentLinkedQueue<>();
            workers[i] = serialWorker(scheduler);
        }
        this.metrics = metrics;
        this.clock = clock;
        this.views = new QueryViews(views, shards.length, metrics);
        metrics.level("aggregationGroups", MeterNames.AGGREGATE_GROUPS, "groupBy groups (shards) alive", groups::get);
        metrics.level("openWindows", MeterNames.WINDOWS_OPEN, "windows held in memory", openWindows::get);
        metrics.level("activeSeries", MeterNames.SERIES_ACTIVE, "series with an open window", budget::active);
        metrics.level("seriesLimit", MeterNames.SERIES_LIMIT, "the active series budget", budget::limit);
        metrics.level("lingeringSeries", MeterNames.SERIES_LINGERING,
                "series with no open window left that keep their state and number for a window", lingering::get);
        metrics.level("pendingWindows", MeterNames.WINDOWS_PENDING, "closed windows not yet stored",
                pending::windows);
        pending.bindTo(metrics);
    }

    /**
     * One worker of {@code scheduler} whose tasks run one at a time in the order given, whatever the scheduler: a
     * worker of a multi-threaded executor may run two tasks at once, which would give a shard two writers.
     */
    private static Scheduler serialWorker(Scheduler scheduler) {
        Scheduler.Worker thread = scheduler.createWorker();
        return Schedulers.single(Schedulers.fromExecutor(thread::schedule, true));
    }

    /** Numbers flushes after {@code seq}, e.g. the last one the store holds for this replica. */
    public void startSeqAfter(long seq) {
        flushSeq.set(seq);
        synchronized (this) {
            lastCloseSeq = seq;
        }
        views.registered(seq);
    }

    /** Routes what shards do through {@code journal} from now on; set before {@link #run}. */
    public void journal(Journal journal) {
        this.journal = journal;
    }

    /**
     * Prepares, on {@code prepare}, each new pending flush for the queries that asked the flush before it; set before
     * {@link #run}. Without it, the first query that asks a flush groups and indexes it on its own thread.
     */
    public void prepareOn(Scheduler prepare) {
        pending.prepareOn(prepare);
    }

    /**
     * Starts rebuilding the shards from the log, before {@link #run}: flushes numbered up to {@code committedSeq}
     * are in the store already, and are dropped again as the log closes them.
     */
    public void replayStart(long committedSeq) {
        rebuild = new Rebuild(shards, openWindows, committedSeq);
    }

    /** From the log: shard {@code shard} had closed every window due at {@code cutoff}. */
    public void replayClosedThrough(int shard, long cutoff) {
        rebuild.closedThrough(shard, cutoff);
    }

    /** From the log: one point shard {@code shard} had aggregated. */
    public void replayPoint(int shard, SeriesKey series, long timestamp, double value, long segment) {
        rebuild.point(shard, series, timestamp, value, segment);
    }

    /**
     * From the log: shard {@code shard} closed flush {@code seq}. The same windows close again, whole, under the same
     * number; a flush the store holds is dropped, any other waits to be written (the store ignores a window it
     * already holds under that number).
     */
    public void replayClosed(int shard, long seq, long cutoff, boolean all) {
        rebuild.closed(shard, seq, cutoff, all);
    }

    /** Ends the rebuild: the flushes still to be written become pending, and new flushes are numbered after all. */
    public void replayDone() {
        long maxSeq = rebuild.done(pending);
        rebuild = null;
        long left = 0;
        for (Shard shard : shards) {
            left += shard.lingering();
        }
        lingering.set(left);
        if (maxSeq > flushSeq.get()) {
            startSeqAfter(maxSeq);
        }
    }

    /**
     * A lower bound of the oldest log segment that still holds a point of an open window, from every shard; the
     * caller makes sure no closed window waits for storage meanwhile.
     */
    public Mono<Long> oldestSegment() {
        return ask(shard -> Math.min(shard.oldestSegment(), journal.segment()), null, false, null).map(g -> {
            long min = Long.MAX_VALUE;
            for (Object r : g.all()) {
                min = Math.min(min, (Long) r);
            }
            return min;
        });
    }

    public int shardCount() {
        return shards.length;
    }

    /** The closed windows waiting for storage, read-only. */
    public PendingWindows pending() {
        return pending;
    }

    /**
     * Runs the stage over {@code parts}; emits, once the parts complete, every window still in memory (the final
     * flush), then completes. Each shard's windows come as one list, all of one flush number, in the columns the shard
     * closed them into: the final write reads each window as it binds it, so a million windows are not a million
     * window objects that live, and are copied by every young collection, until the last of them is stored.
     */
    public Flux<List<Window>> run(Flux<Part> parts) {
        Flux<Command> data = parts.<Command>map(Command.Record::new).doOnComplete(this::closeControl);
        return Flux.merge(data, control.asFlux())
                .groupBy(Command::shard)
                .flatMap(group -> {
                    Shard shard = shards[group.key()];
                    groups.incrementAndGet();
                    return group.publishOn(workers[group.key()])
                            .doOnNext(c -> handle(shard, c))
                            .then(Mono.fromSupplier(() -> finalWindows(shard)).filter(w -> !w.isEmpty()))
                            .doFinally(s -> groups.decrementAndGet());
                }, shards.length);
    }

    private List<Window> finalWindows(Shard shard) {
        views.stop();
        int before = shard.openWindows();
        int lingeringBefore = shard.lingering();
        long now = clock.getAsLong();
        long seq = flushSeq.incrementAndGet();
        List<Window> all = shard.closeAll(now, seq);
        journal.closed(shard.index(), seq, now, true);
        openWindows.addAndGet(-before);
        countLingering(shard, lingeringBefore);
        return all;
    }

    private void handle(Shard shard, Command c) {
        answerWaiting(shard, c.shard());
        if (c instanceof Command.Record r) {
            int before = shard.openWindows();
            int lingeringBefore = shard.lingering();
            try {
                Part part = r.part();
                Shard.Recorded done = shard.aggregate(part, journal.segment());
                // Counted before the batch can be told (the log writer tells it): a client whose sync was answered
                // finds its windows in the stats.
                countOpen(shard, before);
                countLingering(shard, lingeringBefore);
                before = shard.openWindows();
                lingeringBefore = shard.lingering();
                publish(shard, done.taken());
                if (done.late() > 0) {
                    metrics.late(done.late());
                }
                // The acknowledgement's route: once the log holds the points, the batch is told.
                if (done.taken().isEmpty()) {
                    part.batch().partDone(done.accepted(), done.rejects());
                } else {
                    journal.points(shard.index(), done.taken(), done.numbers(), shard.takeRenumbered(),
                            () -> part.batch().partDone(done.accepted(), done.rejects()));
                }
            } catch (RuntimeException e) {
                metrics.internalError();
                errors.warn("aggregation failed on a part of " + r.part().points().size() + " points", e);
                List<Reject> all = new ArrayList<>();
                for (Point p : r.part().points()) {
                    all.add(Reject.of(p.line(), RejectReason.INTERNAL_ERROR));
                }
                r.part().batch().partDone(0, all);
            }
            // What a failure left changed.
            countOpen(shard, before);
            countLingering(shard, lingeringBefore);
        } else if (c instanceof Command.Ask a && a.claim()) {
            answer(shard, a);
        }
    }

    /**
     * Publishes for the query views what a part changed, before its batch can be told; a failure there drops the
     * views (queries then ask the shards) and leaves the part's points aggregated.
     */
    private void publish(Shard shard, List<Point> taken) {
        try {
            views.shard(shard.index()).afterPart(shard, taken);
        } catch (RuntimeException e) {
            metrics.internalError();
            errors.warn("publishing open windows for queries failed; queries ask the shards from now on", e);
            views.stop();
        }
    }

    /** Answers, in order, the asks waiting for shard {@code i}; runs only on that shard's worker. */
    private void answerWaiting(Shard shard, int i) {
        Command.Ask first;
        while ((first = asks[i].poll()) != null) {
            if (first.claim()) {
                answer(shard, first);
            }
        }
    }

    /** Has shard {@code i}'s worker answer its waiting asks now, if it is idle, rather than at its next command. */
    private void wake(int i) {
        try {
            workers[i].schedule(() -> answerWaiting(shards[i], i));
        } catch (RejectedExecutionException e) {
            // The shard threads are shut down: the ask also travels as a command, which then fails to be sent.
        }
    }

    private void answer(Shard shard, Command.Ask a) {
        int before = shard.openWindows();
        int lingeringBefore = shard.lingering();
        try {
            a.gather().offer(a.shard(), a.question().apply(shard));
        } catch (RuntimeException e) {
            metrics.internalError();
            errors.warn("a shard failed to answer a query", e);
            a.gather().fail(e);
        }
        countOpen(shard, before);
        countLingering(shard, lingeringBefore);
    }

    /** Adds to the open windows' meter how {@code shard}'s count moved from {@code before}. */
    private void countOpen(Shard shard, int before) {
        int change = shard.openWindows() - before;
        if (change != 0) {
            openWindows.addAndGet(change);
        }
    }

    /** Adds to the lingering series' meter how {@code shard}'s count moved from {@code before}. */
    private void countLingering(Shard shard, int before) {
        int change = shard.lingering() - before;
        if (change != 0) {
            lingering.addAndGet(change);
        }
    }

    private synchronized void closeControl() {
        controlClosed = true;
        views.stop();
        control.tryEmitComplete();
    }

    /** Closed windows of one flush, numbered. */
    public record Closed(long seq, List<Window> windows) {
    }

    /**
     * Closes, in every shard, the windows due at {@code cutoff}; they are registered as pending before the Mono
     * emits, and must be removed with {@link #stored(long)} once committed.
     */
    public Mono<Closed> close(long cutoff) {
        return Mono.defer(() -> {
            long[] seq = new long[1];
            Map<String, List<String>> indexed = pending.indexKeys();
            Mono<Gather> answers = ask(shard -> {
                List<Window> closed = shard.close(cutoff, seq[0], indexed);
                journal.closed(shard.index(), seq[0], cutoff, false);
                views.shard(shard.index()).afterClose(shard, seq[0], cutoff);
                return closed;
            }, s -> seq[0] = s, true,
                    results -> {
                        pending.register(seq[0], joined(results));
                        views.registered(seq[0]);
                    });
            return answers.map(g -> new Closed(seq[0], joined(g.all())));
        });
    }

    /** Marks flush {@code seq} as committed: its windows are now visible in the store instead. */
    public void stored(long seq) {
        pending.remove(seq);
    }

    /** Part of flush {@code seq} went to the spool; {@code rest} still waits for storage under the same number. */
    void partlyStored(long seq, List<Window> rest) {
        pending.register(seq, rest);
    }

    /** The windows of the final flush, a list per flush number, join the backlog under the numbers they carry. */
    void pendingFinal(List<List<Window>> last) {
        pending.registerAll(last);
    }

    /** Open windows plus the number of the last flush the shards had done when they were read. */
    public record Snapshot(List<Window> windows, long closedThroughSeq) {
    }

    /**
     * Copies of the open windows of matching series of {@code metric} that start in {@code [from, to)}, where
     * {@code filter} passes only series whose value of each key in {@code tags} is one of its values (no tags: any
     * series it passes), which lets a shard with many series of {@code metric} find them through a tag index.
     */
    public Mono<Snapshot> snapshot(String metric, Map<String, List<String>> tags, Predicate<SeriesKey> filter,
                                   long from, long to) {
        return ask(shard -> shard.snapshot(metric, tags, filter, from, to), null, false, null)
                .map(g -> new Snapshot(flatten(g.all()), g.closedThroughSeq));
    }

    /**
     * Copies of the open windows of the series of {@code metric} that start in {@code [from, to)}, have, for each
     * key of {@code tags}, one of its values, and pass {@code filter} (null for none). Read from the published view
     * of this query shape when there is one, without a shard; otherwise asked of the shards, which then publish the
     * shape for the next query (within the bounds of the views).
     */
    public Mono<Snapshot> openWindows(String metric, Map<String, List<String>> tags, NamedFilter filter, long from,
                                      long to) {
        return Mono.defer(() -> {
            Snapshot published = published(metric, tags, filter, from, to);
            return published != null ? Mono.just(published) : askOpenWindows(metric, tags, filter, from, to);
        });
    }

    /** The open windows as {@link #openWindows} reads them from a published view, on the caller's thread; or null. */
    public Snapshot published(String metric, Map<String, List<String>> tags, NamedFilter filter, long from,
                              long to) {
        return views.read(metric, tags, filter, from, to, clock.getAsLong());
    }

    /** The open windows as {@link #openWindows} has the shards answer them, registering the shape as a view. */
    public Mono<Snapshot> askOpenWindows(String metric, Map<String, List<String>> tags, NamedFilter filter,
                                         long from, long to) {
        return Mono.defer(() -> {
            long now = clock.getAsLong();
            Predicate<SeriesKey> passes = s -> QueryViews.passes(tags, s) && (filter == null || filter.test(s));
            QueryView view = views.create(metric, tags, filter, now);
            if (view == null) {
                return snapshot(metric, tags, passes, from, to);
            }
            return ask(shard -> {
                List<SeriesState> matching = shard.matching(metric, tags, passes);
                views.shard(shard.index()).register(shard, view, matching);
                return shard.snapshot(matching, from, to);
            }, null, false, null)
                    .map(g -> new Snapshot(flatten(g.all()), g.closedThroughSeq))
                    .doOnError(e -> views.drop(view, false));
        });
    }

    /** Active series of {@code metric} (every metric when null), from all shards. */
    public Mono<List<SeriesKey>> activeSeries(String metric) {
        return keysOfAll(shard -> shard.series(metric));
    }

    /** Active series count per metric, from all shards. */
    public Mono<Map<String, Long>> activeSeriesCounts() {
        return ask(Shard::seriesCounts, null, false, null).map(g -> {
            Map<String, Long> out = new HashMap<>();
            for (Object r : g.all()) {
                @SuppressWarnings("unchecked")
                Map<String, Integer> m = (Map<String, Integer>) r;
                m.forEach((k, v) -> out.merge(k, (long) v, Long::sum));
            }
            return out;
        });
    }

    /** The shards' closed windows as one list, without building or copying them. */
    @SuppressWarnings("unchecked")
    private static List<Window> joined(List<Object> results) {
        List<List<Window>> lists = new ArrayList<>(results.size());
        for (Object r : results) {
            lists.add((List<Window>) r);
        }
        return JoinedWindows.of(lists);
    }

    @SuppressWarnings("unchecked")
    private static List<Window> flatten(List<Object> results) {
        List<Window> all = new ArrayList<>();
        for (Object r : results) {
            all.addAll((List<Window>) r);
        }
        return all;
    }

    /**
     * Sends {@code question} to every shard, in one step under the control lock so that every shard sees all asks
     * in the same order. {@code onSeq} receives this ask's flush number when {@code isClose}.
     */
    private Mono<Gather> ask(Function<Shard, Object> question, LongConsumer onSeq, boolean isClose,
                             Consumer<List<Object>> onAll) {
        return Mono.defer(() -> {
            Gather gather = new Gather(shards.length, onAll);
            synchronized (this) {
                if (controlClosed) {
                    return Mono.error(new PipelineStopping());
                }
                if (isClose) {
                    long seq = flushSeq.incrementAndGet();
                    lastCloseSeq = seq;
                    onSeq.accept(seq);
                } else {
                    gather.closedThroughSeq = lastCloseSeq;
                }
                for (int i = 0; i < shards.length; i++) {
                    Command.Ask a = new Command.Ask(i, question, gather, new AtomicBoolean());
                    asks[i].offer(a);
                    if (control.tryEmitNext(a).isFailure()) {
                        return Mono.error(new PipelineStopping());
                    }
                }
            }
            for (int i = 0; i < shards.length; i++) {
                wake(i);
            }
            return gather.result.asMono();
        });
    }

    /**
     * Keys of the active series of {@code metric} that have, for each key of {@code tags}, one of its values and pass
     * {@code filter} (null for none), found through the shards' tag indexes; each shard gives at most {@code max + 1},
     * so a list longer than {@code max} tells the caller the listing is over its bound.
     */
    public Mono<List<SeriesKey>> listSeries(String metric, Map<String, List<String>> tags, Predicate<SeriesKey> filter,
                                            int max) {
        return keysOfAll(shard -> shard.listSeries(metric, tags, filter, max));
    }

    /**
     * What {@code valueOf} gives of each active series of {@code metric} that has, for each key of {@code tags}, one of
     * its values and passes {@code filter} (null for none), found through the shards' tag indexes, with the count of
     * those series; each shard stops at {@code max + 1}, so a count over {@code max} tells the caller the listing is
     * over its bound.
     */
    public Mono<SeriesValues> seriesValues(String metric, Map<String, List<String>> tags, Predicate<SeriesKey> filter,
                                           SeriesValues.Value valueOf, int max) {
        return ask(shard -> shard.seriesValues(metric, tags, filter, valueOf, max), null, false, null).map(g -> {
            SeriesValues out = new SeriesValues();
            for (Object r : g.all()) {
                out.addDisjoint((SeriesValues) r);
            }
            return out;
        });
    }

    /**
     * One key of each distinct metric and set of tag keys among the active series of {@code metric} (of every metric
     * when null), from all shards (a set may come from more than one).
     */
    public Mono<List<SeriesKey>> tagKeySets(String metric) {
        return keysOfAll(shard -> shard.tagKeySets(metric));
    }

    /** Every shard's list of keys, asked of each on its thread, in one list. */
    private Mono<List<SeriesKey>> keysOfAll(Function<Shard, List<SeriesKey>> question) {
        return ask(question::apply, null, false, null).map(g -> {
            List<SeriesKey> out = new ArrayList<>();
            for (Object r : g.all()) {
                @SuppressWarnings("unchecked")
                List<SeriesKey> l = (List<SeriesKey>) r;
                out.addAll(l);
            }
            return out;
        });
    }
}
