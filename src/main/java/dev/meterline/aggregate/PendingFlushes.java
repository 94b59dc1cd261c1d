package dev.meterline.aggregate;

import dev.meterline.model.SeriesKey;
import dev.meterline.model.TagKeySets;
import dev.meterline.model.Window;
import dev.meterline.model.WindowList;
import dev.meterline.telemetry.MeterNames;
import dev.meterline.telemetry.PipelineMetrics;
import io.micrometer.core.instrument.FunctionCounter;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Scheduler;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;

import static java.util.Objects.requireNonNull;

/**
 * Windows that left the shards and are not yet committed to storage, by flush sequence number. Owned and written by
 * {@link Aggregation} alone; everyone else reads it through {@link PendingWindows}.
 */
final class PendingFlushes implements PendingWindows {

    /** A metric with at least this many windows in a flush is narrowed through an index when a query names values. */
    static final int INDEX_FROM = TagIndexes.INDEX_FROM;
    /** Most tag indexes one pending flush keeps; a query naming values only of other keys walks the metric's windows. */
    static final int MAX_INDEXES = 4;

    private final ConcurrentSkipListMap<Long, Flush> bySeq = new ConcurrentSkipListMap<>();
    /** Flushes that have left so far; counted before they leave, see {@link #departures()}. */
    private final AtomicLong departures = new AtomicLong();
    /**
     * What queries asked of the flush registered last, kept after it leaves (a flush is often stored before the next
     * one comes), without its windows: what the next flush is prepared for.
     */
    private final AtomicReference<Asked> last = new AtomicReference<>();
    /** Where flushes are prepared for queries; null: nowhere, each flush's first query prepares it. */
    private volatile Scheduler prepare;
    /** Preparations run on the prepare thread, called off by a query, refused by the thread's full queue. */
    private final LongAdder prepared = new LongAdder();
    private final LongAdder calledOff = new LongAdder();
    private final LongAdder refused = new LongAdder();
    /** Queries that waited for a preparation under way. */
    private final LongAdder waits = new LongAdder();

    /** Registers the preparations by outcome, and the queries that waited for one, on {@code metrics}. */
    void bindTo(PipelineMetrics metrics) {
        preparations(metrics, "prepared", prepared);
        preparations(metrics, "called_off", calledOff);
        preparations(metrics, "refused", refused);
        FunctionCounter.builder(MeterNames.PENDING_PREPARATION_WAITS, waits, LongAdder::sum)
                .description("queries that waited for the preparation of a pending flush under way")
                .register(metrics.registry());
    }

    private static void preparations(PipelineMetrics metrics, String outcome, LongAdder count) {
        FunctionCounter.builder(MeterNames.PENDING_PREPARATIONS, count, LongAdder::sum)
                .description("pending flushes handed to the prepare thread, by outcome: prepared there, called off "
                        + "by a query that came first and grouped the flush itself, refused by a full queue")
                .tag("outcome", outcome).register(metrics.registry());
    }

    /** Prepares new flushes on {@code prepare}, a thread that is neither a shard's nor a query's event loop. */
    void prepareOn(Scheduler prepare) {
        this.prepare = requireNonNull(prepare, "prepare");
    }

    void register(long seq, List<Window> windows) {
        if (!windows.isEmpty()) {
            Flush flush = new Flush(windows);
            Asked before = last.getAndSet(flush.asked);
            boolean prepared = before != null && before.byMetric && prepare != null;
            if (!prepared) {
                // Nothing to wait for, nor to call off.
                flush.preparation.callOff();
            }
            bySeq.put(seq, flush);
            if (prepared) {
                prepare(flush, List.copyOf(before.indexes));
            }
        }
    }

    /**
     * Groups {@code flush} by metric and builds the indexes of {@code keys} on the prepare thread, so that the first
     * query after the flush finds them built. A query that comes before the preparation begins calls it off and
     * builds what it needs itself, as when nothing is prepared; one that comes while it runs waits for it
     * ({@link #preparing}). A full or stopped scheduler leaves the flush to its first query.
     */
    private void prepare(Flush flush, List<IndexKey> keys) {
        try {
            // Counted before its end is signalled: a query that waited for it then sees the count.
            prepare.schedule(() -> flush.preparation.run(() -> {
                flush.prepare(keys);
                prepared.increment();
            }));
        } catch (RejectedExecutionException e) {
            // The flush's first query prepares it.
            if (flush.preparation.callOff()) {
                refused.increment();
            }
        }
    }

