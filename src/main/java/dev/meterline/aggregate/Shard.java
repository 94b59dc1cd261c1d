package dev.meterline.aggregate;

import dev.meterline.model.Aggregate;
import dev.meterline.model.Part;
import dev.meterline.model.Point;
import dev.meterline.model.Reject;
import dev.meterline.model.RejectReason;
import dev.meterline.model.SeriesKey;
import dev.meterline.model.SeriesValues;
import dev.meterline.model.TagKeySets;
import dev.meterline.model.Window;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * The aggregation state of one shard: per series, its open windows. Plain, synchronous and clock-free (every time is
 * a parameter); owned by exactly one thread at a time, so it takes no locks.
 */
final class Shard {

    /**
     * The points of a part read ahead at once: each group's table slots, then its states, are read in tight loops
     * one group before the points are handled, so that about this many cache misses are in flight together.
     */
    static final int READ_AHEAD = 16;
    /**
     * Table slots from which reading ahead pays: a smaller table and its states stay in the core's nearer caches
     * (the decoder's key cache reads ahead from the same size).
     */
    static final int READ_AHEAD_FROM = 16_384;

    /**
     * How long, in windows, a series that left keeps its state and number for its return: from the close it left at
     * until the cutoff has passed one more window, by when a series reporting once a window has come back.
     */
    static final int LINGER_WINDOWS = 1;

    private static final int[] NO_NUMBERS = new int[0];

    private final int index;
    private final int readAhead;
    private final int readAheadFrom;
    private final long resolution;
    private final long lateness;
    private final ShardBudget budget;
    /** Every live series by key: the point path's one look-up. */
    private final SeriesTable table = new SeriesTable();
    /** The same series by metric, for queries. */
    private final Map<String, MetricSeries> byMetric = new HashMap<>();
    private final TagIndexes indexes = new TagIndexes();
    /** Emptied older windows, at most one per series in the table, for the next ones its series open. */
    private final SpareWindows spares = new SpareWindows();
    /** Window start → the series that have an open window there; the flush walks this in time order. */
    private final TreeMap<Long, StartSeries> byStart = new TreeMap<>();
    /**
     * Window start → a lower bound of the log segment holding the first point of any open window there: windows of
     * one start are opened in log order, so the first one opened bounds them all.
     */
    private final Map<Long, Long> startSegment = new HashMap<>();
    /**
     * The entry of {@link #byStart} that last got a series, or null: the windows a part opens mostly share one start,
     * so this spares each of them a boxed key and a tree look-up. Cleared whenever entries leave {@link #byStart}.
     */
    private StartSeries lastAt;
    private long lastStart;
    private long closedThrough = Long.MIN_VALUE;
    /** The lowest series number never handed out: every live series' number is below it. */
    private int nextNumber;
    /**
     * The series that left lately: they keep their state, table slot and number, with no window, for their next point
     * within {@link #LINGER_WINDOWS} windows; a series reporting once a window, late in each, leaves at each of its
     * flushes. They are not among their metric's series nor counted against the budget; the tag indexes that held
     * them keep them, and a query through one passes them over.
     */
    private final Lingering lingering = new Lingering();
    private int lingeringCount;
    /** The numbers of series that left and stopped lingering, to be handed out again (the last one first). */
    private int[] freeNumbers = new int[16];
    private int freeCount;
    /**
     * Numbers handed out again, to series other than the ones that had them, since the log last took them
     * ({@link #takeRenumbered}): the log writer forgets their references before it writes the next points.
     */
    private int[] renumbered = new int[16];
    private int renumberedCount;
    private int openWindows;
    private long latePoints;
    private long touched;

    Shard(long resolution, long lateness, SeriesBudget budget) {
        this(0, resolution, lateness, budget);
    }

    Shard(int index, long resolution, long lateness, SeriesBudget budget) {
        this(index, resolution, lateness, budget, READ_AHEAD, READ_AHEAD_FROM);
    }

