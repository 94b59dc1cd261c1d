package dev.meterline.query;

import dev.meterline.aggregate.Aggregation;
import dev.meterline.aggregate.PendingWindows;
import dev.meterline.aggregate.PipelineStopping;
import dev.meterline.aggregate.SeriesBudget;
import dev.meterline.model.Aggregate;
import dev.meterline.model.SeriesKey;
import dev.meterline.model.SeriesValues;
import dev.meterline.model.TagKeySets;
import dev.meterline.model.Window;
import dev.meterline.store.StoreGateway;
import dev.meterline.store.StoredWindow;
import dev.meterline.store.TagValues;
import reactor.core.publisher.Mono;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.LongSupplier;
import java.util.function.Predicate;

/**
 * Answers queries by merging the three places a window can be: open in memory, closed and waiting to be stored, and
 * stored. Each window is counted in exactly one of them: the snapshot tells which flushes the shards had done, and
 * only those flushes are taken from pending and store.
 */
public final class QueryService {

    /** Merged windows of one group (a series, or the series sharing the groupBy tag values). */
    public record SeriesResult(SeriesKey group, List<MergedWindow> windows) {
    }

    /** One output window. */
    public record MergedWindow(long start, long end, Aggregate aggregate, boolean complete) {
    }

    private final Aggregation aggregation;
    private final StoreGateway store;
    private final SeriesBudget budget;
    private final String replica;
    private final long windowMs;
    private final long latenessMs;
    private final LongSupplier clock;
    private final StoreHorizons horizons = new StoreHorizons();

    public QueryService(Aggregation aggregation, StoreGateway store, SeriesBudget budget, String replica,
                        long windowMs, long latenessMs, LongSupplier clock) {
        this.aggregation = aggregation;
        this.store = store;
        this.budget = budget;
        this.replica = replica;
        this.windowMs = windowMs;
        this.latenessMs = latenessMs;
        this.clock = clock;
    }

    /** The window length, in milliseconds. */
    public long windowMs() {
        return windowMs;
    }

    /** The server clock, in epoch milliseconds. */
    public long now() {
        return clock.getAsLong();
    }

    /**
     * Every window of each series of {@code metric} that passes {@code filter} and starts in {@code [from, to)}, at
     * {@code resolution} (a multiple of the window), read from the three places exactly as
     * {@code /api/v1/aggregates} reads them.
     */
    public Mono<List<SeriesResult>> windows(String metric, Predicate<SeriesKey> filter, long from, long to,
                                            long resolution) {
        return windows(metric, TagValues.NONE, filter, from, to, resolution);
    }

    /**
     * As above, only of series that have the values {@code named} names, which {@code filter} must imply: the shards'
     * tag indexes and the store find the series by those values, and {@code filter} tests only the series found. With
     * no filter (null), which needs values named under their keys only, the query is the one
     * {@code /api/v1/aggregates} makes of those values, and as such may be answered from the published views; so may
     * a query whose filter names its test ({@link dev.meterline.aggregate.NamedFilter}), from a view of that name.
     */
    public Mono<List<SeriesResult>> windows(String metric, TagValues named, Predicate<SeriesKey> filter, long from,
                                            long to, long resolution) {
        return aggregates(new AggregateQuery(metric, named, from, to, resolution, List.of(), filter));
    }

    /** An answer to an aggregates query: {@link #ready} on the calling thread, or {@link #later} from other threads. */
    record Answer(List<SeriesResult> ready, Mono<List<SeriesResult>> later) {

        static Answer now(List<SeriesResult> results) {
            return new Answer(results, null);
        }

        static Answer deferred(Mono<List<SeriesResult>> results) {
            return new Answer(null, results);
        }

        /** The answer as one publisher, whichever it is. */
        Mono<List<SeriesResult>> mono() {
            return ready != null ? Mono.just(ready) : later;
        }
    }

    /** {@link #answer}, taken when subscribed. */
    Mono<List<SeriesResult>> aggregates(AggregateQuery q) {
        return Mono.defer(() -> answer(q).mono());
    }

