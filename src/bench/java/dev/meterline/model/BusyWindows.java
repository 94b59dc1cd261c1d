package dev.meterline.model;

import java.util.Random;

/**
 * Time and heap of busy windows like the load generator's at 1 000 series: 1 000 aggregates fed 10 000 values each
 * (k/100, k in [0, 10 000)) in the order a shard feeds them, then copied and encoded as a flush does. Depends only on
 * the jar, so it runs as a single source file against any build:
 * {@code java -Xmx1g -cp meterline.jar BusyWindows.java [rounds]}.
 */
public final class BusyWindows {

    private static final int WINDOWS = 1_000;
    private static final int VALUES = 10_000;

    public static void main(String[] args) throws InterruptedException {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 5;
        Random rnd = new Random(1);
        double[] values = new double[1 << 16];
        for (int i = 0; i < values.length; i++) {
            values[i] = rnd.nextInt(10_000) / 100.0;
        }
        long bytes = 0;
        double checksum = 0;
        for (int round = 1; round <= rounds; round++) {
            long before = usedAfterGc();
            Aggregate[] open = new Aggregate[WINDOWS];
            for (int i = 0; i < WINDOWS; i++) {
                open[i] = new Aggregate();
            }
            long t0 = System.nanoTime();
            int k = 0;
            for (int j = 0; j < VALUES; j++) {
                for (int i = 0; i < WINDOWS; i++) {
                    open[i].accept(values[k++ & 0xFFFF], j);
                }
            }
            long t1 = System.nanoTime();
            long openHeap = usedAfterGc() - before;
            long t2 = System.nanoTime();
            for (int i = 0; i < WINDOWS; i++) {
                Aggregate closed = open[i].copy();
                bytes += closed.sketchBytes().length;
                checksum += closed.valueAtQuantile(0.99);
            }
            long t3 = System.nanoTime();
            System.out.printf("round %d: accept %.1f ns/value, copy+sketchBytes+p99 %.0f ns/window, heap %d bytes/open"
                            + " window%n", round, (t1 - t0) / (double) WINDOWS / VALUES,
                    (t3 - t2) / (double) WINDOWS, openHeap / WINDOWS);
        }
        System.out.println("sketch bytes written: " + bytes + ", p99 sum: " + checksum);
    }

    private static long usedAfterGc() throws InterruptedException {
        Runtime rt = Runtime.getRuntime();
        for (int i = 0; i < 2; i++) {
            System.gc();
            Thread.sleep(100);
        }
        return rt.totalMemory() - rt.freeMemory();
    }
}
