package dev.meterline.aggregate;

import dev.meterline.model.Aggregate;
import dev.meterline.model.AggregateAssertions;
import dev.meterline.model.Batch;
import dev.meterline.model.Part;
import dev.meterline.model.Point;
import dev.meterline.model.SeriesKey;
import dev.meterline.model.TagKeySets;
import dev.meterline.model.Window;
import dev.meterline.model.WindowList;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The windows a shard closes into columns are, window by window, those of the same points aggregated into one object
 * per window: every shape of aggregate (no value to bins, NaN, zeros of both signs, late points, older windows of a
 * series, incomplete windows of the final flush), read from the shard's list, from a flush's windows joined across
 * shards, and from the pending flush a query reads, narrowed by a tag's values.
 */
class ClosedWindowsTest {

    private static final long WINDOW = 10_000;
    private static final long LATENESS = 5_000;
    private static final double[] POOL = {3, -2, 0.0, -0.0, 7, 1e-300, Double.NaN, 2.5e6};

    /** The same points aggregated window by window into objects, as a shard did before its windows closed. */
    private static final class Reference {
        final Map<SeriesKey, Map<Long, Aggregate>> windows = new HashMap<>();
        long closedThrough = Long.MIN_VALUE;

        void accept(SeriesKey key, double value, long timestamp) {
            long start = Window.startOf(timestamp, WINDOW);
            Aggregate a = windows.computeIfAbsent(key, k -> new HashMap<>()).computeIfAbsent(start, s -> new Aggregate());
            a.accept(value, timestamp);
            if (start + WINDOW + LATENESS <= closedThrough) {
                a.markLate();
            }
        }

        /** Removes the window of {@code w}'s series and start and checks {@code w} against it. */
        void check(Window w, boolean complete, long seq) {
            Map<Long, Aggregate> of = windows.get(w.series());
            assertNotNull(of, "no window expected of " + w.series());
            Aggregate expected = of.remove(w.start());
            assertNotNull(expected, "no window expected of " + w.series() + " at " + w.start());
            String what = w.series() + " at " + w.start();
            assertEquals(WINDOW, w.resolution(), what);
            assertEquals(complete, w.complete(), what);
            assertEquals(seq, w.flushSeq(), what);
            AggregateAssertions.assertSameContents(expected, w.aggregate(), what);
        }

        int left() {
            int n = 0;
            for (Map<Long, Aggregate> of : windows.values()) {
                n += of.size();
            }
            return n;
        }
    }

    private static Part part(List<Point> points) {
        Batch b = new Batch(batch -> { }, points, new ArrayList<>(), null);
        b.validated(List.of(), points.size());
        return new Part(0, b, points);
    }

    private static SeriesKey key(int i) {
        return SeriesKey.of(i % 3 == 0 ? "cpu" : "mem", Map.of("host", "h" + i));
    }

    /**
     * Points of series {@code from} to {@code to} into windows at {@code starts}: series i gets i % 9 values in each
     * window (none to eight), and every 7th series 40 (bins); values from a pool with NaN, both zeros and a tiny one.
     */
    private static void feed(Shard shard, Reference reference, int from, int to, long[] starts,
                             SplittableRandom random) {
        List<Point> points = new ArrayList<>();
        for (long start : starts) {
            for (int i = from; i < to; i++) {
                int values = i % 7 == 6 ? 40 : i % 9;
                for (int v = 0; v < values; v++) {
                    double value = POOL[random.nextInt(POOL.length)];
                    long timestamp = start + random.nextLong(WINDOW);
                    Point point = new Point(key(i), value, timestamp, 1);
                    points.add(point);
                    // As the point took it: -0.0 is taken as 0.0.
                    reference.accept(key(i), point.value(), timestamp);
                }
            }
        }
        shard.record(part(points));
    }

