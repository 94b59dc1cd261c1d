package dev.meterline.aggregate;

import dev.meterline.model.Batch;
import dev.meterline.model.Part;
import dev.meterline.model.Point;
import dev.meterline.model.SeriesKey;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A shard's series numbers: each live series keeps one number while the shard keeps it, no two live series share
 * one, numbers stay below the most series the shard ever held at once, a number goes to another series only after
 * its series left, and each such number is reported to the log exactly once (parts that never reached it included);
 * a series that comes back within a window of leaving gets its own number back, unreported.
 */
class ShardNumbersTest {

    private static final long WINDOW = 10_000;
    private static final long LATENESS = 5_000;

    private static Part part(List<Point> points) {
        Batch b = new Batch(batch -> { }, points, new ArrayList<>(), null);
        b.validated(List.of(), 1);
        return new Part(0, b, points);
    }

    @Test
    void numbersAreDenseKeptWhileTheSeriesLivesAndReportedOnceWhenGivenAgain() {
        SplittableRandom rnd = new SplittableRandom(41);
        int budgetLimit = 900;
        Shard shard = new Shard(0, WINDOW, LATENESS, new SeriesBudget(budgetLimit), 4, 16);
        Map<SeriesKey, Integer> live = new HashMap<>();
        // Numbers some series held and left: the only ones that may be given again.
        Set<Integer> freed = new HashSet<>();
        // Of those, by number, the series that left with it: its own again when it comes back, and not reported.
        Map<Integer, SeriesKey> leftBy = new HashMap<>();
        int returned = 0;
        List<Integer> expectedReport = new ArrayList<>();
        int peak = 0;
        int neverGiven = 0;
        int givenAgain = 0;
        int rejected = 0;
        long now = 100_000;
        for (int step = 0; step < 300; step++) {
            int n = 1 + rnd.nextInt(300);
            List<Point> points = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                SeriesKey key = SeriesKey.of("m" + rnd.nextInt(3), Map.of("host", "h" + rnd.nextInt(1_500)));
                points.add(new Point(key, i, now - rnd.nextInt(8_000), i + 1));
            }
            Shard.Recorded r = shard.aggregate(part(points), 0);
            rejected += r.rejects() == null ? 0 : r.rejects().size();
            assertEquals(r.taken().size(), r.numbers().length, "one number per point taken");
            Set<Integer> held = new HashSet<>(live.values());
            for (int i = 0; i < r.numbers().length; i++) {
                SeriesKey key = r.taken().get(i).series();
                int number = r.numbers()[i];
                Integer had = live.get(key);
                if (had != null) {
                    assertEquals(had.intValue(), number, "a live series keeps its number: " + key);
                    continue;
                }
                assertFalse(held.contains(number), "number " + number + " is another live series'");
                if (key.equals(leftBy.remove(number))) {
                    assertTrue(freed.remove(number));
                    returned++;
                } else if (freed.remove(number)) {
                    expectedReport.add(number);
                    givenAgain++;
                } else {
                    assertEquals(neverGiven++, number, "a number never given is the next one up");
                }
                live.put(key, number);
                held.add(number);
            }
            peak = Math.max(peak, live.size());
            assertTrue(shard.numberBound() <= peak, shard.numberBound() + " numbers for at most " + peak + " series");
            if (rnd.nextInt(5) != 0) {
                // A part that failed before reaching the log reports nothing; the next call reports its numbers.
                int[] reported = shard.takeRenumbered();
                assertArrayEquals(expectedReport.stream().mapToInt(Integer::intValue).toArray(), reported);
                expectedReport.clear();
                assertEquals(0, shard.takeRenumbered().length, "each number is reported once");
            }
            now += 2_000;
            if (step % 4 == 3) {
                shard.close(now - rnd.nextInt(20_000), step);
                Set<SeriesKey> still = new HashSet<>(shard.series(null));
                for (var it = live.entrySet().iterator(); it.hasNext(); ) {
                    var e = it.next();
                    if (!still.contains(e.getKey())) {
                        freed.add(e.getValue());
                        leftBy.put(e.getValue(), e.getKey());
                        it.remove();
                    }
                }
                assertEquals(still, live.keySet());
            }
        }
        assertTrue(givenAgain > 1_000, "numbers given again: " + givenAgain);
        assertTrue(returned > 100, "series back under their own numbers: " + returned);
        assertTrue(rejected > 0, "parts met the budget");
        assertTrue(peak <= budgetLimit);
    }

    @Test
    void replayedSeriesTakeNumbersTheSameWayWithoutReportingThem() {
        Shard shard = new Shard(0, WINDOW, LATENESS, new SeriesBudget(10), 4, 16);
        SeriesKey a = SeriesKey.of("m", Map.of("host", "a"));
        SeriesKey b = SeriesKey.of("m", Map.of("host", "b"));
        shard.replay(a, 1_000, 1, 0);
        shard.close(WINDOW + LATENESS, 1);
        shard.replay(b, 21_000, 1, 0);
        assertEquals(1, shard.numberBound(), "b took a's number");
        assertEquals(0, shard.takeRenumbered().length, "replay reports nothing");

        SeriesKey c = SeriesKey.of("m", Map.of("host", "c"));
        shard.close(100_000, 2);
        Shard.Recorded r = shard.aggregate(part(List.of(new Point(c, 1, 121_000, 1))), 0);
        assertArrayEquals(new int[] {0}, r.numbers());
        assertEquals(List.of(0), Arrays.stream(shard.takeRenumbered()).boxed().toList());
    }

    private static Part part(SeriesKey key, long timestamp) {
        return part(List.of(new Point(key, 1, timestamp, 1)));
    }

    @Test
    void aSeriesReportingLateInEachWindowKeepsItsNumberAcrossTheFlushesItLeavesAt() {
        SeriesBudget budget = new SeriesBudget(10);
        Shard shard = new Shard(0, WINDOW, LATENESS, budget, 4, 16);
        SeriesKey a = SeriesKey.of("m", Map.of("host", "a"));
        for (long start = 0; start < 10 * WINDOW; start += WINDOW) {
            // a's point comes after its previous window closed, so a left the shard in between.
            Shard.Recorded r = shard.aggregate(part(a, start + 8_000), 0);
            assertArrayEquals(new int[] {0}, r.numbers(), "a keeps its number in window " + start);
            assertEquals(0, shard.takeRenumbered().length, "nothing to forget: the number is still a's");
            assertEquals(0, shard.lingering());
            shard.close(start + WINDOW + LATENESS, start);
            // What a user sees is as before: a has no open window, is listed nowhere and takes no budget.
            assertEquals(1, shard.lingering());
            assertEquals(List.of(), shard.series(null));
            assertEquals(0, shard.openWindows());
            assertEquals(0, budget.active());
        }
        assertEquals(1, shard.numberBound());
    }

    @Test
    void aSeriesThatMissesAWindowGivesItsNumberUpToTheNextNewSeries() {
        Shard shard = new Shard(0, WINDOW, LATENESS, new SeriesBudget(10), 4, 16);
        SeriesKey a = SeriesKey.of("m", Map.of("host", "a"));
        SeriesKey b = SeriesKey.of("m", Map.of("host", "b"));
        shard.aggregate(part(a, 8_000), 0);
        shard.close(WINDOW + LATENESS, 1);
        shard.close(2 * WINDOW + LATENESS - 1, 2);
        assertEquals(1, shard.lingering(), "a lingers until the cutoff has passed one more window");
        shard.close(2 * WINDOW + LATENESS, 3);
        assertEquals(0, shard.lingering(), "a missed its next window: its number is free");

        assertArrayEquals(new int[] {0}, shard.aggregate(part(b, 28_000), 0).numbers());
        assertArrayEquals(new int[] {0}, shard.takeRenumbered(), "a's number went to b");
        assertArrayEquals(new int[] {1}, shard.aggregate(part(a, 28_000), 0).numbers(), "a is a new series");
        assertEquals(0, shard.takeRenumbered().length);
    }

    @Test
    void aNewSeriesTakesTheNumberOfTheSeriesLingeringLongestRatherThanANewOne() {
        SeriesBudget budget = new SeriesBudget(2);
        Shard shard = new Shard(0, WINDOW, LATENESS, budget, 4, 16);
        SeriesKey a = SeriesKey.of("m", Map.of("host", "a"));
        SeriesKey b = SeriesKey.of("m", Map.of("host", "b"));
        SeriesKey c = SeriesKey.of("m", Map.of("host", "c"));
        shard.aggregate(part(a, 8_000), 0);
        shard.aggregate(part(b, 9_000), 0);
        shard.close(WINDOW + LATENESS, 1);
        assertEquals(2, shard.lingering());
        assertEquals(0, budget.active(), "lingering series take no budget");

        Shard.Recorded r = shard.aggregate(part(c, 16_000), 0);
        assertEquals(null, r.rejects(), "a new series is never refused for lingering ones");
        assertArrayEquals(new int[] {0}, r.numbers(), "c takes a's number: a lingered longest");
        assertArrayEquals(new int[] {0}, shard.takeRenumbered());
        assertEquals(1, shard.lingering());
        assertArrayEquals(new int[] {1}, shard.aggregate(part(b, 17_000), 0).numbers(), "b is back under its own");
        assertEquals(0, shard.takeRenumbered().length);
        assertEquals(1, shard.aggregate(part(a, 17_000), 0).rejects().size(), "a, back, meets the budget");
        assertEquals(0, shard.takeRenumbered().length);
        assertEquals(2, shard.numberBound(), "numbers stay below the most series held at once");
    }
}