    /**
     * The tag keys, by metric, of the indexes queries read of the flush registered last, when they read it by metric
     * and a prepare thread prepares the next: a shard's close indexes its runs of these metrics by these keys, so that
     * the preparation merges those indexes rather than reading every window's series key.
     */
    Map<String, List<String>> indexKeys() {
        Asked before = last.get();
        if (before == null || !before.byMetric || prepare == null) {
            return Map.of();
        }
        Map<String, List<String>> out = new HashMap<>();
        for (IndexKey key : before.indexes) {
            out.computeIfAbsent(key.metric(), m -> new ArrayList<>(1)).add(key.tagKey());
        }
        return out;
    }

    /**
     * Registers lists of windows that carry their own flush numbers (the final flush), each list's windows all of one
     * number, its first window's: the lists of one number together, as they are, so that a list that builds each
     * window when it is read (a shard's closed windows) waits for storage as it is rather than as a window object per
     * window.
     */
    void registerAll(List<List<Window>> flushes) {
        Map<Long, List<List<Window>>> bySeqOfList = new HashMap<>();
        for (List<Window> windows : flushes) {
            if (!windows.isEmpty()) {
                bySeqOfList.computeIfAbsent(windows.get(0).flushSeq(), s -> new ArrayList<>(1)).add(windows);
            }
        }
        bySeqOfList.forEach((seq, lists) -> register(seq, JoinedWindows.of(lists)));
    }

    void remove(long seq) {
        // Counted first: whoever no longer finds the flush here also sees the count it raised.
        departures.incrementAndGet();
        bySeq.remove(seq);
    }

    @Override
    public long departures() {
        return departures.get();
    }

    @Override
    public Mono<Void> preparing() {
        List<Mono<Void>> running = null;
        for (Flush flush : bySeq.values()) {
            Preparation p = flush.preparation;
            if (p.ended()) {
                continue;
            }
            if (p.callOff()) {
                calledOff.increment();
                continue;
            }
            if (running == null) {
                running = new ArrayList<>(2);
            }
            running.add(p.end());
        }
        if (running == null) {
            return null;
        }
        waits.increment();
        return Mono.when(running);
    }

    @Override
    public Map<Long, List<Window>> view() {
        Map<Long, List<Window>> out = new HashMap<>();
        bySeq.forEach((seq, flush) -> out.put(seq, flush.windows));
        return out;
    }

    @Override
    public Map<Long, List<Window>> view(String metric) {
        Map<Long, List<Window>> out = new HashMap<>();
        bySeq.forEach((seq, flush) -> out.put(seq, flush.of(metric)));
        return out;
    }

    @Override
    public Map<Long, List<Window>> view(String metric, Map<String, List<String>> byKey) {
        Map<Long, List<Window>> out = new HashMap<>();
        bySeq.forEach((seq, flush) -> out.put(seq, flush.of(metric, byKey)));
        return out;
    }

    /** Whether pending flush {@code seq} is grouped by metric, by a query or ahead of one. */
    boolean grouped(long seq) {
        Flush f = bySeq.get(seq);
        return f != null && f.byMetric != null;
    }

    /**
     * Whether pending flush {@code seq} is grouped by metric from the runs its shards closed it in alone, no window
     * placed by its key; for tests.
     */
    boolean groupedByRuns(long seq) {
        Flush f = bySeq.get(seq);
        if (f == null || f.byMetric == null) {
            return false;
        }
        for (List<Window> places : f.byMetric.values()) {
            if (((Places) places).walked) {
                return false;
            }
        }
        return true;
    }

    /** The tag indexes the pending flushes keep. */
    int indexes() {
        int n = 0;
        for (Flush f : bySeq.values()) {
            n += f.indexes.size();
        }
        return n;
    }

    @Override
    public Set<String> metrics() {
        Set<String> out = new HashSet<>();
        bySeq.values().forEach(flush -> out.addAll(flush.byMetric().keySet()));
        return out;
    }

    @Override
    public int windows() {
        int n = 0;
        for (Flush f : bySeq.values()) {
            n += f.windows.size();
        }
        return n;
    }

    @Override
    public List<SeriesKey> tagKeySets() {
        TagKeySets sets = new TagKeySets();
        bySeq.values().forEach(flush -> sets.addAll(flush.tagKeySets()));
        return sets.keys();
    }