    @Test
    void everyShapeOfWindowClosesAsItsObjectForm() {
        Shard shard = new Shard(WINDOW, LATENESS, new SeriesBudget(100_000));
        Reference reference = new Reference();
        SplittableRandom random = new SplittableRandom(17);
        // Two windows open at once for every series: the older ones are aggregates of their own, the newest the state.
        feed(shard, reference, 0, 200, new long[]{0, WINDOW}, random);
        List<Window> first = shard.close(WINDOW + LATENESS, 1);
        reference.closedThrough = WINDOW + LATENESS;
        for (Window w : first) {
            assertEquals(0, w.start());
            reference.check(w, true, 1);
        }
        // Late points into the start just closed, and a third window.
        feed(shard, reference, 0, 30, new long[]{0, 2 * WINDOW}, random);
        List<Window> second = shard.close(2 * WINDOW + LATENESS, 2);
        reference.closedThrough = 2 * WINDOW + LATENESS;
        for (Window w : second) {
            reference.check(w, true, 2);
        }
        // The final flush: the newest window not yet due is incomplete.
        List<Window> last = shard.closeAll(2 * WINDOW + LATENESS + 1, 3);
        for (Window w : last) {
            reference.check(w, w.start() < 2 * WINDOW, 3);
        }
        assertEquals(0, reference.left());
        assertEquals(0, shard.openWindows());
        for (List<Window> closed : List.of(first, second, last)) {
            assertReadWithoutBuilding(closed);
        }
    }

    /** A final flush that holds windows already due before the ones not yet due marks only the latter incomplete. */
    @Test
    void aFinalFlushMarksOnlyTheWindowsNotYetDueIncomplete() {
        Shard shard = new Shard(WINDOW, LATENESS, new SeriesBudget(100_000));
        Reference reference = new Reference();
        feed(shard, reference, 0, 50, new long[]{0, WINDOW, 2 * WINDOW}, new SplittableRandom(5));
        List<Window> all = shard.closeAll(WINDOW + LATENESS, 4);
        for (Window w : all) {
            reference.check(w, w.start() < WINDOW, 4);
        }
        assertEquals(0, reference.left());
        assertReadWithoutBuilding(all);
    }

    /** A window's series, start and resolution, read from the columns, are the built window's. */
    private static void assertReadWithoutBuilding(List<Window> closed) {
        for (int i = 0; i < closed.size(); i++) {
            Window w = closed.get(i);
            assertSame(w.series(), WindowList.series(closed, i));
            assertEquals(w.start(), WindowList.start(closed, i));
            assertEquals(w.resolution(), WindowList.resolution(closed, i));
        }
        assertThrows(IndexOutOfBoundsException.class, () -> WindowList.start(closed, closed.size()));
    }

    @Test
    void aFlushJoinedAcrossShardsReadsAsEachShardsWindows() {
        Reference reference = new Reference();
        SplittableRandom random = new SplittableRandom(5);
        List<List<Window>> shards = new ArrayList<>();
        for (int s = 0; s < 3; s++) {
            Shard shard = new Shard(s, WINDOW, LATENESS, new SeriesBudget(100_000));
            // The middle shard closes nothing.
            feed(shard, reference, 1_000 * s, s == 1 ? 1_000 : 1_000 * s + 500, new long[]{0}, random);
            shards.add(shard.close(WINDOW + LATENESS, 9));
        }
        List<Window> joined = JoinedWindows.of(shards);
        assertEquals(shards.get(0).size() + shards.get(2).size(), joined.size());
        for (int i = 0; i < joined.size(); i++) {
            List<Window> part = i < shards.get(0).size() ? shards.get(0) : shards.get(2);
            int at = i < shards.get(0).size() ? i : i - shards.get(0).size();
            assertEquals(part.get(at).series(), joined.get(i).series());
            reference.check(joined.get(i), true, 9);
        }
        assertEquals(0, reference.left());
        assertReadWithoutBuilding(joined);
        assertThrows(IndexOutOfBoundsException.class, () -> joined.get(joined.size()));
        assertThrows(IndexOutOfBoundsException.class, () -> joined.get(-1));
        assertSame(shards.get(0), JoinedWindows.of(List.of(List.of(), shards.get(0))), "one list is itself");
        assertEquals(List.of(), JoinedWindows.of(List.of(List.of(), List.of())));
    }