    /**
     * A shard that reads a part ahead in groups of {@code readAhead} points once its table has
     * {@code readAheadFrom} slots; for tests of reading ahead in small tables.
     */
    Shard(int index, long resolution, long lateness, SeriesBudget budget, int readAhead, int readAheadFrom) {
        if (readAhead < 2) {
            throw new IllegalArgumentException("readAhead: " + readAhead + " (expected: >= 2)");
        }
        this.readAhead = readAhead;
        this.readAheadFrom = readAheadFrom;
        this.index = index;
        this.resolution = resolution;
        this.lateness = lateness;
        this.budget = new ShardBudget(budget);
    }

    /**
     * What aggregating one part did: the points it took (to be logged), their series' numbers in the same order, the
     * rejects, and how many were late.
     */
    record Recorded(int accepted, int late, List<Reject> rejects, List<Point> taken, int[] numbers) {
    }

    /** Aggregates a part and tells its batch at once (no log); returns how many of its points were late. */
    int record(Part part) {
        Recorded r = aggregate(part, 0);
        takeRenumbered();
        part.batch().partDone(r.accepted(), r.rejects());
        return r.late();
    }

    /**
     * The series numbers handed out again since the last call, in the order they were handed out, and forgets them;
     * for the log, with the next points it is given. A part that failed half-way is covered by the next call.
     */
    int[] takeRenumbered() {
        if (renumberedCount == 0) {
            return NO_NUMBERS;
        }
        int[] out = Arrays.copyOf(renumbered, renumberedCount);
        renumberedCount = 0;
        if (renumbered.length > 1024) {
            renumbered = new int[16];
        }
        return out;
    }

    /** The lowest series number not handed out yet, for tests: every live series' number is below it. */
    int numberBound() {
        return nextNumber;
    }

    /**
     * Aggregates a part without telling its batch; {@code segment} is a lower bound of the log segment its points
     * will be written to.
     */
    Recorded aggregate(Part part, long segment) {
        int accepted = 0;
        int late = 0;
        List<Reject> rejects = null;
        List<Point> points = part.points();
        List<Point> taken = points;
        int n = points.size();
        int[] numbers = new int[n];
        boolean ahead = n > readAhead && table.capacity() >= readAheadFrom;
        long touchedNow = 0;
        int groupEnd = 0;
        if (ahead) {
            touchedNow += touchHomes(points, 0, Math.min(2 * readAhead, n));
            touchedNow += touchEntries(points, 0, readAhead);
        }
        for (int i = 0; i < n; i++) {
            if (ahead && i == groupEnd) {
                groupEnd = Math.min(i + readAhead, n);
                touchedNow += readAheadFor(points, i, groupEnd);
            }
            Point p = points.get(i);
            SeriesKey key = p.series();
            SeriesState s = table.find(key, p.seriesHash());
            // A state with no window is a series that left lately: it comes back as a new series would.
            if (s == null || s.n == 0) {
                RejectReason full = budget.tryAcquire(key.metric());
                if (full != null) {
                    if (rejects == null) {
                        rejects = new ArrayList<>();
                        taken = new ArrayList<>(points.subList(0, i));
                    }
                    rejects.add(Reject.of(p.line(), full));
                    continue;
                }
                s = s == null ? newSeries(key, p.seriesHash(), true) : comeBack(s);
            }
            if (accept(s, p.timestamp(), p.value(), segment)) {
                late++;
            }
            if (rejects != null) {
                taken.add(p);
            }
            numbers[accepted++] = s.number;
        }
        touched += touchedNow;
        latePoints += late;
        return new Recorded(accepted, late, rejects, taken, accepted == n ? numbers : Arrays.copyOf(numbers, accepted));
    }