    /**
     * Reads the store while the shards take their snapshot rather than after it, so a query waits for the slower of
     * the two instead of both in turn (each is a wait for another thread, which costs most when ingest keeps every
     * core busy).
     *
     * <p>Exactness needs the store read to see every flush the snapshot and the pending view do not hold. A flush
     * closed before the snapshot is in the pending view unless it has left pending meanwhile, and the store read may
     * have begun before that flush was committed. So the read is trusted only if no flush left pending between its
     * start and the pending view; otherwise the store is read once more, after the view, as a sequential query would.
     *
     * <p>The store is not read at all when it is known to hold nothing at or after the range's start
     * ({@link StoreHorizons}) and no flush left pending before the pending view: every window of the range is then in
     * the snapshot or the pending view. When a published view holds the snapshot too, the answer is computed here, on
     * the calling thread, and returned {@linkplain Answer#ready ready}: no operator, no other thread and no hop back
     * (a query asked again, the common case of a dashboard, is then one short run of its event loop), unless a
     * pending flush is being prepared for queries: the answer then waits for the preparation's end rather than
     * grouping and indexing the flush again beside it.
     */
    Answer answer(AggregateQuery q) {
        long from = Window.startOf(q.from(), q.resolution());
        long departuresBefore = aggregation.pending().departures();
        if (horizons.holdsNothingFrom(q.metric(), from, departuresBefore)) {
            Mono<Aggregation.Snapshot> open;
            if (q.publishable()) {
                Aggregation.Snapshot published = aggregation.published(q.metric(), q.tags(), q.namedFilter(), from,
                        q.to());
                if (published != null) {
                    Mono<Void> preparing = aggregation.pending().preparing();
                    if (preparing != null) {
                        return Answer.deferred(memoryAfter(preparing, q, published)
                                .flatMap(m -> completed(q, from, m, departuresBefore)));
                    }
                    Memory m = new Memory(q, published);
                    return m.departures == departuresBefore
                            ? Answer.now(merge(q, from, m.snapshot, m.pending, List.of()))
                            : Answer.deferred(completed(q, from, m, departuresBefore));
                }
                open = aggregation.askOpenWindows(q.metric(), q.tags(), q.namedFilter(), from, q.to());
            } else {
                open = aggregation.snapshot(q.metric(), q.tags(), q::matches, from, q.to());
            }
            Thread caller = Thread.currentThread();
            // Merged on the caller's thread only when the memory answered there (the pipeline stopping); an answer
            // that came from the shards is merged on a store thread, as a read would be, never on a shard.
            return Answer.deferred(memory(q, open).flatMap(m -> Thread.currentThread() == caller
                    ? completed(q, from, m, departuresBefore)
                    : readStore(q, from, m.departures).map(s -> merge(q, from, m.snapshot, m.pending, s))));
        }
        Mono<Memory> memory = memory(q, q.publishable()
                ? aggregation.openWindows(q.metric(), q.tags(), q.namedFilter(), from, q.to())
                : aggregation.snapshot(q.metric(), q.tags(), q::matches, from, q.to()));
        return Answer.deferred(Mono.zip(memory, readStore(q, from, departuresBefore)).flatMap(both -> {
            Memory m = both.getT1();
            Mono<List<StoredWindow>> stored = m.departures == departuresBefore
                    ? Mono.just(both.getT2()) : readStore(q, from, m.departures);
            return stored.map(s -> merge(q, from, m.snapshot, m.pending, s));
        }));
    }

    /**
     * The memory of a snapshot; an empty one, closed through every flush, when the pipeline stops. Its pending view
     * is taken once the preparations of pending flushes that run now have ended
     * ({@link dev.meterline.aggregate.PendingWindows#preparing}).
     */
    private Mono<Memory> memory(AggregateQuery q, Mono<Aggregation.Snapshot> open) {
        return open.onErrorResume(PipelineStopping.class,
                        e -> Mono.just(new Aggregation.Snapshot(List.of(), Long.MAX_VALUE)))
                .flatMap(snapshot -> memoryAfter(aggregation.pending().preparing(), q, snapshot));
    }

    /** The memory of {@code snapshot}, its pending view taken once {@code preparing} (null: nothing) has ended. */
    private Mono<Memory> memoryAfter(Mono<Void> preparing, AggregateQuery q, Aggregation.Snapshot snapshot) {
        return preparing == null ? Mono.just(new Memory(q, snapshot))
                : preparing.then(Mono.fromSupplier(() -> new Memory(q, snapshot)));
    }

