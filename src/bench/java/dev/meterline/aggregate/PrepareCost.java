package dev.meterline.aggregate;

import dev.meterline.model.SeriesKey;
import dev.meterline.model.Window;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * The cost of preparing one pending flush for a dashboard's query: shards hold {@code --series} series
 * ({@link dev.meterline.bench.Steady}'s: ten metrics, tags host, region and svc, their keys made in random order as
 * ingest scatters them), every series' window closes at once, and the first query of one series of one metric
 * groups the flush by metric and indexes the metric's windows by host, the work {@code meterline-prepare} does
 * ahead of it. Prints each round's time of the grouping (the view of the metric) and then of the index (the view of
 * the series), and their medians.
 *
 * <pre>java -cp target/test-classes:target/meterline.jar dev.meterline.aggregate.PrepareCost --series 1000000</pre>
 */
public final class PrepareCost {

    private static final long WINDOW = 10_000;

    private PrepareCost() {
    }

    public static void main(String[] args) {
        int series = 1_000_000;
        int shardCount = 2;
        int rounds = 12;
        for (int i = 0; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--series" -> series = Integer.parseInt(args[i + 1]);
                case "--shards" -> shardCount = Integer.parseInt(args[i + 1]);
                case "--rounds" -> rounds = Integer.parseInt(args[i + 1]);
                default -> throw new IllegalArgumentException("unknown option: " + args[i]
                        + " (expected: --series, --shards, --rounds)");
            }
        }
        Random random = new Random(42);
        SeriesKey[] keys = new SeriesKey[series];
        for (int i : shuffled(series, random)) {
            keys[i] = SeriesKey.of("bench.m" + i % 10, Map.of("host", "h" + i, "region", "r" + i % 7,
                    "svc", "api"));
        }
        Shard[] shards = new Shard[shardCount];
        for (int i = 0; i < shardCount; i++) {
            shards[i] = new Shard(i, WINDOW, 0, new SeriesBudget(2L * series));
        }
        int[] order = shuffled(series, random);
        PendingFlushes pending = new PendingFlushes();
        Map<String, List<String>> byHost = Map.of("host", List.of("h13"));
        long[] grouping = new long[rounds];
        long[] indexing = new long[rounds];
        long start = 1_800_000_000_000L;
        for (int r = 0; r < rounds; r++) {
            long ts = start + r * WINDOW;
            for (int i : order) {
                SeriesKey key = keys[i];
                shards[Math.floorMod(key.hashCode(), shardCount)].replay(key, ts + i % 1000, i, 0);
            }
            List<List<Window>> closed = new ArrayList<>();
            for (Shard shard : shards) {
                closed.add(shard.close(ts + WINDOW, r + 1));
            }
            pending.register(r + 1, JoinedWindows.of(closed));
            long began = System.nanoTime();
            int metricWindows = pending.view("bench.m3").get(r + 1L).size();
            long grouped = System.nanoTime();
            int seriesWindows = pending.view("bench.m3", byHost).get(r + 1L).size();
            grouping[r] = grouped - began;
            indexing[r] = System.nanoTime() - grouped;
            pending.remove(r + 1);
            System.out.printf("round %d: %d windows grouped in %.1f ms, %d of bench.m3 indexed by host in %.1f ms "
                    + "(%d of h13)%n", r + 1, series, grouping[r] / 1e6, metricWindows, indexing[r] / 1e6,
                    seriesWindows);
        }
        System.out.printf("rounds 3-%d: grouping %s, index %s%n", rounds, median(grouping), median(indexing));
    }

    /** The median of rounds 3 on, and their range, in ms: the first two warm the code up. */
    private static String median(long[] nanos) {
        long[] sorted = Arrays.copyOfRange(nanos, 2, nanos.length);
        Arrays.sort(sorted);
        return String.format("%.1f ms (%.1f-%.1f)", sorted[sorted.length / 2] / 1e6, sorted[0] / 1e6,
                sorted[sorted.length - 1] / 1e6);
    }

    private static int[] shuffled(int n, Random random) {
        int[] a = new int[n];
        for (int i = 0; i < n; i++) {
            a[i] = i;
        }
        for (int i = n - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
        return a;
    }
}