    /**
     * Reads ahead for the group of points {@code [from, to)}, about to be handled, and the two after it: a look-up is
     * a chain of three cache misses (the slot, the list's entry, the state with its newest window), each needing the
     * one before, so three groups are in flight at once, one link apart: the slots of the group after next, the
     * entries of the next group (whose slots were read a group ago) and the states of this one (whose entries were).
     */
    private long readAheadFor(List<Point> points, int from, int to) {
        int n = points.size();
        int next = Math.min(to + readAhead, n);
        return touchHomes(points, next, Math.min(next + readAhead, n))
                + touchEntries(points, to, next)
                + touchStates(points, from, to);
    }

    /**
     * Reads the home slots in the table of points {@code [from, to)}, the group after next.
     * The loads are issued back to back, with no point's work between them, so that the group's cache misses are in
     * flight together rather than one or two at a time behind the work on the points before them.
     */
    private long touchHomes(List<Point> points, int from, int to) {
        long sum = 0;
        for (int j = from; j < to; j++) {
            sum += table.touchHome(points.get(j).seriesHash());
        }
        return sum;
    }

    /** Reads the list's entries of points {@code [from, to)}, whose home slots were read a group ago; back to back. */
    private long touchEntries(List<Point> points, int from, int to) {
        long sum = 0;
        for (int j = from; j < to; j++) {
            sum += table.touchEntry(points.get(j).seriesHash());
        }
        return sum;
    }

    /**
     * Reads the states and newest windows of points {@code [from, to)}, about to be handled, whose entries the
     * previous group's call of {@link #touchEntries} read; back to back too. Each point's chain of misses (slot,
     * entry, state, window, the stored key) then takes about two misses' time per group of {@link #readAhead} points.
     */
    private long touchStates(List<Point> points, int from, int to) {
        long sum = 0;
        for (int j = from; j < to; j++) {
            Point q = points.get(j);
            sum += table.touchState(q.series(), q.seriesHash());
        }
        return sum;
    }

    /** What reading ahead returned, summed, so that its loads are not optimized away; for tests. */
    long touched() {
        return touched;
    }

    /** Aggregates one point read back from the log; its series is taken even past the budget (it was acknowledged). */
    void replay(SeriesKey key, long timestamp, double value, long segment) {
        SeriesState s = table.find(key);
        if (s == null || s.n == 0) {
            budget.forceAcquire(key.metric());
            // The log being read is not the one written from now on, so the numbers given again are not reported.
            s = s == null ? newSeries(key, key.hashCode(), false) : comeBack(s);
        }
        if (accept(s, timestamp, value, segment)) {
            latePoints++;
        }
    }

    /** From the log: every window due at {@code cutoff} had been closed. */
    void closedThrough(long cutoff) {
        closedThrough = Math.max(closedThrough, cutoff);
    }

    /**
     * Adds {@code key}'s series, whose hash is {@code hash}, under the last number freed, else that of the series that
     * has lingered longest (which then leaves: a lingering series never makes the shard take a number it never gave),
     * else the next one up; {@code report}: a number given again is reported.
     */
    private SeriesState newSeries(SeriesKey key, int hash, boolean report) {
        int number = -1;
        if (freeCount > 0) {
            number = freeNumbers[--freeCount];
        } else {
            SeriesState oldest = lingering.poll(Long.MAX_VALUE);
            if (oldest != null) {
                number = oldest.number;
                drop(oldest);
            }
        }
        if (number < 0) {
            number = nextNumber++;
        } else if (report) {
            if (renumberedCount == renumbered.length) {
                renumbered = Arrays.copyOf(renumbered, 2 * renumberedCount);
            }
            renumbered[renumberedCount++] = number;
        }
        SeriesState s = new SeriesState(key, number);
        table.add(s, hash);
        return join(s, false);
    }

    /**
     * {@code s}, a series that left lately, is among its metric's series again, under its own number, and in the tag
     * indexes of its metric built while it was away (the others kept it).
     */
    private SeriesState comeBack(SeriesState s) {
        lingeringCount--;
        return join(s, true);
    }