    /**
     * For a range the store held nothing of at {@code departuresBefore}: the answer from {@code m} alone when no flush
     * left pending since, else merged with a store read made after the memory.
     */
    private Mono<List<SeriesResult>> completed(AggregateQuery q, long from, Memory m, long departuresBefore) {
        return m.departures == departuresBefore
                ? Mono.just(merge(q, from, m.snapshot, m.pending, List.of()))
                : readStore(q, from, m.departures).map(s -> merge(q, from, m.snapshot, m.pending, s));
    }

    /** Reads the store, learning its newest start of the metric as of {@code departures}, read before the call. */
    private Mono<List<StoredWindow>> readStore(AggregateQuery q, long from, long departures) {
        return store.readWithNewest(q.metric(), q.named(), q::matches, from, q.to(), q.resolution()).map(read -> {
            horizons.learn(q.metric(), departures, read.newestStart());
            return read.windows();
        });
    }

    /**
     * The shards' snapshot, then the pending view of the query's metric taken after it (narrowed by the values the
     * query names), and the departure count taken after that.
     */
    private final class Memory {
        final Aggregation.Snapshot snapshot;
        final Map<Long, List<Window>> pending;
        final long departures;

        Memory(AggregateQuery q, Aggregation.Snapshot snapshot) {
            this.snapshot = snapshot;
            this.pending = aggregation.pending().view(q.metric(), q.tags());
            this.departures = aggregation.pending().departures();
        }
    }

    private List<SeriesResult> merge(AggregateQuery q, long from, Aggregation.Snapshot snap,
                                     Map<Long, List<Window>> pending, List<StoredWindow> stored) {
        long seenSeq = snap.closedThroughSeq();
        boolean anyPending = !pending.isEmpty();
        List<Window> ordered = new ArrayList<>(stored.size() + snap.windows().size());
        for (StoredWindow sw : stored) {
            Window w = sw.window();
            if (replica.equals(sw.replica())
                    && (w.flushSeq() > seenSeq || anyPending && pending.containsKey(w.flushSeq()))) {
                continue;
            }
            ordered.add(w);
        }
        // Windows read from the store are this query's own (each read builds them anew); those in memory are shared.
        int storedCount = ordered.size();
        for (Map.Entry<Long, List<Window>> e : inOrder(pending).entrySet()) {
            if (e.getKey() > seenSeq) {
                continue;
            }
            // Tested here, before any grouping: the view is a superset of the query's windows, and a query that names
            // no value gets a window of every series of the metric (100 000 of a million series) from each flush.
            for (Window w : e.getValue()) {
                if (w.start() >= from && w.start() < q.to() && q.matches(w.series())) {
                    ordered.add(w);
                }
            }
        }
        int firstOpen = ordered.size();
        ordered.addAll(snap.windows());

        long now = clock.getAsLong();
        Groups groups = new Groups(q);
        boolean unsure = false;
        for (int i = 0; i < ordered.size(); i++) {
            Window w = ordered.get(i);
            Group g = groups.of(w.series(), i < storedCount);
            if (g == null) {
                continue;
            }
            long bucketStart = Window.startOf(w.start(), q.resolution());
            Bucket b = g.bucket(bucketStart);
            if (b == null) {
                b = g.add(bucketStart, new Bucket(bucketStart + q.resolution() + latenessMs <= now));
            }
            b.add(w.aggregate(), i < storedCount);
            // A window still in memory is flushed complete once it is due (the bucket's due check covers it), so it
            // answers as it will once flushed: a due window does not turn complete a tick later.
            if (b.due && !(i >= firstOpen || w.complete())) {
                b.missing(new FineKey(w.series(), w.start()));
                unsure = true;
            }
        }
        if (unsure) {
            // A window stored more than once (by several replicas, or again with late points) is complete when any
            // of its copies is: the incomplete ones' keys are struck off by the complete copies.
            for (int i = 0; i < ordered.size(); i++) {
                Window w = ordered.get(i);
                if (i >= firstOpen || w.complete()) {
                    Group g = groups.of(w.series(), i < storedCount);
                    Bucket b = g == null ? null : g.bucket(Window.startOf(w.start(), q.resolution()));
                    if (b != null && b.missing != null) {
                        b.missing.remove(new FineKey(w.series(), w.start()));
                    }
                }
            }
        }
        List<SeriesResult> out = new ArrayList<>(groups.all.size());
        for (Group g : groups.all) {
            List<MergedWindow> windows = new ArrayList<>(g.size);
            for (int i = 0; i < g.size; i++) {
                long start = g.starts[i];
                Bucket b = g.buckets[i];
                boolean complete = b.due && (b.missing == null || b.missing.isEmpty());
                Aggregate a = b.aggregate();
                if (a.count() > 0 || a.late() > 0) {
                    windows.add(new MergedWindow(start, start + q.resolution(), a, complete));
                }
            }
            if (!windows.isEmpty()) {
                out.add(new SeriesResult(g.key, windows));
            }
        }
        out.sort(Comparator.comparing(SeriesResult::group));
        return out;
    }

