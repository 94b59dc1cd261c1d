package dev.meterline.aggregate;

import dev.meterline.model.Batch;
import dev.meterline.model.Part;
import dev.meterline.model.Point;
import dev.meterline.model.SeriesKey;
import dev.meterline.model.Window;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A shard finds a series' state in its own table, by the key instance first (the decoder hands out the same instance
 * for the same wire bytes) and by content otherwise; these cases show that the shortcut never changes what is
 * aggregated.
 */
class ShardTest {

    private static final long WINDOW = 10_000;
    private static final long LATENESS = 5_000;

    private static Part part(SeriesKey key, double value, long timestamp) {
        List<Point> points = List.of(new Point(key, value, timestamp, 1));
        Batch b = new Batch(batch -> { }, points, new ArrayList<>(), null);
        b.validated(List.of(), 1);
        return new Part(0, b, points);
    }

    @Test
    void aSeriesComingBackAfterItsLastWindowClosedStartsAfresh() {
        SeriesBudget budget = new SeriesBudget(10);
        Shard shard = new Shard(WINDOW, LATENESS, budget);
        SeriesKey key = SeriesKey.of("cpu", Map.of("host", "a"));

        shard.record(part(key, 1, 1_000));
        shard.record(part(key, 2, 2_000));
        List<Window> first = shard.close(WINDOW + LATENESS, 1);
        assertEquals(1, first.size());
        assertEquals(2, first.get(0).aggregate().count());
        assertEquals(0, budget.active(), "the series left with its last window");

        shard.record(part(key, 5, 21_000));
        assertEquals(1, budget.active(), "the series counts against the budget again");
        List<Window> second = shard.closeAll(100_000, 2);
        assertEquals(1, second.size());
        assertEquals(1, second.get(0).aggregate().count());
        assertEquals(5, second.get(0).aggregate().sum());
        assertEquals(List.of(), shard.series(null));
    }

    @Test
    void aWindowOpenedAgainAfterItsStartClosedIsClosedAgain() {
        Shard shard = new Shard(WINDOW, LATENESS, new SeriesBudget(10));
        SeriesKey a = SeriesKey.of("cpu", Map.of("host", "a"));
        SeriesKey b = SeriesKey.of("cpu", Map.of("host", "b"));

        shard.record(part(a, 1, 1_000));
        assertEquals(1, shard.close(WINDOW + LATENESS, 1).size());
        // A late point for the start just closed, from another series: the shard must list its window anew.
        assertEquals(1, shard.record(part(b, 2, 2_000)), "late");
        assertEquals(1, shard.openWindows());
        List<Window> again = shard.close(WINDOW + LATENESS, 2);
        assertEquals(1, again.size());
        assertEquals(b, again.get(0).series());
        assertEquals(0, shard.openWindows());
        assertEquals(List.of(), shard.closeAll(100_000, 3));
    }

    @Test
    void windowsOfManySeriesAndStartsAllClose() {
        Shard shard = new Shard(WINDOW, LATENESS, new SeriesBudget(10_000));
        SplittableRandom random = new SplittableRandom(3);
        int points = 0;
        for (int i = 0; i < 5_000; i++) {
            SeriesKey key = SeriesKey.of("m", Map.of("host", "h" + random.nextInt(300)));
            shard.record(part(key, 1, random.nextLong(0, 6 * WINDOW)));
            points++;
        }
        long counted = 0;
        for (Window w : shard.close(3 * WINDOW + LATENESS, 1)) {
            counted += w.aggregate().count();
        }
        for (Window w : shard.closeAll(Long.MAX_VALUE, 2)) {
            counted += w.aggregate().count();
        }
        assertEquals(points, counted);
        assertEquals(0, shard.openWindows());
    }

    @Test
    void aStartOfMoreSeriesThanAChunkHoldsClosesEachWindowOnceInTheOrderTheyOpened() {
        int series = 3 * StartSeries.MAX_CHUNK + 5;
        // Live series with no window due, more than those due: the close walks the start rather than the metrics.
        int later = 2 * series + 1;
        Shard shard = new Shard(WINDOW, LATENESS, new SeriesBudget(series + later));
        List<SeriesKey> opened = new ArrayList<>();
        for (int i = 0; i < series; i++) {
            SeriesKey key = SeriesKey.of("m", Map.of("host", "h" + i));
            opened.add(key);
            shard.record(part(key, i, 1_000 + i % 50));
            shard.record(part(key, i, 2_000));
        }
        for (int i = 0; i < later; i++) {
            shard.record(part(SeriesKey.of("other", Map.of("host", "h" + i)), 1, 3 * WINDOW));
        }
        assertEquals(series + later, shard.openWindows());
        List<Window> closed = shard.close(WINDOW + LATENESS, 1);
        List<SeriesKey> order = new ArrayList<>();
        for (Window w : closed) {
            order.add(w.series());
            assertEquals(2, w.aggregate().count(), w.series().toString());
        }
        assertEquals(opened, order);
        assertEquals(later, shard.openWindows());
        assertEquals(later, shard.closeAll(Long.MAX_VALUE, 2).size());
    }