    /**
     * {@code s} joins its metric's series and its metric's tag indexes: all of them, or when it is {@code back} from
     * lingering those built since it left.
     */
    private SeriesState join(SeriesState s, boolean back) {
        int heldThrough = s.place;
        MetricSeries series = byMetric.computeIfAbsent(s.key.metric(), MetricSeries::new);
        series.join(s);
        if (!indexes.isEmpty()) {
            if (back) {
                indexes.cameBack(s, series.size(), heldThrough);
            } else {
                indexes.added(s, series.size());
            }
        }
        return s;
    }

    /** Removes {@code s}, a lingering series, from the table; its number is the caller's. */
    private void drop(SeriesState s) {
        table.remove(s);
        s.number = -1;
        lingeringCount--;
    }

    /** Adds one point to its window; true when it was late. */
    private boolean accept(SeriesState s, long timestamp, double value, long segment) {
        long start = Window.startOf(timestamp, resolution);
        Aggregate a = s.find(start);
        if (a == null) {
            a = s.open(start, spares);
            StartSeries at = lastAt != null && lastStart == start ? lastAt : byStart.get(start);
            if (at == null) {
                at = new StartSeries();
                byStart.put(start, at);
                startSegment.put(start, segment);
            }
            lastAt = at;
            lastStart = start;
            at.add(s);
            openWindows++;
        }
        a.accept(value, timestamp);
        if (due(start, closedThrough)) {
            a.markLate();
            return true;
        }
        return false;
    }

    /** A lower bound of the oldest log segment holding a point of an open window; {@code Long.MAX_VALUE} for none. */
    long oldestSegment() {
        long min = Long.MAX_VALUE;
        for (long seg : startSegment.values()) {
            min = Math.min(min, seg);
        }
        return min;
    }

    int index() {
        return index;
    }

    /**
     * Removes and returns every window whose end plus lateness is at or before {@code cutoff}, in columns
     * ({@link ClosedWindows}) sized by the series of the due starts.
     */
    List<Window> close(long cutoff, long flushSeq) {
        return close(cutoff, flushSeq, Map.of());
    }

    /**
     * As {@link #close(long, long)}; when the windows are taken metric by metric, each metric's run is indexed by the
     * values of the tag keys {@code indexed} gives for the metric (see {@link ClosedWindows#endRun}).
     */
    List<Window> close(long cutoff, long flushSeq, Map<String, List<String>> indexed) {
        closedThrough = Math.max(closedThrough, cutoff);
        lastAt = null;
        int due = 0;
        for (Map.Entry<Long, StartSeries> e : byStart.entrySet()) {
            if (!due(e.getKey(), cutoff)) {
                break;
            }
            due += e.getValue().size();
        }
        ClosedWindows out = new ClosedWindows(due, resolution, flushSeq);
        if (due > 0 && 2L * due >= table.size() - lingeringCount) {
            takeByMetric(cutoff, indexed, out);
        } else {
            while (!byStart.isEmpty() && due(byStart.firstKey(), cutoff)) {
                Map.Entry<Long, StartSeries> e = byStart.pollFirstEntry();
                startSegment.remove(e.getKey());
                takeWindows(e.getKey(), e.getValue(), true, out);
            }
        }
        // After the series that leave now joined: the ring then never empties between one window's leavers and the
        // next's, only to grow back.
        for (SeriesState s; (s = lingering.poll(closedThrough - LINGER_WINDOWS * resolution)) != null; ) {
            int number = s.number;
            drop(s);
            free(number);
        }
        spares.trim(table.size());
        return out;
    }

    /** Removes and returns every window; those not yet due at {@code now} are marked incomplete. */
    List<Window> closeAll(long now, long flushSeq) {
        lastAt = null;
        ClosedWindows out = new ClosedWindows(openWindows, resolution, flushSeq);
        while (!byStart.isEmpty()) {
            Map.Entry<Long, StartSeries> e = byStart.pollFirstEntry();
            startSegment.remove(e.getKey());
            boolean complete = due(e.getKey(), now);
            takeWindows(e.getKey(), e.getValue(), complete, out);
        }
        return out;
    }