    /**
     * Some windows of a flush, by their places in it, in the order given: the flush's list builds a window only when
     * it is read, so a metric's windows are places, not windows.
     */
    private static final class Places extends WindowList {
        private final List<Window> all;
        /** The metric of the places, while they are gathered by metric; null for a list given whole. */
        private final String metric;
        private int[] places;
        private int size;
        /**
         * The shards' runs the places were added from, while they all were ({@link #addRun}): each run's list, its
         * number there, and where its places begin here.
         */
        private ClosedWindows[] runLists = new ClosedWindows[0];
        private int[] runNumbers = new int[0];
        private int[] runBases = new int[0];
        /** How many of each run's first windows are not among the places (a flush partly spilled). */
        private int[] runCuts = new int[0];
        private int runCount;
        /** Whether some place was added alone, not from a run. */
        private boolean walked;

        Places(List<Window> all, String metric) {
            this.all = all;
            this.metric = metric;
            this.places = new int[16];
        }

        Places(List<Window> all, int[] places, int size) {
            this.all = all;
            this.metric = null;
            this.places = places;
            this.size = size;
        }

        void add(int place) {
            walked = true;
            if (size == places.length) {
                places = Arrays.copyOf(places, 2 * size);
            }
            places[size++] = place;
        }

        /**
         * Adds the places from {@code from} up to {@code to}, those of run {@code run} of {@code list} but its first
         * {@code cut} windows.
         */
        void addRun(ClosedWindows list, int run, int from, int to, int cut) {
            if (runCount == runLists.length) {
                int capacity = Math.max(4, 2 * runCount);
                runLists = Arrays.copyOf(runLists, capacity);
                runNumbers = Arrays.copyOf(runNumbers, capacity);
                runBases = Arrays.copyOf(runBases, capacity);
                runCuts = Arrays.copyOf(runCuts, capacity);
            }
            runLists[runCount] = list;
            runNumbers[runCount] = run;
            runCuts[runCount] = cut;
            runBases[runCount++] = size;
            int n = size + to - from;
            if (n > places.length) {
                places = Arrays.copyOf(places, Math.max(n, 2 * places.length));
            }
            for (int place = from; place < to; place++) {
                places[size++] = place;
            }
        }

        /**
         * These places by the hash of their series' values of {@code tagKey}, as {@link Flush#index} builds it, from the
         * indexes of the runs they were added from; null when some place came alone or some run has no such index.
         */
        long[] runIndex(String tagKey) {
            if (walked || runCount == 0) {
                return null;
            }
            long[][] indexes = new long[runCount][];
            int total = 0;
            for (int r = 0; r < runCount; r++) {
                indexes[r] = runLists[r].runIndex(runNumbers[r], tagKey);
                if (indexes[r] == null) {
                    return null;
                }
                total += indexes[r].length;
            }
            long[] out = new long[total];
            int n = 0;
            for (int r = 0; r < runCount; r++) {
                // A run's places count from its first window; here they count from the run's base, after its cut.
                int cut = runCuts[r];
                for (long entry : indexes[r]) {
                    if ((int) entry >= cut) {
                        out[n++] = entry - cut + runBases[r];
                    }
                }
            }
            if (n < total) {
                out = Arrays.copyOf(out, n);
            }
            if (runCount > 1) {
                // Sorted runs, which the sort merges.
                Arrays.sort(out);
            }
            return out;
        }

        @Override
        public Window get(int i) {
            return all.get(places[Objects.checkIndex(i, size)]);
        }

        @Override
        public SeriesKey series(int i) {
            return WindowList.series(all, places[Objects.checkIndex(i, size)]);
        }

        @Override
        public long start(int i) {
            return WindowList.start(all, places[Objects.checkIndex(i, size)]);
        }

        @Override
        public long resolution(int i) {
            return WindowList.resolution(all, places[Objects.checkIndex(i, size)]);
        }

        @Override
        public int size() {
            return size;
        }
    }

    /** An index's metric and tag key. */
    private record IndexKey(String metric, String tagKey) {
    }

    /** What queries have read of one flush; preparing the flush does not count. */
    private static final class Asked {
        /** Whether a query has read the flush by metric. */
        volatile boolean byMetric;
        /** The indexes queries have read, at most {@link #MAX_INDEXES}. */
        final Set<IndexKey> indexes = ConcurrentHashMap.newKeySet();
    }

    /**
     * The preparation of one flush, run at most once: by the prepare thread, unless a query came before it began and
     * called it off. A query that comes while it runs waits for its end rather than doing the same work beside it,
     * which on a few busy cores would make both take longer.
     */
    private static final class Preparation {
        private final AtomicBoolean claimed = new AtomicBoolean();
        private final Sinks.Empty<Void> done = Sinks.empty();
        private volatile boolean ended;