    @Test
    void pointsAlternatingBetweenTwoOpenWindowsLandInTheirOwn() {
        Shard shard = new Shard(WINDOW, LATENESS, new SeriesBudget(10));
        SeriesKey key = SeriesKey.of("cpu", Map.of("host", "a"));
        for (int i = 0; i < 10; i++) {
            shard.record(part(key, 1, 9_000));
            shard.record(part(key, 100, 11_000));
        }
        List<Window> older = shard.close(WINDOW + LATENESS, 1);
        assertEquals(1, older.size());
        assertEquals(10, older.get(0).aggregate().sum());
        shard.record(part(key, 100, 12_000));
        shard.record(part(key, 1, 9_500));
        List<Window> rest = shard.closeAll(100_000, 2);
        assertEquals(2, rest.size(), "the late point reopened its window");
        double newer = rest.stream().filter(w -> w.start() == WINDOW).mapToDouble(w -> w.aggregate().sum()).sum();
        double reopened = rest.stream().filter(w -> w.start() == 0).mapToDouble(w -> w.aggregate().sum()).sum();
        assertEquals(1_100, newer);
        assertEquals(1, reopened);
    }

    /**
     * A query filtering on tags gets the same windows through a tag index (metrics of many series) as through a walk
     * over every series, while series come, leave with their last window and come back, and more keys are queried
     * than indexes are kept.
     */
    @Test
    void taggedSnapshotsThroughIndexesEqualAWalkOverEverySeries() {
        SplittableRandom rnd = new SplittableRandom(17);
        Shard shard = new Shard(WINDOW, LATENESS, new SeriesBudget(1_000_000));
        String[] keys = {"host", "dc", "svc", "k0", "k1", "k2", "k3", "k4", "k5", "k6", "k7", "k8", "k9", "k10", "k11",
            "k12", "k13", "k14", "k15", "k16"};
        long now = 0;
        for (int step = 0; step < 60; step++) {
            for (int i = 0; i < 400; i++) {
                int h = rnd.nextInt(TagIndexes.INDEX_FROM * 3);
                Map<String, String> tags = new java.util.HashMap<>();
                tags.put("host", "h" + h);
                tags.put("dc", "d" + (h % 5));
                if (h % 3 != 0) {
                    tags.put("svc", "s" + (h % 4));
                }
                tags.put(keys[3 + rnd.nextInt(keys.length - 3)], "v" + (h % 2));
                shard.record(part(SeriesKey.of("m", tags), 1, now + rnd.nextInt((int) WINDOW)));
            }
            if (step % 10 == 9) {
                shard.close(now + LATENESS, step);
            }
            now += WINDOW / 4;
            for (int q = 0; q < 6; q++) {
                String key = keys[rnd.nextInt(keys.length)];
                List<String> values = new ArrayList<>();
                for (int v = 1 + rnd.nextInt(3); v > 0; v--) {
                    values.add(key.equals("host") ? "h" + rnd.nextInt(TagIndexes.INDEX_FROM * 3)
                            : key.equals("dc") ? "d" + rnd.nextInt(6) : key.equals("svc") ? "s" + rnd.nextInt(4)
                            : "v" + rnd.nextInt(2));
                }
                Map<String, List<String>> filter = Map.of(key, values);
                java.util.function.Predicate<SeriesKey> matches = k -> values.contains(k.tag(key));
                List<String> indexed = describe(shard.snapshot("m", filter, matches, 0, Long.MAX_VALUE));
                List<String> walked = describe(shard.snapshot("m", Map.of(), matches, 0, Long.MAX_VALUE));
                assertEquals(walked, indexed, "step " + step + " filter " + filter);
            }
        }
        assertEquals(TagIndexes.MAX_INDEXES, shard.indexCount(), "past the bound, the least recently used index goes");
    }