    /** Whether the window at {@code start} is due to close at {@code time}: its end plus the lateness has passed. */
    private boolean due(long start, long time) {
        return start + resolution + lateness <= time;
    }

    /**
     * Takes the windows due at {@code cutoff} metric by metric, walking each metric's live series, so that the flush's
     * windows of one metric are one run in {@code out}: for when the due windows are half the live series or more
     * (every series' window falls due at once in steady traffic), which makes the walk cost at most twice the
     * due windows' own. Each run is indexed as {@code indexed} says, and notes the sets of tag keys of its series by
     * their slots in their metric's series, read from the places as the walk passes them.
     */
    private void takeByMetric(long cutoff, Map<String, List<String>> indexed, ClosedWindows out) {
        long[] starts = new long[4];
        int count = 0;
        while (!byStart.isEmpty() && due(byStart.firstKey(), cutoff)) {
            long start = byStart.pollFirstEntry().getKey();
            startSegment.remove(start);
            if (count == starts.length) {
                starts = Arrays.copyOf(starts, 2 * count);
            }
            starts[count++] = start;
        }
        out.takeByMetric();
        // A copy: a metric whose last series leaves now leaves the map.
        for (MetricSeries series : List.copyOf(byMetric.values())) {
            SeriesKey[] slots = series.keySetSlots();
            // The slots of the sets of tag keys of the series that had a window taken.
            long sets = 0;
            for (int i = 0; i < series.size(); ) {
                SeriesState s = series.get(i);
                int set = series.keySet(i);
                int before = out.size();
                for (int k = 0; k < count && s.n > 0; k++) {
                    takeWindow(starts[k], s, series, true, out);
                }
                if (out.size() > before) {
                    sets |= 1L << set;
                }
                // A series that left has the metric's last series in its place now.
                if (s.n > 0) {
                    i++;
                }
            }
            out.endRun(series.metric(), indexed.getOrDefault(series.metric(), List.of()),
                    slots == null ? null : keySets(slots, sets));
        }
    }

    /** The keys of {@code slots} whose bits {@code sets} has. */
    private static SeriesKey[] keySets(SeriesKey[] slots, long sets) {
        SeriesKey[] out = new SeriesKey[Long.bitCount(sets)];
        int n = 0;
        for (long rest = sets; rest != 0; rest &= rest - 1) {
            out[n++] = slots[Long.numberOfTrailingZeros(rest)];
        }
        return out;
    }

    private void takeWindows(long start, StartSeries states, boolean complete, ClosedWindows out) {
        for (int c = 0, chunks = states.chunkCount(); c < chunks; c++) {
            SeriesState[] chunk = states.chunk(c);
            for (int i = 0, n = states.chunkSize(c); i < n; i++) {
                takeWindow(start, chunk[i], null, complete, out);
            }
        }
    }

    /**
     * Takes the window of {@code s} at {@code start}, if open, into {@code out}; a series left with no window leaves
     * {@code series}, its metric's, which is looked up by its key when null. Given it, a series leaves without its key
     * being read: a walk metric by metric, where each series leaves in steady traffic, then reads only the states.
     */
    private void takeWindow(long start, SeriesState s, MetricSeries series, boolean complete, ClosedWindows out) {
        Aggregate a = s.remove(start);
        if (a == null) {
            return;
        }
        openWindows--;
        // Emptied in place: the series' last window is its state, which stays behind lingering; any other is a spare.
        out.take(s.key, start, complete, a);
        if (a instanceof OlderWindow w) {
            spares.give(w, table.size());
        }
        if (s.n == 0) {
            MetricSeries of = series != null ? series : byMetric.get(s.key.metric());
            String metric = of.metric();
            lingering.add(s, start, closedThrough);
            lingeringCount++;
            of.leave(s);
            // Its place among its metric's series is free while it lingers: it notes there which tag indexes hold it.
            s.place = indexes.builds();
            if (of.isEmpty()) {
                byMetric.remove(metric);
                indexes.metricGone(metric);
            }
            budget.release(metric, 1);
        }
    }