    /** The pending flushes in flush order; most often there are none, and then nothing is copied. */
    private static Map<Long, List<Window>> inOrder(Map<Long, List<Window>> pending) {
        return pending.isEmpty() ? pending : new TreeMap<>(pending);
    }

    /**
     * The groups of one merge, found by series: each series is mapped to its group, and tested against the query,
     * once, by identity first (the windows of one series read from one place share its key), then by value.
     */
    private static final class Groups {
        final AggregateQuery q;
        final Map<SeriesKey, Member> byIdentity = new IdentityHashMap<>();
        final Map<SeriesKey, Member> byValue = new HashMap<>();
        final Map<SeriesKey, Group> byGroup = new HashMap<>();
        final List<Group> all = new ArrayList<>();

        Groups(AggregateQuery q) {
            this.q = q;
        }

        /**
         * The group of {@code series}; null when {@code test} asks whether the query wants the series and it does
         * not (windows in memory are not tested here: pending ones were as they were gathered, and open ones come from
         * a snapshot of the query's own series).
         */
        Group of(SeriesKey series, boolean test) {
            Member m = byIdentity.get(series);
            if (m == null) {
                m = byValue.get(series);
                if (m == null) {
                    m = new Member();
                    byValue.put(series, m);
                }
                byIdentity.put(series, m);
            }
            if (test && m.asked == 0) {
                m.asked = q.matches(series) ? (byte) 1 : (byte) 2;
            }
            if (test && m.asked == 2) {
                return null;
            }
            if (m.group == null) {
                m.group = groupOf(q.groupOf(series));
            }
            return m.group;
        }

        private Group groupOf(SeriesKey key) {
            Group g = byGroup.get(key);
            if (g == null) {
                g = new Group(key);
                byGroup.put(key, g);
                all.add(g);
            }
            return g;
        }
    }

    /** A series' group, and whether the query asks for the series: 0 not known yet, 1 yes, 2 no. */
    private static final class Member {
        /** Found at the series' first window the query wants; a series it does not want has none. */
        Group group;
        byte asked;
    }

    /**
     * The output windows of one group, by start in ascending order: windows mostly arrive in start order (the store
     * returns them in write order, flush after flush), so a bucket is most often the last one or a new last one.
     */
    private static final class Group {
        final SeriesKey key;
        long[] starts = new long[4];
        Bucket[] buckets = new Bucket[4];
        int size;

        Group(SeriesKey key) {
            this.key = key;
        }

        Bucket bucket(long start) {
            int i = size - 1;
            if (i >= 0 && starts[i] == start) {
                return buckets[i];
            }
            if (i < 0 || start > starts[i]) {
                return null;
            }
            i = Arrays.binarySearch(starts, 0, size, start);
            return i >= 0 ? buckets[i] : null;
        }

        /** Adds {@code b} at {@code start}, which has no bucket yet. */
        Bucket add(long start, Bucket b) {
            if (size == starts.length) {
                starts = Arrays.copyOf(starts, size * 2);
                buckets = Arrays.copyOf(buckets, size * 2);
            }
            int at = size == 0 || start > starts[size - 1] ? size : -Arrays.binarySearch(starts, 0, size, start) - 1;
            System.arraycopy(starts, at, starts, at + 1, size - at);
            System.arraycopy(buckets, at, buckets, at + 1, size - at);
            starts[at] = start;
            buckets[at] = b;
            size++;
            return b;
        }
    }

    /**
     * One window of one series: the parts a bucket is merged from. A class rather than a record: a record's
     * {@code equals} and {@code hashCode} run through a method handle that is slow until the JIT compiles it, and a
     * fresh server answers its first queries interpreted.
     */
    private static final class FineKey {
        private final SeriesKey series;
        private final long start;

