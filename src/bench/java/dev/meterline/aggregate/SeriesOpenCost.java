package dev.meterline.aggregate;

import dev.meterline.model.Part;
import dev.meterline.model.SeriesKey;

import java.lang.management.ManagementFactory;
import java.util.List;

/**
 * What opening a series costs one shard, as `LoadGen` at 1 M series asks it: SERIES series (default 500 000, one of
 * two shards' share), four points each, sent in parts of 2 048 in the order the load generator's connections send
 * them, every point with a key instance of its own. Prints the bytes the shard's thread allocated per series (all
 * four points, and the first pass alone), the heap the shard holds per series afterwards, and its CPU per point. The
 * bytes depend on the build alone, not on the machine's load, so two builds compare in any sitting; the CPU does not.
 * Run from the bench classes: {@code java -Xmx2g -cp target/test-classes:target/classes:DEPS
 * dev.meterline.aggregate.SeriesOpenCost 500000 3}.
 */
public final class SeriesOpenCost {


    public static void main(String[] args) {
        int series = args.length > 0 ? Integer.parseInt(args[0]) : 500_000;
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 3;
        com.sun.management.ThreadMXBean threads =
                (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        Shard shard = null;
        List<Part> parts = null;
        for (int round = 1; round <= rounds; round++) {
            // The last round's shard and points are garbage before this round's baseline.
            shard = null;
            parts = null;
            parts = parts(series);
            long before = BenchParts.usedAfterGc();
            shard = new Shard(0, 10_000, 600_000, new SeriesBudget(2L * series), Shard.READ_AHEAD,
                    Shard.READ_AHEAD_FROM);
            long allocated0 = threads.getCurrentThreadAllocatedBytes();
            long cpu0 = threads.getCurrentThreadCpuTime();
            long firstPass = 0;
            for (int p = 0; p < parts.size(); p++) {
                shard.aggregate(parts.get(p), 0);
                if (p + 1 == parts.size() / 4) {
                    firstPass = threads.getCurrentThreadAllocatedBytes() - allocated0;
                }
            }
            long cpu = threads.getCurrentThreadCpuTime() - cpu0;
            long allocated = threads.getCurrentThreadAllocatedBytes() - allocated0;
            long held = BenchParts.usedAfterGc() - before;
            if (shard.openWindows() != series || parts.isEmpty()) {
                throw new IllegalStateException("open windows: " + shard.openWindows() + ", expected " + series);
            }
            System.out.printf("round %d, %d series: allocated %.1f B per series (first points %.1f), held %.1f B per"
                            + " series, CPU %.0f ns per point%n", round, series, allocated / (double) series,
                    firstPass / (double) series, held / (double) series, cpu / (4.0 * series));
        }
    }

    /** Four points per series, series after series as one connection cycles through its own, in parts. */
    private static List<Part> parts(int series) {
        BenchParts parts = new BenchParts();
        long now = 1_764_086_400_000L;
        for (int pass = 0; pass < 4; pass++) {
            for (int i = 0; i < series; i++) {
                parts.add(SeriesKey.ofPairs("bench.m" + (i % 10),
                        new String[]{"host", "h" + i, "region", "r" + (i % 7), "svc", "api"}, 3),
                        ((i * 7919L) % 10_000) / 10.0, now);
            }
        }
        return parts.parts();
    }

}