    private void free(int number) {
        if (freeCount == freeNumbers.length) {
            freeNumbers = Arrays.copyOf(freeNumbers, 2 * freeCount);
        }
        freeNumbers[freeCount++] = number;
    }

    /** Series that left lately and keep their states and numbers for their return; they have no open window. */
    int lingering() {
        return lingeringCount;
    }

    /**
     * Copies of the open windows of {@code metric}'s matching series that start in {@code [from, to)}, where
     * {@code filter} only passes series whose value of each key in {@code tags} is one of its values (no tags: any
     * series it passes). A metric with many series is then walked through a tag index of one of those keys instead
     * of series by series: a dashboard polling one series of a metric with 100 000 would otherwise cost the shard a
     * walk over all of them per query, taken from ingest.
     */
    List<Window> snapshot(String metric, Map<String, List<String>> tags, Predicate<SeriesKey> filter, long from,
                          long to) {
        return snapshot(matching(metric, tags, filter), from, to);
    }

    /** The series of {@code metric} that pass {@code filter}, found as {@link #snapshot} describes. */
    List<SeriesState> matching(String metric, Map<String, List<String>> tags, Predicate<SeriesKey> filter) {
        List<SeriesState> out = new ArrayList<>();
        for (SeriesState s : candidates(metric, tags)) {
            if (filter.test(s.key)) {
                out.add(s);
            }
        }
        return out;
    }

    /**
     * The live series of {@code metric} that may have, for each key of {@code tags}, one of its values: those a tag
     * index gives, or all of the metric's where it has none or too few series to keep one.
     */
    private List<SeriesState> candidates(String metric, Map<String, List<String>> tags) {
        MetricSeries series = byMetric.get(metric);
        if (series == null) {
            return List.of();
        }
        return tags.isEmpty() || series.size() < TagIndexes.INDEX_FROM
                ? series : indexes.candidates(metric, tags, series);
    }

    /** Copies of the open windows of {@code series} (found by {@link #matching}) that start in {@code [from, to)}. */
    List<Window> snapshot(List<SeriesState> series, long from, long to) {
        List<Window> out = new ArrayList<>();
        for (SeriesState s : series) {
            addWindows(s, from, to, out);
        }
        return out;
    }

    /** Copies of the open windows of {@code key}'s series, for a published view; empty when it has none. */
    List<Window> openWindows(SeriesKey key) {
        SeriesState s = table.get(key);
        if (s == null || s.n == 0) {
            return List.of();
        }
        List<Window> out = new ArrayList<>(s.n);
        addWindows(s, Long.MIN_VALUE, Long.MAX_VALUE, out);
        return List.copyOf(out);
    }

    /** How many open windows {@code key}'s series has. */
    int openWindowCount(SeriesKey key) {
        SeriesState s = table.get(key);
        return s == null ? 0 : s.n;
    }

    /** How many emptied older windows are kept for reuse, for tests. */
    int spareWindows() {
        return spares.size();
    }

    /** The number of tag indexes kept, for tests. */
    int indexCount() {
        return indexes.size();
    }

    private void addWindows(SeriesState s, long from, long to, List<Window> out) {
        for (int i = 0; i < s.n; i++) {
            long start = s.start(i);
            if (start >= from && start < to) {
                out.add(new Window(s.key, start, resolution, s.aggregate(i).copy(), false, 0));
            }
        }
    }