        FineKey(SeriesKey series, long start) {
            this.series = series;
            this.start = start;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof FineKey k && k.start == start && k.series.equals(series);
        }

        @Override
        public int hashCode() {
            return 31 * series.hashCode() + Long.hashCode(start);
        }
    }

    /**
     * One output window. It is complete when it is past the lateness (before then it is not, whatever its parts are)
     * and each window it is merged from has a complete copy: {@code missing} holds the windows seen only incomplete
     * so far, and is null while there are none, as there are in the usual case of every part complete.
     */
    private static final class Bucket {
        final boolean due;
        Set<FineKey> missing;
        /** The merged parts: a new aggregate, or the first part's own (see {@link #add}). */
        private Aggregate aggregate;

        Bucket(boolean due) {
            this.due = due;
        }

        /**
         * Merges {@code part} in. A first part with values that is the caller's own ({@code own}: no one else holds
         * it) becomes the bucket's aggregate, and later parts merge into it, rather than into a copy: at the stored
         * resolution most buckets have one part, a stored row, and merging it into an empty aggregate gives it back.
         */
        void add(Aggregate part, boolean own) {
            if (aggregate == null) {
                if (own && part.count() > 0) {
                    aggregate = part;
                    return;
                }
                aggregate = new Aggregate();
            }
            aggregate.mergeWith(part);
        }

        /** The merged parts; an empty aggregate when there were none. */
        Aggregate aggregate() {
            return aggregate == null ? new Aggregate() : aggregate;
        }

        void missing(FineKey part) {
            if (missing == null) {
                missing = new HashSet<>();
            }
            missing.add(part);
        }
    }

    /** Known metrics (stored or active) with their distinct series counts. */
    public Mono<Map<String, long[]>> metrics() {
        return aggregation.activeSeries(null)
                .onErrorResume(PipelineStopping.class, e -> Mono.just(List.of()))
                .flatMap(active -> {
                    // Taken after the shards answered and before the store is read: a window on its way from
                    // memory to the store is in at least one of the three.
                    List<SeriesKey> inTransit = pendingSeries(null);
                    return store.metrics().flatMap(storedCounts -> listing(active, inTransit, storedCounts));
                });
    }

    /**
     * The names of the known metrics (stored, waiting to be stored, or with active series), sorted: those of
     * {@link #metrics}, without gathering and counting every series. The shards are asked for their metrics first, so
     * that a metric whose last windows are on their way from memory to the store is in the pending view or the store.
     */
    public Mono<List<String>> metricNames() {
        return aggregation.activeSeriesCounts()
                .onErrorResume(PipelineStopping.class, e -> Mono.just(Map.of()))
                .flatMap(active -> {
                    Set<String> names = new TreeSet<>(active.keySet());
                    names.addAll(aggregation.pending().metrics());
                    return store.metricNames().map(stored -> {
                        names.addAll(stored);
                        return List.copyOf(names);
                    });
                });
    }

    /** Per metric, {distinct series known, series active}: the union of stored, pending and active series. */
    private Mono<Map<String, long[]>> listing(List<SeriesKey> active, List<SeriesKey> inTransit,
                                               Map<String, Long> storedCounts) {
        Map<String, Set<SeriesKey>> activeByMetric = new HashMap<>();
        for (SeriesKey s : active) {
            activeByMetric.computeIfAbsent(s.metric(), m -> new HashSet<>()).add(s);
        }
        Map<String, Set<SeriesKey>> inMemory = new HashMap<>();
        activeByMetric.forEach((m, set) -> inMemory.put(m, new HashSet<>(set)));
        for (SeriesKey s : inTransit) {
            inMemory.computeIfAbsent(s.metric(), m -> new HashSet<>()).add(s);
        }
        Map<String, long[]> out = new TreeMap<>();
        storedCounts.forEach((m, n) -> out.put(m, new long[]{n, 0}));
        List<Mono<Void>> unions = new ArrayList<>();
        for (Map.Entry<String, Set<SeriesKey>> e : inMemory.entrySet()) {
            long[] counts = out.computeIfAbsent(e.getKey(), m -> new long[2]);
            Set<SeriesKey> activeOfMetric = activeByMetric.get(e.getKey());
            counts[1] = activeOfMetric == null ? 0 : activeOfMetric.size();
            if (counts[0] == 0) {
                counts[0] = e.getValue().size();
            } else {
                unions.add(store.series(e.getKey()).doOnNext(storedSeries -> {
                    Set<SeriesKey> all = new HashSet<>(storedSeries);
                    all.addAll(e.getValue());
                    counts[0] = all.size();
                }).then());
            }
        }
        return Mono.when(unions).thenReturn(out);
    }