        /** Runs {@code work} unless a query called the preparation off first. */
        void run(Runnable work) {
            if (!claimed.compareAndSet(false, true)) {
                return;
            }
            try {
                work.run();
            } finally {
                ended = true;
                done.tryEmitEmpty();
            }
        }

        /**
         * Calls the preparation off unless it has begun (a query came first, or the prepare thread refused it); true
         * if it had not. A preparation called off has ended: it never runs, and no query waits for it.
         */
        boolean callOff() {
            if (!claimed.compareAndSet(false, true)) {
                return false;
            }
            ended = true;
            done.tryEmitEmpty();
            return true;
        }

        /** Whether the preparation ran or was called off. */
        boolean ended() {
            return ended;
        }

        /** Completes when the preparation, which has begun, ends. */
        Mono<Void> end() {
            return done.asMono();
        }
    }

    /**
     * One pending flush: its windows, and the same by metric once a query has asked for one. The first such query
     * sorts them, unless the prepare thread did so first because queries asked the flush before (the flush's own
     * thread is a shard's, which must not spend a pass over a million windows on it); two threads at once may each
     * sort them, and either result serves. So with the tag indexes.
     */
    private static final class Flush {
        final List<Window> windows;
        final Preparation preparation = new Preparation();
        private volatile Map<String, List<Window>> byMetric;
        private volatile List<SeriesKey> tagKeySets;
        /** At most {@link #MAX_INDEXES}, each over {@link #byMetric}'s list of its metric. */
        private final Map<IndexKey, long[]> indexes = new ConcurrentHashMap<>();
        final Asked asked = new Asked();

        Flush(List<Window> windows) {
            this.windows = windows;
        }

        List<Window> of(String metric) {
            return byMetric().getOrDefault(metric, List.of());
        }

        /** Groups the flush by metric and builds the indexes of {@code keys}, as queries would, for queries to come. */
        void prepare(List<IndexKey> keys) {
            Map<String, List<Window>> m = grouped();
            for (IndexKey key : keys) {
                List<Window> all = m.getOrDefault(key.metric(), List.of());
                if (all.size() >= INDEX_FROM && !indexes.containsKey(key)) {
                    index(key, all);
                }
            }
        }

        /**
         * The windows of {@code metric} whose series may have, for one key of {@code byKey}, one of its values: those
         * an index of the key gives (in the flush's order), or all of the metric's when no key names a value, the
         * metric has few windows, or the flush keeps as many indexes as it may and none of these keys'.
         */
        List<Window> of(String metric, Map<String, List<String>> byKey) {
            List<Window> all = of(metric);
            if (all.size() < INDEX_FROM) {
                return all;
            }
            IndexKey chosen = null;
            long[] index = null;
            for (Map.Entry<String, List<String>> e : byKey.entrySet()) {
                if (!e.getValue().isEmpty()) {
                    chosen = new IndexKey(metric, e.getKey());
                    index = indexes.get(chosen);
                    if (index != null) {
                        break;
                    }
                }
            }
            if (chosen == null) {
                return all;
            }
            if (index == null) {
                index = index(chosen, all);
                if (index == null) {
                    return all;
                }
            }
            if (asked.indexes.size() < MAX_INDEXES) {
                asked.indexes.add(chosen);
            }
            return narrowed(all, index, byKey.get(chosen.tagKey()));
        }

        /**
         * An index of {@code all}'s windows by the hash of their value of the key: each entry the hash above the
         * window's place in {@code all}, sorted, so the windows of one value are a run in their flush order. A series
         * without the key has no entry. Merged from the indexes the shards built of their runs as they closed them,
         * when every run of the metric has one of the key; else built from each window's series key. Null, and nothing
         * built, once the flush keeps {@link #MAX_INDEXES}.
         */
        private long[] index(IndexKey key, List<Window> all) {
            if (indexes.size() >= MAX_INDEXES) {
                return null;
            }
            long[] index = all instanceof Places p ? p.runIndex(key.tagKey()) : null;
            if (index == null) {
                index = TagIndex.of(all.size(), i -> WindowList.series(all, i), key.tagKey());
            }
            synchronized (indexes) {
                if (indexes.size() >= MAX_INDEXES && !indexes.containsKey(key)) {
                    return index;
                }
                long[] first = indexes.putIfAbsent(key, index);
                return first == null ? index : first;
            }
        }