    /** An index no query walks any more does not grow with churning series: it is dropped, and built again. */
    @Test
    void anIndexNoQueryWalksIsDroppedAsSeriesChurn() {
        Shard shard = new Shard(WINDOW, LATENESS, new SeriesBudget(1_000_000));
        int live = 2 * TagIndexes.INDEX_FROM;
        long t = 0;
        for (int i = 0; i < live; i++) {
            shard.record(part(SeriesKey.of("m", Map.of("host", "h" + i)), 1, t));
        }
        Map<String, List<String>> filter = Map.of("host", List.of("h7"));
        java.util.function.Predicate<SeriesKey> matches = k -> "h7".equals(k.tag("host"));
        assertEquals(1, shard.snapshot("m", filter, matches, 0, Long.MAX_VALUE).size());
        assertEquals(1, shard.indexCount());
        int generation = 0;
        while (shard.indexCount() > 0 && generation < 10) {
            generation++;
            shard.close(t + WINDOW + LATENESS, generation);
            t += WINDOW;
            for (int i = 0; i < live; i++) {
                shard.record(part(SeriesKey.of("m", Map.of("host", "g" + generation + "-" + i)), 1, t));
            }
        }
        assertEquals(0, shard.indexCount(), "dropped after " + generation + " generations");
        assertTrue(generation <= 3, "generations: " + generation);
        Map<String, List<String>> again = Map.of("host", List.of("g" + generation + "-5"));
        java.util.function.Predicate<SeriesKey> matchesAgain = k -> again.get("host").contains(k.tag("host"));
        assertEquals(1, shard.snapshot("m", again, matchesAgain, 0, Long.MAX_VALUE).size(), "built again");
        assertEquals(1, shard.indexCount());
    }

    /**
     * A series whose metric has a tag index lingers too when it leaves: its last window goes out in an aggregate of its
     * own, and the state the index keeps holds no values and is no query's candidate until the series comes back.
     */
    @Test
    void aSeriesLeavingWhileATagIndexHoldsItsStateLeavesThatStateEmpty() {
        Shard shard = new Shard(WINDOW, LATENESS, new SeriesBudget(1_000_000));
        int series = TagIndexes.INDEX_FROM + 10;
        for (int i = 0; i < series; i++) {
            SeriesKey key = SeriesKey.of("m", Map.of("host", "h" + i));
            shard.record(part(key, i, 1_000));
            shard.record(part(key, 2 * i, 2_000));
        }
        Map<String, List<String>> filter = Map.of("host", List.of("h7", "h8"));
        java.util.function.Predicate<SeriesKey> matches = k -> filter.get("host").contains(k.tag("host"));
        List<SeriesState> held = shard.matching("m", filter, matches);
        assertEquals(2, held.size());
        assertEquals(1, shard.indexCount());

        List<Window> closed = shard.close(WINDOW + LATENESS, 1);
        assertEquals(series, closed.size());
        for (Window w : closed) {
            int i = Integer.parseInt(w.series().tag("host").substring(1));
            assertEquals(2, w.aggregate().count(), w.series().toString());
            assertEquals(3.0 * i, w.aggregate().sum(), w.series().toString());
            assertTrue(held.stream().noneMatch(s -> s == w.aggregate()), "a held state is not a window's aggregate");
        }
        for (SeriesState s : held) {
            assertTrue(s.live(), "it lingers");
            assertEquals(0, s.count(), "the index's state holds no values");
        }
        assertEquals(series, shard.lingering());
        assertEquals(List.of(), shard.matching("m", filter, matches), "a lingering series is no query's candidate");
    }

    /**
     * A series whose metric has no tag index keeps its state when it leaves: its last window goes out with the values,
     * and the empty state lingers, listed nowhere, until the series' next point takes it back.
     */
    @Test
    void aSeriesLeavingWithoutATagIndexOfItsMetricKeepsItsStateForItsReturn() {
        Shard shard = new Shard(WINDOW, LATENESS, new SeriesBudget(1_000_000));
        for (int i = 0; i < TagIndexes.INDEX_FROM; i++) {
            shard.record(part(SeriesKey.of("m", Map.of("host", "h" + i)), 1, 30_000));
        }
        assertEquals(1, shard.snapshot("m", Map.of("host", List.of("h1")), k -> "h1".equals(k.tag("host")), 0,
                Long.MAX_VALUE).size());
        assertEquals(1, shard.indexCount(), "another metric's index");
        SeriesKey key = SeriesKey.of("cpu", Map.of("host", "a"));
        shard.record(part(key, 4, 1_000));
        SeriesState state = shard.matching("cpu", Map.of(), k -> true).get(0);
        List<Window> closed = shard.close(WINDOW + LATENESS, 1);
        assertEquals(1, closed.size());
        assertTrue(closed.get(0).aggregate() != state);
        assertEquals(4, closed.get(0).aggregate().sum());
        assertEquals(0, state.count(), "the lingering state holds no values");
        assertEquals(List.of(), shard.matching("cpu", Map.of(), k -> true));
        assertEquals(1, shard.lingering());

        shard.record(part(key, 5, 11_000));
        assertEquals(List.of(state), shard.matching("cpu", Map.of(), k -> true), "back in its own state");
        assertEquals(0, shard.lingering());
        assertEquals(5, shard.closeAll(100_000, 2).get(0).aggregate().sum());
    }