    /** All known series of {@code metric} (stored, waiting to be stored, or active), sorted. */
    public Mono<List<SeriesKey>> series(String metric) {
        return aggregation.activeSeries(metric)
                .onErrorResume(PipelineStopping.class, e -> Mono.just(List.of()))
                .flatMap(active -> {
                    List<SeriesKey> inTransit = pendingSeries(metric);
                    return store.series(metric).map(stored -> {
                        TreeSet<SeriesKey> all = new TreeSet<>(stored);
                        all.addAll(active);
                        all.addAll(inTransit);
                        return new ArrayList<>(all);
                    });
                });
    }

    /**
     * The series of {@code metric} (of every metric when null) with a window closed and waiting to be stored: they
     * are no longer in a shard and not yet in the store, and a listing must not lose them for that moment.
     */
    private List<SeriesKey> pendingSeries(String metric) {
        List<SeriesKey> out = new ArrayList<>();
        PendingWindows pending = aggregation.pending();
        for (List<Window> windows : (metric == null ? pending.view() : pending.view(metric)).values()) {
            for (Window w : windows) {
                out.add(w.series());
            }
        }
        return out;
    }

    /** The series budget, per metric, and for one metric its tag keys by distinct values, most first. */
    Mono<Map<String, Object>> cardinality(String metric) {
        Mono<Map<String, Long>> counts = aggregation.activeSeriesCounts()
                .onErrorResume(PipelineStopping.class, e -> Mono.just(Map.of()));
        return counts.flatMap(perMetric -> {
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("activeSeries", budget.active());
            out.put("limit", budget.limit());
            out.put("refused", budget.refused());
            out.put("limitPerMetric", budget.perMetricLimit());
            out.put("refusedByMetricLimit", budget.refusedPerMetric());
            List<Map.Entry<String, Long>> sorted = new ArrayList<>(perMetric.entrySet());
            sorted.sort(Map.Entry.<String, Long>comparingByValue().reversed().thenComparing(Map.Entry.comparingByKey()));
            List<Map<String, Object>> metrics = new ArrayList<>();
            for (Map.Entry<String, Long> e : sorted) {
                if (metric == null || metric.equals(e.getKey())) {
                    Map<String, Object> m = new LinkedHashMap<>();
                    m.put("metric", e.getKey());
                    m.put("activeSeries", e.getValue());
                    metrics.add(m);
                }
            }
            out.put("metrics", metrics);
            if (metric == null) {
                return Mono.just(out);
            }
            return aggregation.activeSeries(metric)
                    .onErrorResume(PipelineStopping.class, e -> Mono.just(List.of()))
                    .map(series -> {
                        Map<String, Set<String>> values = new HashMap<>();
                        for (SeriesKey s : series) {
                            for (int i = 0; i < s.tagCount(); i++) {
                                values.computeIfAbsent(s.tagKey(i), k -> new HashSet<>()).add(s.tagValue(i));
                            }
                        }
                        List<Map<String, Object>> keys = new ArrayList<>();
                        values.entrySet().stream()
                                .sorted(Comparator.<Map.Entry<String, Set<String>>>comparingInt(e -> -e.getValue().size())
                                        .thenComparing(Map.Entry::getKey))
                                .forEach(e -> {
                                    Map<String, Object> k = new LinkedHashMap<>();
                                    k.put("key", e.getKey());
                                    k.put("distinctValues", e.getValue().size());
                                    keys.add(k);
                                });
                        out.put("tagKeys", keys);
                        return out;
                    });
        });
    }