    @Test
    void aCloseOfMostSeriesTakesThemMetricByMetricAndAPendingFlushGroupsThemByItsRuns() {
        Shard shard = new Shard(WINDOW, LATENESS, new SeriesBudget(100_000));
        Reference reference = new Reference();
        SplittableRandom random = new SplittableRandom(23);
        // Half the series keep a window after the close; the other half leave as the walk passes them, each handing
        // its place among its metric's series to the last one.
        feed(shard, reference, 0, 300, new long[]{0, WINDOW}, random);
        feed(shard, reference, 300, 600, new long[]{0}, random);
        List<Window> first = shard.close(WINDOW + LATENESS, 1);
        reference.closedThrough = WINDOW + LATENESS;
        assertEquals(List.of("cpu", "mem"), runMetrics(first));
        for (Window w : first) {
            reference.check(w, true, 1);
        }
        assertEquals(0, windowsAt(reference, 0), "every due window closed once");
        assertEqualViews(first);

        // Late points into a few series' closed start: far fewer due than live, taken start by start.
        feed(shard, reference, 1, 4, new long[]{0}, random);
        List<Window> late = shard.close(WINDOW + LATENESS, 2);
        assertFalse(((ClosedWindows) late).runs(0, 0, (run, metric, from, to, cut) -> { }), "no runs");
        assertEquals(List.of(0L), late.stream().map(Window::start).distinct().toList());
        for (Window w : late) {
            reference.check(w, true, 2);
        }
        assertEqualViews(late);

        List<Window> second = shard.close(2 * WINDOW + LATENESS, 3);
        assertEquals(List.of("cpu", "mem"), runMetrics(second));
        for (Window w : second) {
            reference.check(w, true, 3);
        }
        assertEquals(0, reference.left());
        assertEquals(0, shard.openWindows());
    }

    @Test
    void aCloseIndexesTheRunsOfTheMetricsItIsGivenByTheirTagValues() {
        Shard shard = new Shard(WINDOW, LATENESS, new SeriesBudget(100_000));
        Reference reference = new Reference();
        SplittableRandom random = new SplittableRandom(31);
        feed(shard, reference, 0, 6_000, new long[]{0, WINDOW}, random);
        List<Window> closed = shard.close(WINDOW + LATENESS, 1, Map.of("cpu", List.of("host", "dc")));
        ClosedWindows columns = (ClosedWindows) closed;
        List<String> indexed = new ArrayList<>();
        assertTrue(columns.runs(0, 0, (run, metric, from, to, cut) -> {
            assertNull(columns.runIndex(run, "region"), "a key not asked");
            if (metric.equals("mem")) {
                assertNull(columns.runIndex(run, "host"), "a metric not asked");
                return;
            }
            List<Long> expected = new ArrayList<>();
            for (int i = from; i < to; i++) {
                expected.add((long) WindowList.series(closed, i).tag("host").hashCode() << 32 | (i - from));
            }
            expected.sort(null);
            assertEquals(expected, Arrays.stream(columns.runIndex(run, "host")).boxed().toList(), metric);
            assertEquals(0, columns.runIndex(run, "dc").length, "no series has the key");
            indexed.add(metric);
        }));
        assertEquals(List.of("cpu"), indexed);
        assertEqualViews(closed);
        // Joined with a second shard's run of the metric: the pending flush merges both runs' indexes.
        Shard other = new Shard(1, WINDOW, LATENESS, new SeriesBudget(100_000));
        feed(other, reference, 0, 6_000, new long[]{0}, random);
        List<Window> joined = JoinedWindows.of(List.of(closed,
                other.close(WINDOW + LATENESS, 1, Map.of("cpu", List.of("host")))));
        assertEqualViews(joined);
    }

    @Test
    void aPendingFlushListsTheSetsOfTagKeysTheShardsNotedOfTheirRuns() {
        Shard shard = new Shard(WINDOW, LATENESS, new SeriesBudget(100_000));
        List<Point> points = new ArrayList<>();
        for (int i = 0; i < 400; i++) {
            // The series with both dc and rack have only a window not yet due: their set is not among the flush's.
            long start = i % 4 == 3 ? WINDOW : 0;
            points.add(new Point(keyWithSets(i), i, start + 1, 1));
            if (i % 3 == 0) {
                // A window after the due one, so the series stays; the others leave as the walk passes them.
                points.add(new Point(keyWithSets(i), i, WINDOW + 1, 1));
            }
        }
        shard.record(part(points));
        List<Window> closed = shard.close(WINDOW + LATENESS, 1);
        assertEquals(List.of("cpu", "mem"), runMetrics(closed));
        assertEquals(Set.of("cpu[host]", "cpu[dc, host]", "cpu[host, rack]", "mem[host]", "mem[dc, host]",
                "mem[host, rack]"), keySets(closed));
        assertEqualViews(closed);
    }

