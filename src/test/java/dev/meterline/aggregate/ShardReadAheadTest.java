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
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Reading a part's next points ahead changes nothing of what a shard aggregates: shards that read ahead at different
 * distances, from any table size or only from large tables, answer every part and every close exactly like a shard
 * that never reads ahead, through new series, other instances of a key, late points, the budget's bound and closes.
 */
class ShardReadAheadTest {

    private static final long WINDOW = 10_000;
    private static final long LATENESS = 5_000;
    private static final int SERIES = 9_000;
    private static final int BUDGET = 7_000;

    private static String describe(Shard.Recorded r) {
        StringBuilder b = new StringBuilder().append(r.accepted()).append(" late ").append(r.late());
        if (r.rejects() != null) {
            r.rejects().forEach(x -> b.append(" reject ").append(x.line()).append(' ').append(x.reason()));
        }
        r.taken().forEach(p -> b.append(" took ").append(p.line()));
        return b.toString();
    }

    private static List<String> describe(List<Window> windows) {
        List<String> out = new ArrayList<>();
        for (Window w : windows) {
            out.add(w.series() + "@" + w.start() + " " + w.complete() + " " + w.aggregate() + " p50="
                    + w.aggregate().valueAtQuantile(0.5) + " late=" + w.aggregate().late());
        }
        return out;
    }

    @Test
    void shardsReadingAheadAggregateExactlyLikeOneThatDoesNot() {
        SplittableRandom rnd = new SplittableRandom(11);
        SeriesKey[][] instances = new SeriesKey[SERIES][2];
        for (int s = 0; s < SERIES; s++) {
            for (int c = 0; c < 2; c++) {
                instances[s][c] = SeriesKey.of("m" + (s % 13), Map.of("host", "h" + s));
            }
        }
        Shard never = new Shard(0, WINDOW, LATENESS, new SeriesBudget(BUDGET), 8, Integer.MAX_VALUE);
        List<Shard> reading = List.of(
                new Shard(0, WINDOW, LATENESS, new SeriesBudget(BUDGET)),
                new Shard(0, WINDOW, LATENESS, new SeriesBudget(BUDGET), 2, 0),
                new Shard(0, WINDOW, LATENESS, new SeriesBudget(BUDGET), 5, 0),
                new Shard(0, WINDOW, LATENESS, new SeriesBudget(BUDGET), 16, 0));
        Batch batch = new Batch(b -> { }, List.of(), new ArrayList<>(), null);
        long now = 1_000_000;
        int line = 0;
        for (int round = 0; round < 240; round++) {
            int n = rnd.nextInt(10) == 0 ? 1 + rnd.nextInt(16) : 1 + rnd.nextInt(1_500);
            // A burst of new series now and then, else mostly series seen before, some more than once per part.
            int span = round % 50 < 5 ? SERIES : 3_000;
            List<Point> points = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                int s = rnd.nextInt(span);
                SeriesKey key = rnd.nextInt(100) == 0 ? SeriesKey.of("m" + (s % 13), Map.of("host", "h" + s))
                        : instances[s][rnd.nextInt(10) == 0 ? 1 : 0];
                long t = rnd.nextInt(20) == 0 ? now - rnd.nextLong(40_000) : now + rnd.nextLong(500);
                points.add(new Point(key, rnd.nextInt(1_000) - 100, t, ++line));
            }
            Part part = new Part(0, batch, points);
            String expected = describe(never.aggregate(part, round));
            for (Shard shard : reading) {
                assertEquals(expected, describe(shard.aggregate(part, round)), "part " + round);
            }
            now += rnd.nextInt(400);
            if (round % 25 == 24) {
                List<String> closed = describe(never.close(now - 20_000, round));
                for (Shard shard : reading) {
                    assertEquals(closed, describe(shard.close(now - 20_000, round)), "close after part " + round);
                }
            }
        }
        assertEquals(0, never.touched(), "the shard told never to read ahead did not");
        List<String> rest = describe(never.closeAll(now, 999));
        assertTrue(rest.size() > 1_000, "windows left open: " + rest.size());
        for (Shard shard : reading) {
            // The sum of what it read, key hashes included, so of either sign.
            assertNotEquals(0, shard.touched(), "a shard that reads ahead did");
            assertEquals(rest, describe(shard.closeAll(now, 999)));
            assertEquals(never.latePoints(), shard.latePoints());
        }
        assertTrue(never.latePoints() > 0, "late points were among them");
    }

    @Test
    void aDistanceBelowTwoIsRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new Shard(0, WINDOW, LATENESS, new SeriesBudget(1), 1, 0));
        assertEquals("readAhead: 1 (expected: >= 2)", e.getMessage());
    }
}