    /**
     * A series that lingers while a tag index of its metric is built comes back into that index once; one that leaves
     * while its metric has an index lingers in it, and comes back into its own state and number, found once.
     */
    @Test
    void aSeriesBackFromLingeringIsFoundOnceThroughATagIndex() {
        Shard shard = new Shard(WINDOW, LATENESS, new SeriesBudget(1_000_000));
        for (int i = 0; i < TagIndexes.INDEX_FROM; i++) {
            shard.record(part(SeriesKey.of("m", Map.of("host", "h" + i)), 1, 90_000));
        }
        SeriesKey x = SeriesKey.of("m", Map.of("host", "x"));
        Map<String, List<String>> byHost = Map.of("host", List.of("x"));
        shard.record(part(x, 1, 1_000));
        shard.close(WINDOW + LATENESS, 1);
        assertEquals(1, shard.lingering());
        assertEquals(0, shard.snapshot("m", byHost, k -> x.equals(k), 0, Long.MAX_VALUE).size());
        assertEquals(1, shard.indexCount(), "built while x lingered");

        shard.record(part(x, 2, 11_000));
        assertEquals(List.of("m{host=x}@10000=1"),
                describe(shard.snapshot("m", byHost, k -> x.equals(k), 0, Long.MAX_VALUE)));
        SeriesState state = shard.matching("m", byHost, k -> x.equals(k)).get(0);
        int number = state.number;
        shard.close(2 * WINDOW + LATENESS, 2);
        assertEquals(1, shard.lingering(), "x lingers in the index");
        assertEquals(0, shard.snapshot("m", byHost, k -> x.equals(k), 0, Long.MAX_VALUE).size());
        shard.record(part(x, 3, 21_000));
        assertEquals(List.of("m{host=x}@20000=1"),
                describe(shard.snapshot("m", byHost, k -> x.equals(k), 0, Long.MAX_VALUE)));
        assertEquals(List.of(state), shard.matching("m", byHost, k -> x.equals(k)), "its own state, once");
        assertEquals(number, state.number);
        assertEquals(1, shard.indexCount());
    }

    private static List<String> describe(List<Window> windows) {
        List<String> out = new ArrayList<>();
        for (Window w : windows) {
            out.add(w.series() + "@" + w.start() + "=" + w.aggregate().count());
        }
        java.util.Collections.sort(out);
        return out;
    }

    @Test
    void equalKeysOfDifferentInstancesAreOneSeries() {
        Shard shard = new Shard(WINDOW, LATENESS, new SeriesBudget(10));
        SeriesKey one = SeriesKey.of("cpu", Map.of("host", "a", "dc", "x"));
        SeriesKey other = SeriesKey.of("cpu", Map.of("dc", "x", "host", "a"));

        shard.record(part(one, 1, 1_000));
        shard.record(part(other, 2, 1_000));
        shard.record(part(one, 3, 1_000));

        List<Window> windows = shard.closeAll(100_000, 1);
        assertEquals(1, windows.size());
        assertEquals(3, windows.get(0).aggregate().count());
        assertEquals(6, windows.get(0).aggregate().sum());
    }

    @Test
    void oneKeyInstanceInTwoShardsKeepsTheirStatesApart() {
        Shard a = new Shard(WINDOW, LATENESS, new SeriesBudget(10));
        Shard b = new Shard(WINDOW, LATENESS, new SeriesBudget(10));
        SeriesKey key = SeriesKey.of("cpu", Map.of("host", "a"));

        a.record(part(key, 1, 1_000));
        b.record(part(key, 10, 1_000));
        a.record(part(key, 2, 1_000));
        b.record(part(key, 20, 1_000));
        b.record(part(key, 30, 1_000));

        assertEquals(3, a.closeAll(100_000, 1).get(0).aggregate().sum());
        assertEquals(60, b.closeAll(100_000, 1).get(0).aggregate().sum());
    }

