package dev.meterline.aggregate;

import dev.meterline.model.SeriesKey;
import dev.meterline.model.Window;
import reactor.core.scheduler.Schedulers;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * The cost of preparing one pending flush for a dashboard's query: shards hold {@code --series} series
 * ({@link dev.meterline.bench.Steady}'s: ten metrics, tags host, region and svc, their keys made in random order as
 * ingest scatters them), every series' window closes at once, and a query of one series of one metric reads each
 * flush, so that the next is prepared (grouped by metric and indexed by host) as it is registered, on the calling
 * thread here. Prints each round's close of every shard (one after the other here, at once in a server), the
 * preparation, the query's view after it and a label listing's sets of tag keys of the flush, and their medians. Runs against an older jar too, whose shards' close
 * takes no index keys; {@code --index false} has the shards close without them.
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
        boolean index = true;
        for (int i = 0; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--series" -> series = Integer.parseInt(args[i + 1]);
                case "--shards" -> shardCount = Integer.parseInt(args[i + 1]);
                case "--rounds" -> rounds = Integer.parseInt(args[i + 1]);
                case "--index" -> index = Boolean.parseBoolean(args[i + 1]);
                default -> throw new IllegalArgumentException("unknown option: " + args[i]
                        + " (expected: --series, --shards, --rounds, --index)");
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
        pending.prepareOn(Schedulers.immediate());
        Map<String, List<String>> byHost = Map.of("host", List.of("h13"));
        long[] closing = new long[rounds];
        long[] preparing = new long[rounds];
        long[] querying = new long[rounds];
        long[] listing = new long[rounds];
        long start = 1_800_000_000_000L;
        for (int r = 0; r < rounds; r++) {
            long ts = start + r * WINDOW;
            for (int i : order) {
                SeriesKey key = keys[i];
                shards[Math.floorMod(key.hashCode(), shardCount)].replay(key, ts + i % 1000, i, 0);
            }
            long began = System.nanoTime();
            List<List<Window>> closed = new ArrayList<>();
            for (Shard shard : shards) {
                closed.add(index ? close(shard, ts + WINDOW, r + 1, pending) : shard.close(ts + WINDOW, r + 1));
            }
            long registering = System.nanoTime();
            pending.register(r + 1, JoinedWindows.of(closed));
            long asking = System.nanoTime();
            int found = pending.view("bench.m3", byHost).get(r + 1L).size();
            long answered = System.nanoTime();
            int sets = pending.tagKeySets().size();
            long listed = System.nanoTime();
            pending.remove(r + 1);
            closing[r] = registering - began;
            preparing[r] = asking - registering;
            querying[r] = answered - asking;
            listing[r] = listed - answered;
            System.out.printf("round %d: %d windows closed in %.1f ms, prepared in %.1f ms, then the query's view "
                    + "(%d of h13) in %.2f ms, the sets of tag keys (%d) in %.2f ms%n", r + 1, series,
                    closing[r] / 1e6, preparing[r] / 1e6, found, querying[r] / 1e6, sets, listing[r] / 1e6);
        }
        System.out.printf("rounds 3-%d: close %s, preparation %s, query %s, tag key sets %s%n", rounds,
                median(closing), median(preparing), median(querying), median(listing));
    }

    /** The shard's close, given the index keys the pending flushes ask for when the shard takes them. */
    private static List<Window> close(Shard shard, long cutoff, long seq, PendingFlushes pending) {
        try {
            return shard.close(cutoff, seq, pending.indexKeys());
        } catch (NoSuchMethodError olderJar) {
            return shard.close(cutoff, seq);
        }
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