        /** The windows of {@code all} whose value's hash is that of one of {@code values}, in their flush order. */
        private static List<Window> narrowed(List<Window> all, long[] index, List<String> values) {
            int[] places = new int[0];
            int n = 0;
            Set<Integer> hashes = new HashSet<>();
            for (String v : values) {
                int hash = v.hashCode();
                if (!hashes.add(hash)) {
                    continue;
                }
                int at = Arrays.binarySearch(index, TagIndex.entry(hash, 0));
                for (int i = at < 0 ? -at - 1 : at; i < index.length && (int) (index[i] >> 32) == hash; i++) {
                    if (n == places.length) {
                        places = Arrays.copyOf(places, Math.max(8, 2 * n));
                    }
                    places[n++] = (int) index[i];
                }
            }
            if (hashes.size() > 1) {
                Arrays.sort(places, 0, n);
            }
            return new Places(all, places, n);
        }

        /** The windows by metric, for a query, which marks the flush as asked. */
        Map<String, List<Window>> byMetric() {
            asked.byMetric = true;
            return grouped();
        }

        private Map<String, List<Window>> grouped() {
            Map<String, List<Window>> m = byMetric;
            if (m == null) {
                Map<String, Places> places = new HashMap<>();
                eachLeaf(windows, 0, 0, (list, offset, skip) -> group(list, offset, skip, places));
                m = new HashMap<>(places);
                byMetric = m;
            }
            return m;
        }

        /**
         * Receives a list that is neither a flush's rest nor a join: its windows from {@code skip} on, window
         * {@code i} at {@code offset + i - skip} in the flush.
         */
        private interface Leaf {
            void accept(List<Window> list, int offset, int skip);
        }

        /**
         * Gives {@code leaf} the lists that hold {@code part}'s windows from {@code skip} on, window {@code i} of
         * {@code part} at {@code offset + i - skip} in the flush: through a flush's rest to the list it reads, and
         * through a join to each of its lists that has windows from there on.
         */
        private static void eachLeaf(List<Window> part, int offset, int skip, Leaf leaf) {
            if (part instanceof FlushRest rest) {
                eachLeaf(rest.all(), offset, skip + rest.from(), leaf);
            } else if (part instanceof JoinedWindows joined) {
                for (int p = 0; p < joined.parts(); p++) {
                    int first = joined.first(p);
                    int partSkip = Math.max(0, skip - first);
                    if (partSkip < joined.list(p).size()) {
                        eachLeaf(joined.list(p), offset + first + partSkip - skip, partSkip, leaf);
                    }
                }
            } else {
                leaf.accept(part, offset, skip);
            }
        }

        /**
         * Adds the places of a leaf's windows from {@code skip} on ({@link #eachLeaf}) to their metrics': by the runs
         * a shard's close recorded when it took its windows metric by metric, else by each window's key.
         */
        private void group(List<Window> part, int offset, int skip, Map<String, Places> places) {
            if (part instanceof ClosedWindows closed && closed.runs(offset, skip, (run, metric, from, to, cut) ->
                    places.computeIfAbsent(metric, k -> new Places(windows, k)).addRun(closed, run, from, to, cut))) {
                return;
            }
            Places last = null;
            for (int i = skip, n = part.size(); i < n; i++) {
                String metric = WindowList.series(part, i).metric();
                // A flush's windows of one metric mostly come together.
                if (last == null || !last.metric.equals(metric)) {
                    last = places.computeIfAbsent(metric, k -> new Places(windows, k));
                }
                last.add(offset + i - skip);
            }
        }

        /**
         * The flush's series of each distinct metric and set of tag keys, found by the first query that asks: from
         * the sets the shards noted of their runs, else from each window's key.
         */
        List<SeriesKey> tagKeySets() {
            List<SeriesKey> t = tagKeySets;
            if (t == null) {
                TagKeySets sets = new TagKeySets();
                eachLeaf(windows, 0, 0, (list, offset, skip) -> addTagKeySets(list, skip, sets));
                t = List.copyOf(sets.keys());
                tagKeySets = t;
            }
            return t;
        }

        /** Adds the sets of tag keys of a leaf's windows from {@code skip} on ({@link #eachLeaf}) to {@code out}. */
        private static void addTagKeySets(List<Window> part, int skip, TagKeySets out) {
            if (part instanceof ClosedWindows closed) {
                closed.addTagKeySets(skip, out);
            } else {
                for (int i = skip, n = part.size(); i < n; i++) {
                    out.add(WindowList.series(part, i));
                }
            }
        }
    }
}