    /** Active series of {@code metric}, or of every metric when null. */
    List<SeriesKey> series(String metric) {
        List<SeriesKey> out = new ArrayList<>();
        if (metric == null) {
            byMetric.values().forEach(m -> addKeys(m, out));
        } else {
            MetricSeries m = byMetric.get(metric);
            if (m != null) {
                addKeys(m, out);
            }
        }
        return out;
    }

    private static void addKeys(MetricSeries series, List<SeriesKey> out) {
        for (int i = 0, n = series.size(); i < n; i++) {
            out.add(series.get(i).key);
        }
    }

    /** Active series count per metric. */
    Map<String, Integer> seriesCounts() {
        Map<String, Integer> out = new HashMap<>();
        byMetric.forEach((m, s) -> out.put(m, s.size()));
        return out;
    }

    int openWindows() {
        return openWindows;
    }

    long latePoints() {
        return latePoints;
    }

    /**
     * At most {@code max + 1} keys of {@code metric}'s live series that have, for each key of {@code tags}, one of
     * its values and pass {@code filter} (null for none), found through a tag index as {@link #snapshot} finds them;
     * one more than {@code max} tells the caller the listing is over its bound without walking the rest.
     */
    List<SeriesKey> listSeries(String metric, Map<String, List<String>> tags, Predicate<SeriesKey> filter, int max) {
        List<SeriesKey> out = new ArrayList<>();
        eachListed(metric, tags, filter, max, out::add);
        return out;
    }

    /**
     * Gives {@code each} the key of each live series of {@code metric} that has, for each key of {@code tags}, one of
     * its values and passes {@code filter} (null for none), found through a tag index as {@link #snapshot} finds them,
     * stopping after the {@code max + 1}st.
     */
    private void eachListed(String metric, Map<String, List<String>> tags, Predicate<SeriesKey> filter, int max,
                            Consumer<SeriesKey> each) {
        int listed = 0;
        for (SeriesState s : candidates(metric, tags)) {
            if (QueryViews.passes(tags, s.key) && (filter == null || filter.test(s.key))) {
                each.accept(s.key);
                if (++listed > max) {
                    return;
                }
            }
        }
    }

    /**
     * What {@code valueOf} gives of each live series of {@code metric} that has, for each key of {@code tags}, one of
     * its values and passes {@code filter} (null for none), found as {@link #listSeries} finds them; the walk stops at
     * the {@code max + 1}st such series. A tag's values among all of a metric's many series come from the metric's
     * index of the tag, with no walk.
     */
    SeriesValues seriesValues(String metric, Map<String, List<String>> tags, Predicate<SeriesKey> filter,
                              SeriesValues.Value valueOf, int max) {
        MetricSeries series = byMetric.get(metric);
        if (series != null && tags.isEmpty() && filter == null && valueOf.tagKey() != null
                && series.size() >= TagIndexes.INDEX_FROM) {
            // Every series of the metric: a tag's values are those of its index, found without a walk.
            return new SeriesValues(indexes.values(metric, valueOf.tagKey(), series), series.size());
        }
        SeriesValues out = new SeriesValues();
        eachListed(metric, tags, filter, max, k -> out.add(k, valueOf));
        return out;
    }

    /**
     * One key of each distinct set of tag keys among the live series of {@code metric} (of every metric when null):
     * the label names of a metric's series are those of these keys. Each metric counts its sets as series join and
     * leave ({@link MetricSeries}), so they are not walked.
     */
    List<SeriesKey> tagKeySets(String metric) {
        List<SeriesKey> out = new ArrayList<>();
        for (Map.Entry<String, MetricSeries> e : byMetric.entrySet()) {
            if (metric == null || metric.equals(e.getKey())) {
                MetricSeries series = e.getValue();
                if (!series.addKeySets(out)) {
                    // More sets than a metric counts: its series are walked.
                    TagKeySets sets = new TagKeySets();
                    for (int i = 0, n = series.size(); i < n; i++) {
                        sets.add(series.get(i).key);
                    }
                    out.addAll(sets.keys());
                }
            }
        }
        return out;
    }
}