    /**
     * One part brings more new series than the table holds before it grows, with the budget running out in its
     * middle: the series before the bound are taken (found again by fresh instances after the table grew), those
     * past it are refused, and each series taken leaves the table and the budget with its last window.
     */
    @Test
    void aPartThatGrowsTheTableAndMeetsTheBudgetKeepsEverySeriesItTook() {
        int limit = 3 * SeriesTable.INITIAL_CAPACITY;
        SeriesBudget budget = new SeriesBudget(limit);
        Shard shard = new Shard(WINDOW, LATENESS, budget);
        List<Point> points = new ArrayList<>();
        for (int i = 0; i < limit + 10; i++) {
            points.add(new Point(SeriesKey.of("cpu", Map.of("host", "h" + i)), i, 1_000, 1));
        }
        Batch b = new Batch(batch -> { }, points, new ArrayList<>(), null);
        b.validated(List.of(), 1);
        Shard.Recorded r = shard.aggregate(new Part(0, b, points), 0);
        assertEquals(limit, r.accepted());
        assertEquals(10, r.rejects().size());
        assertEquals(points.subList(0, limit), r.taken());
        assertEquals(limit, budget.active());

        for (int i = 0; i < limit + 10; i++) {
            SeriesKey fresh = SeriesKey.of("cpu", Map.of("host", "h" + i));
            assertEquals(i < limit ? 1 : 0, shard.openWindowCount(fresh), "series " + i);
        }
        List<Window> windows = shard.closeAll(100_000, 1);
        assertEquals(limit, windows.size());
        for (Window w : windows) {
            assertEquals(Double.parseDouble(w.series().tag("host").substring(1)), w.aggregate().sum());
        }
        assertEquals(0, budget.active(), "every series left with its window");
        assertEquals(List.of(), shard.series(null));
    }

    /**
     * Series reporting early in each window open the next window while the one before waits out the lateness: the
     * older windows come from the shard's spares once their first round closed, carry nothing from one window to the
     * next, number at most the series the shard holds, and go when the series do.
     */
    @Test
    void olderWindowsAreSparesReusedEmptyAndBoundedBySeries() {
        int early = 30;
        int late = 20;
        Shard shard = new Shard(WINDOW, LATENESS, new SeriesBudget(1_000));
        for (int cycle = 0; cycle < 6; cycle++) {
            long start = cycle * WINDOW;
            // The early ones in the window's first half, before the window before it closes.
            for (int i = 0; i < early; i++) {
                shard.record(part(SeriesKey.of("cpu", Map.of("host", "h" + i)), cycle * 1_000 + i, start + 1_000 + i));
            }
            assertEquals(0, shard.spareWindows(), "cycle " + cycle + ": the spares are taken again");
            List<Window> closed = shard.close(start + LATENESS, cycle + 1);
            assertEquals(cycle == 0 ? 0 : early + late, closed.size(), "cycle " + cycle);
            for (Window w : closed) {
                int i = Integer.parseInt(w.series().tag("host").substring(1));
                assertEquals(1, w.aggregate().count(), "cycle " + cycle + " series " + i);
                assertEquals((cycle - 1) * 1_000 + i, w.aggregate().sum(), "cycle " + cycle + " series " + i);
                assertEquals(start - WINDOW, w.start());
            }
            assertEquals(cycle == 0 ? 0 : early, shard.spareWindows(), "cycle " + cycle + ": one per early series");
            for (int i = early; i < early + late; i++) {
                shard.record(part(SeriesKey.of("cpu", Map.of("host", "h" + i)), cycle * 1_000 + i,
                        start + LATENESS + 1_000 + i));
            }
        }
        long end = 6 * WINDOW;
        List<Window> last = shard.close(end + LATENESS, 7);
        assertEquals(early + late, last.size());
        for (Window w : last) {
            int i = Integer.parseInt(w.series().tag("host").substring(1));
            assertEquals(5 * 1_000 + i, w.aggregate().sum(), "series " + i);
        }
        assertEquals(early, shard.spareWindows());
        // The series left, and once their lingering ends the shard holds none: no spare is kept for them.
        shard.close(end + LATENESS + (Shard.LINGER_WINDOWS + 1) * WINDOW, 8);
        assertEquals(0, shard.lingering());
        assertEquals(0, shard.spareWindows(), "spares go with the series");
    }
}