    @Test
    void aRunsNotedSetsOfTagKeysStandForItsWindowsKeysUnlessTheRunIsCut() {
        ClosedWindows closed = new ClosedWindows(4, WINDOW, 1);
        closed.takeByMetric();
        for (int i = 0; i < 3; i++) {
            closed.take(SeriesKey.of("cpu", Map.of("host", "h" + i)), 0, true, new Aggregate());
        }
        closed.endRun("cpu", List.of(), new SeriesKey[]{SeriesKey.of("cpu", Map.of("dc", "eu"))});
        closed.take(SeriesKey.of("mem", Map.of("rack", "r1")), 0, true, new Aggregate());
        closed.endRun("mem", List.of(), null);
        TagKeySets whole = new TagKeySets();
        closed.addTagKeySets(0, whole);
        assertEquals(Set.of("cpu[dc]", "mem[rack]"), describeSets(whole.keys()), "as noted, and walked unnoted");
        TagKeySets cut = new TagKeySets();
        closed.addTagKeySets(1, cut);
        assertEquals(Set.of("cpu[host]", "mem[rack]"), describeSets(cut.keys()), "a cut run walked");
    }

    @Test
    void theRestOfAFlushPartlySpilledKeepsItsRunsAndReadsAsACopyOfItsWindows() {
        Shard shard = new Shard(WINDOW, LATENESS, new SeriesBudget(100_000));
        Reference reference = new Reference();
        SplittableRandom random = new SplittableRandom(41);
        feed(shard, reference, 0, 6_000, new long[]{0}, random);
        List<Window> closed = shard.close(WINDOW + LATENESS, 1, Map.of("cpu", List.of("host")));
        Shard other = new Shard(1, WINDOW, LATENESS, new SeriesBudget(100_000));
        feed(other, reference, 0, 6_000, new long[]{0}, random);
        List<Window> second = other.close(WINDOW + LATENESS, 1, Map.of("cpu", List.of("host")));
        List<Window> joined = JoinedWindows.of(List.of(closed, second));
        // Into each run of either shard (the indexed ones cut), at the first shard's end, and near the end.
        List<Integer> skips = new ArrayList<>(List.of(1, closed.size(), joined.size() - 1));
        assertTrue(((ClosedWindows) closed).runs(0, 0, (run, metric, from, to, cut) -> skips.add(from + 777)));
        assertTrue(((ClosedWindows) second).runs(closed.size(), 0,
                (run, metric, from, to, cut) -> skips.add(from + 500)));
        for (int skip : skips) {
            List<Window> rest = FlushRest.of(joined, skip);
            assertEquals(describe(joined.subList(skip, joined.size())), describe(rest));
            assertEqualViews(rest);
            PendingFlushes pending = new PendingFlushes();
            pending.register(1, rest);
            pending.view("cpu");
            assertTrue(pending.groupedByRuns(1), "grouped by its runs, skip " + skip);
        }
        List<Window> restOfRest = FlushRest.of(FlushRest.of(joined, 500), 2_000);
        assertEquals(describe(joined.subList(2_500, joined.size())), describe(restOfRest));
        assertEqualViews(restOfRest);
    }

    /** Series of cpu and mem whose tag keys depend on i: host, with dc, rack or both. */
    private static SeriesKey keyWithSets(int i) {
        Map<String, String> tags = new HashMap<>();
        tags.put("host", "h" + i);
        if (i % 4 == 1 || i % 4 == 3) {
            tags.put("dc", "d" + i % 3);
        }
        if (i % 4 >= 2) {
            tags.put("rack", "r" + i % 5);
        }
        return SeriesKey.of(i % 5 == 0 ? "mem" : "cpu", tags);
    }

    /** The metric and sorted tag keys of each of the sets of tag keys a pending flush of {@code closed} lists. */
    private static Set<String> keySets(List<Window> closed) {
        PendingFlushes pending = new PendingFlushes();
        pending.register(1, closed);
        return describeSets(pending.tagKeySets());
    }

    private static Set<String> describeSets(List<SeriesKey> keys) {
        Set<String> out = new HashSet<>();
        for (SeriesKey k : keys) {
            assertTrue(out.add(k.metric() + new TreeSet<>(k.tags().keySet())), "each set once: " + keys);
        }
        return out;
    }

