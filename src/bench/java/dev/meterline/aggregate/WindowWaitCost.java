package dev.meterline.aggregate;

import dev.meterline.model.Part;
import dev.meterline.model.SeriesKey;
import dev.meterline.model.Window;

import java.lang.management.ManagementFactory;
import java.util.List;

/**
 * What a closed window waiting for its flush costs one shard, as `Steady` asks it: SERIES series (default 500 000)
 * with one point in a window, then one point each in the next window (so every series has two open windows), then
 * the first window closed. Prints the bytes the shard's thread allocated per series while the next window's points
 * came and while the first closed, and the heap held per series beyond the first window, with two windows open and
 * with the first closed and waiting (what a young collection copies while the windows wait for their flush). The bytes depend on the build alone, not on the machine's load, so two builds compare in any
 * sitting. Run from the bench classes: {@code java -Xmx3g -cp target/test-classes:target/classes:DEPS
 * dev.meterline.aggregate.WindowWaitCost 500000 3}.
 */
public final class WindowWaitCost {

    private static final long RESOLUTION = 10_000;
    private static final long LATENESS = 5_000;

    public static void main(String[] args) {
        int series = args.length > 0 ? Integer.parseInt(args[0]) : 500_000;
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 3;
        com.sun.management.ThreadMXBean threads =
                (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long t0 = 1_764_086_400_000L;
        for (int round = 1; round <= rounds; round++) {
            SeriesKey[] keys = keys(series);
            List<Part> first = parts(keys, t0);
            List<Part> second = parts(keys, t0 + RESOLUTION);
            Shard shard = new Shard(0, RESOLUTION, LATENESS, new SeriesBudget(2L * series));
            for (Part p : first) {
                shard.aggregate(p, 0);
            }
            first = null;
            long base = BenchParts.usedAfterGc();
            long a0 = threads.getCurrentThreadAllocatedBytes();
            for (Part p : second) {
                shard.aggregate(p, 0);
            }
            long a1 = threads.getCurrentThreadAllocatedBytes();
            second = null;
            long twoOpen = BenchParts.usedAfterGc() - base;
            long a2 = threads.getCurrentThreadAllocatedBytes();
            List<Window> closed = shard.close(t0 + RESOLUTION + LATENESS, 1);
            long a3 = threads.getCurrentThreadAllocatedBytes();
            long held = BenchParts.usedAfterGc() - base;
            if (closed.size() != series || shard.openWindows() != series) {
                throw new IllegalStateException("closed " + closed.size() + ", open " + shard.openWindows());
            }
            System.out.printf("round %d, %d series: the next window's points allocated %.1f B per series, closing"
                            + " %.1f B per series; beyond one open window, heap held per series with two open %.1f B, with"
                            + " the first closed and waiting %.1f B%n", round, series, (a1 - a0) / (double) series,
                    (a3 - a2) / (double) series, twoOpen / (double) series, held / (double) series);
        }
    }

    private static SeriesKey[] keys(int series) {
        SeriesKey[] keys = new SeriesKey[series];
        for (int i = 0; i < series; i++) {
            keys[i] = SeriesKey.ofPairs("bench.m" + (i % 10), new String[]{"host", "h" + i, "svc", "api"}, 2);
        }
        return keys;
    }

    /** One point per series at {@code time}, the shard's key instances, in parts. */
    private static List<Part> parts(SeriesKey[] keys, long time) {
        BenchParts parts = new BenchParts();
        for (int i = 0; i < keys.length; i++) {
            parts.add(keys[i], i % 1000, time + i % 1000);
        }
        return parts.parts();
    }

}