    /**
     * The known series of {@code metric} (stored, waiting to be stored, or active) that have the values {@code named}
     * names and pass {@code filter} (null for none), sorted: found by those values in the shards' tag indexes and in
     * the store, as reads find them. Each of the three places gives at most {@code max + 1} of them, so a list longer
     * than {@code max} says the series are more than {@code max}, without having walked them all.
     */
    public Mono<List<SeriesKey>> listSeries(String metric, TagValues named, Predicate<SeriesKey> filter, int max) {
        Predicate<SeriesKey> passes = k -> named.admits(k, filter);
        return aggregation.listSeries(metric, named.byKey(), passes, max)
                .onErrorResume(PipelineStopping.class, e -> Mono.just(List.of()))
                .flatMap(active -> {
                    Set<SeriesKey> inTransit = pendingSeries(metric, named, passes, max);
                    return store.series(metric, named, filter, max).map(stored -> {
                        Set<SeriesKey> all = new HashSet<>(active);
                        all.addAll(inTransit);
                        all.addAll(stored);
                        List<SeriesKey> sorted = new ArrayList<>(all);
                        sorted.sort(Comparator.naturalOrder());
                        return sorted;
                    });
                });
    }

    /**
     * The distinct values {@code valueOf} gives (null for none) of the known series of {@code metric} (stored, waiting
     * to be stored, or active) that have the values {@code named} names and pass {@code filter} (null for none), found
     * as {@link #listSeries} finds them but without gathering the series: a series in two places gives its value twice
     * into one set. The count is of the most series one place holds, at most the distinct series; each place stops
     * past {@code max}, so a count over {@code max} says the series are more than {@code max}.
     */
    public Mono<SeriesValues> seriesValues(String metric, TagValues named, Predicate<SeriesKey> filter,
                                           SeriesValues.Value valueOf, int max) {
        Predicate<SeriesKey> passes = k -> named.admits(k, filter);
        boolean every = !named.names() && filter == null;
        return aggregation.seriesValues(metric, named.byKey(), every ? null : passes, valueOf, max)
                .onErrorResume(PipelineStopping.class, e -> Mono.just(new SeriesValues()))
                .flatMap(active -> {
                    // Counted by window, as a series may wait with several (a backlog of flushes, say): that count
                    // is kept while the active series outnumber it, as the listing counts the larger of the two;
                    // past them, or past the bound, the waiting series are counted once each.
                    int exactPast = Math.min(max, active.series());
                    SeriesValues inTransit = new SeriesValues();
                    for (List<Window> list : aggregation.pending().view(metric, named.byKey()).values()) {
                        for (Window w : list) {
                            if (inTransit.series() <= exactPast && passes.test(w.series())) {
                                inTransit.add(w.series(), valueOf);
                            }
                        }
                    }
                    SeriesValues waiting = inTransit.series() <= exactPast ? inTransit
                            : pendingBySeries(metric, named, passes, valueOf, max);
                    return store.seriesValues(metric, named, filter, valueOf, max).map(stored -> {
                        SeriesValues all = new SeriesValues();
                        all.addPlace(active);
                        all.addPlace(waiting);
                        all.addPlace(stored);
                        return all;
                    });
                });
    }

    /** The distinct series of {@code metric} waiting to be stored that {@code passes} admits, up to max + 1. */
    private Set<SeriesKey> pendingSeries(String metric, TagValues named, Predicate<SeriesKey> passes, int max) {
        Set<SeriesKey> series = new HashSet<>();
        for (List<Window> windows : aggregation.pending().view(metric, named.byKey()).values()) {
            for (Window w : windows) {
                if (series.size() <= max && passes.test(w.series())) {
                    series.add(w.series());
                }
            }
        }
        return series;
    }

    /** The values of {@link #pendingSeries}, each series counted once. */
    private SeriesValues pendingBySeries(String metric, TagValues named, Predicate<SeriesKey> passes,
                                         SeriesValues.Value valueOf, int max) {
        SeriesValues out = new SeriesValues();
        for (SeriesKey k : pendingSeries(metric, named, passes, max)) {
            out.add(k, valueOf);
        }
        return out;
    }

    /**
     * One known series (stored, waiting to be stored, or active) of each distinct metric and set of tag keys: the
     * label names of every known series are those of these ones. The stored ones come from a summary the store keeps
     * up to date, not from a pass over every series.
     */
    public Mono<List<SeriesKey>> tagKeySets() {
        return aggregation.tagKeySets(null)
                .onErrorResume(PipelineStopping.class, e -> Mono.just(List.of()))
                .flatMap(active -> {
                    TagKeySets sets = new TagKeySets();
                    sets.addAll(active);
                    sets.addAll(aggregation.pending().tagKeySets());
                    return store.tagKeySets().map(stored -> {
                        sets.addAll(stored);
                        return List.copyOf(sets.keys());
                    });
                });
    }
}