    /** The metrics of {@code closed}'s runs, sorted, after checking that each run holds its metric's windows only. */
    private static List<String> runMetrics(List<Window> closed) {
        List<String> metrics = new ArrayList<>();
        int[] next = {0};
        assertTrue(((ClosedWindows) closed).runs(0, 0, (run, metric, from, to, cut) -> {
            assertEquals(next[0], from, "runs follow one another");
            assertTrue(to > from, "a run holds windows");
            for (int i = from; i < to; i++) {
                assertEquals(metric, WindowList.series(closed, i).metric());
            }
            metrics.add(metric);
            next[0] = to;
        }), "taken by metric");
        assertEquals(closed.size(), next[0], "the runs hold every window");
        metrics.sort(null);
        return metrics;
    }

    private static int windowsAt(Reference reference, long start) {
        int n = 0;
        for (Map<Long, Aggregate> of : reference.windows.values()) {
            n += of.containsKey(start) ? 1 : 0;
        }
        return n;
    }

    /** A pending flush of {@code closed} gives every view as one of a plain copy of its windows does. */
    private static void assertEqualViews(List<Window> closed) {
        PendingFlushes byRuns = new PendingFlushes();
        byRuns.register(1, closed);
        PendingFlushes byKeys = new PendingFlushes();
        byKeys.register(1, new ArrayList<>(closed));
        assertEquals(byKeys.metrics(), byRuns.metrics());
        assertEquals(describeSets(byKeys.tagKeySets()), describeSets(byRuns.tagKeySets()));
        assertEquals(byKeys.windows(), byRuns.windows());
        for (String metric : List.of("cpu", "mem", "disk")) {
            assertEquals(describe(byKeys.view(metric).get(1L)), describe(byRuns.view(metric).get(1L)), metric);
            // With values whose hashes are one below others' (h2, h8, h2000): an index entry shifted wrong by a
            // place below zero would take the next lower hash.
            Map<String, List<String>> byHost = Map.of("host", List.of("h3", "h301", "h9", "h2001", "h2", "h8",
                    "h2000"));
            assertEquals(describe(byKeys.view(metric, byHost).get(1L)), describe(byRuns.view(metric, byHost).get(1L)),
                    metric);
        }
    }

    private static List<String> describe(List<Window> windows) {
        List<String> out = new ArrayList<>();
        for (Window w : windows) {
            out.add(w.series() + "@" + w.start() + "=" + w.aggregate().count());
        }
        return out;
    }

    @Test
    void aPendingFlushOfColumnsGivesAQueryItsWindowsNarrowedByATagsValues() {
        Reference reference = new Reference();
        SplittableRandom random = new SplittableRandom(8);
        List<List<Window>> shards = new ArrayList<>();
        for (int s = 0; s < 2; s++) {
            Shard shard = new Shard(s, WINDOW, LATENESS, new SeriesBudget(100_000));
            feed(shard, reference, 0, 4_000, new long[]{0}, random);
            shards.add(shard.close(WINDOW + LATENESS, 4));
        }
        PendingFlushes pending = new PendingFlushes();
        pending.register(4, JoinedWindows.of(shards));
        // Both shards fed the same series: each series has two windows at start 0, one from each shard.
        List<Window> h3 = pending.view("cpu", Map.of("host", List.of("h3", "h6"))).get(4L);
        List<Window> expected = new ArrayList<>();
        for (List<Window> shard : shards) {
            for (Window w : shard) {
                if (w.series().equals(key(3)) || w.series().equals(key(6))) {
                    expected.add(w);
                }
            }
        }
        assertEquals(expected.size(), h3.size());
        for (int i = 0; i < h3.size(); i++) {
            assertEquals(expected.get(i).series(), h3.get(i).series());
            AggregateAssertions.assertSameContents(expected.get(i).aggregate(), h3.get(i).aggregate(), "window " + i);
        }
        assertEquals(1, pending.indexes(), "the metric's windows were narrowed through an index");
        int cpu = 0;
        for (Window w : pending.view("cpu").get(4L)) {
            assertEquals("cpu", w.series().metric());
            cpu++;
        }
        assertEquals(pending.windows(), cpu + pending.view("mem").get(4L).size());
    }
}
