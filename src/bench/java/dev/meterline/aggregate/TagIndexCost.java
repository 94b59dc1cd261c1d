package dev.meterline.aggregate;

import dev.meterline.model.Part;
import dev.meterline.model.SeriesKey;

import java.util.List;
import java.util.Map;

/**
 * What a tag index holds per series: one shard given SERIES series (default 500 000) of one metric with a host each,
 * as a dashboard polling one host of a large metric makes it keep one, against the same shard with no query. Prints
 * the heap held per series both ways and the difference, the index's share. Depends on the build alone, not on the
 * machine's load. Run from the bench classes: {@code java -Xmx2g -cp target/test-classes:target/classes:DEPS
 * dev.meterline.aggregate.TagIndexCost 500000}.
 */
public final class TagIndexCost {


    public static void main(String[] args) {
        int series = args.length > 0 ? Integer.parseInt(args[0]) : 500_000;
        for (int round = 1; round <= 2; round++) {
            double plain = held(series, false);
            double indexed = held(series, true);
            System.out.printf("round %d, %d series: held %.1f B per series without a query, %.1f B with an index by"
                    + " host, the index %.1f B per series%n", round, series, plain, indexed, indexed - plain);
        }
    }

    /** The heap one shard holds per series after all came, with or without a query by host once 2 048 had come. */
    private static double held(int series, boolean query) {
        List<Part> parts = parts(series);
        long before = BenchParts.usedAfterGc();
        Shard shard = new Shard(0, 10_000, 600_000, new SeriesBudget(2L * series), Shard.READ_AHEAD,
                Shard.READ_AHEAD_FROM);
        for (int p = 0; p < parts.size(); p++) {
            shard.aggregate(parts.get(p), 0);
            if (query && p == 0) {
                if (shard.matching("bench.m0", Map.of("host", List.of("h0")), k -> true).size() != 1) {
                    throw new IllegalStateException("the query found no series h0");
                }
            }
        }
        parts = null;
        long held = BenchParts.usedAfterGc() - before;
        if (shard.openWindows() != series) {
            throw new IllegalStateException("open windows: " + shard.openWindows() + ", expected " + series);
        }
        return held / (double) series;
    }

    /** One point per series, each with a key instance of its own, in parts. */
    private static List<Part> parts(int series) {
        BenchParts parts = new BenchParts();
        long now = 1_764_086_400_000L;
        for (int i = 0; i < series; i++) {
            parts.add(SeriesKey.ofPairs("bench.m0",
                    new String[]{"host", "h" + i, "region", "r" + (i % 7), "svc", "api"}, 3), i % 1000, now);
        }
        return parts.parts();
    }

}
