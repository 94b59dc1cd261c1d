package dev.meterline.validate;

import dev.meterline.config.ValidationConfig;
import dev.meterline.model.Batch;
import dev.meterline.model.Part;
import dev.meterline.model.Point;
import dev.meterline.model.Reject;
import dev.meterline.model.RejectReason;
import dev.meterline.model.SeriesKey;
import dev.meterline.telemetry.PipelineMetrics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;
import reactor.core.scheduler.Schedulers;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

/**
 * The stage splits a batch into one part per shard: each part holds exactly that shard's good points, in input
 * order, and the bad ones become the batch's rejects.
 */
class ValidationStageTest {

    private static final long NOW = 10_000_000;

    private static ValidationStage stage(int shards) {
        Validator validator = new Validator(new ValidationConfig(8, Duration.ofMinutes(10), Duration.ofDays(1), List.of(), 1));
        return new ValidationStage(validator, 1, shards, Schedulers.immediate(), () -> NOW,
                new PipelineMetrics(new SimpleMeterRegistry()));
    }

    private static List<Point> points(int n, long seed, boolean withBad) {
        SplittableRandom random = new SplittableRandom(seed);
        List<Point> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            SeriesKey key = SeriesKey.of("m", Map.of("host", "h" + random.nextInt(50)));
            long ts = NOW - random.nextInt(1000);
            if (withBad && random.nextInt(5) == 0) {
                ts = NOW + Duration.ofDays(1).toMillis(); // too far ahead
            }
            out.add(new Point(key, i, ts, i + 1));
        }
        return out;
    }

    /** What the split must give: per shard, the good points in input order. */
    private static List<List<Point>> expected(List<Point> points, int shards) {
        List<List<Point>> byShard = new ArrayList<>();
        for (int s = 0; s < shards; s++) {
            byShard.add(new ArrayList<>());
        }
        for (Point p : points) {
            if (p.timestamp() <= NOW) {
                byShard.get(SeriesKey.shard(p.seriesHash(), shards)).add(p);
            }
        }
        return byShard;
    }

    /** As {@link #assertSplit(int, List, boolean)}, for the batch without a summary and with one. */
    private static void assertSplit(int shards, List<Point> points) {
        assertSplit(shards, points, false);
        assertSplit(shards, points, true);
    }

    /**
     * Splits the points as a batch, {@code summarized} with their hashes (in an array longer than the points) and
     * timestamps' bounds as a session notes them, and compares the parts and rejects with what they must be.
     */
    private static void assertSplit(int shards, List<Point> points, boolean summarized) {
        Batch batch = new Batch(b -> { }, points, new ArrayList<>(), null);
        if (summarized) {
            int[] hashes = new int[points.size() + 3];
            for (int i = 0; i < points.size(); i++) {
                hashes[i] = points.get(i).seriesHash();
            }
            batch.summarize(hashes, points.stream().mapToLong(Point::timestamp).min().orElseThrow(),
                    points.stream().mapToLong(Point::timestamp).max().orElseThrow());
        }
        List<Part> parts = stage(shards).split(batch);
        List<List<Point>> want = expected(points, shards);
        int next = 0;
        for (int s = 0; s < shards; s++) {
            if (want.get(s).isEmpty()) {
                continue;
            }
            Part part = parts.get(next++);
            assertEquals(s, part.shard());
            assertSame(batch, part.batch());
            assertEquals(want.get(s), List.copyOf(part.points()), "shard " + s);
        }
        assertEquals(next, parts.size(), "one part per shard with good points");
        List<Integer> rejected = batch.rejects().stream().map(Reject::line).toList();
        List<Integer> bad = points.stream().filter(p -> p.timestamp() > NOW).map(Point::line).toList();
        assertEquals(bad, rejected);
        batch.rejects().forEach(r -> assertEquals(RejectReason.TIMESTAMP_IN_FUTURE, r.reason()));
    }

    @Test
    void eachShardGetsItsGoodPointsInInputOrder() {
        for (int shards : new int[] {1, 2, 3, 8}) {
            for (long seed = 1; seed <= 20; seed++) {
                assertSplit(shards, points(1 + (int) (seed * 37 % 300), seed, false));
                assertSplit(shards, points(1 + (int) (seed * 53 % 300), seed, true));
            }
        }
    }

    /** A summary's bounds just inside and just outside what the clock accepts: the points are checked alike. */
    @Test
    void pointsAtTheBoundsAreCheckedAsWithoutASummary() {
        SeriesKey a = SeriesKey.of("m", Map.of("host", "a"));
        SeriesKey b = SeriesKey.of("m", Map.of("host", "b"));
        long oldest = NOW - Duration.ofDays(1).toMillis();
        long newest = NOW + Duration.ofMinutes(10).toMillis();
        for (long[] ts : new long[][] {{oldest, newest}, {oldest - 1, newest}, {oldest, newest + 1}, {NOW, NOW}}) {
            List<Point> points = List.of(new Point(a, 1, ts[0], 1), new Point(b, 2, ts[1], 2), new Point(a, 3, NOW, 3));
            for (int shards : new int[] {1, 2, 4}) {
                Batch plain = new Batch(x -> { }, points, new ArrayList<>(), null);
                Batch summarized = new Batch(x -> { }, points, new ArrayList<>(), null);
                summarized.summarize(new int[] {a.hashCode(), b.hashCode(), a.hashCode()}, Math.min(ts[0], ts[1]),
                        Math.max(NOW, Math.max(ts[0], ts[1])));
                List<Part> want = stage(shards).split(plain);
                List<Part> got = stage(shards).split(summarized);
                assertEquals(want.size(), got.size());
                for (int k = 0; k < want.size(); k++) {
                    assertEquals(want.get(k).shard(), got.get(k).shard());
                    assertEquals(List.copyOf(want.get(k).points()), List.copyOf(got.get(k).points()));
                }
                assertEquals(plain.rejects(), summarized.rejects());
            }
        }
    }

    @Test
    void aBatchWhosePointsAllGoToOneShardIsThatShardsPart() {
        List<Point> points = points(40, 7, false);
        Batch batch = new Batch(b -> { }, points, new ArrayList<>(), null);
        List<Part> parts = stage(1).split(batch);
        assertEquals(1, parts.size());
        assertSame(points, parts.get(0).points());
    }

    @Test
    void aBatchWithOnlyBadPointsHasNoParts() {
        long future = NOW + Duration.ofDays(1).toMillis();
        SeriesKey key = SeriesKey.of("m", Map.of());
        List<Point> points = List.of(new Point(key, 1, future, 1), new Point(key, 2, future, 2));
        List<Batch> completed = new ArrayList<>();
        Batch batch = new Batch(completed::add, points, new ArrayList<>(), null);
        assertEquals(List.of(), stage(4).split(batch));
        assertEquals(List.of(batch), completed, "a batch with nothing left to aggregate completes at once");
        assertEquals(2, batch.rejects().size());
    }
}
