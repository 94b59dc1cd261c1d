package dev.meterline.model;

import java.util.Random;

/**
 * Heap and time of windows like the load generator's: 100 000 aggregates fed 80 values each (k/100, k in [0, 10 000))
 * in the order a shard feeds them, then copied and encoded as a flush does. Depends only on the jar, so it runs as a
 * single source file against any build: {@code java -Xmx2g -cp meterline.jar WindowFootprint.java}.
 */
public final class WindowFootprint {

    private static final int WINDOWS = 100_000;
    private static final int VALUES = 80;

    public static void main(String[] args) throws InterruptedException {
        Random rnd = new Random(1);
        double[] values = new double[1 << 16];
        for (int i = 0; i < values.length; i++) {
            values[i] = rnd.nextInt(10_000) / 100.0;
        }
        long bytes = 0;
        for (int round = 1; round <= 6; round++) {
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
            Aggregate[] closed = new Aggregate[WINDOWS];
            long t2 = System.nanoTime();
            for (int i = 0; i < WINDOWS; i++) {
                closed[i] = open[i].copy();
                bytes += closed[i].sketchBytes().length;
            }
            long t3 = System.nanoTime();
            open = null;
            long closedHeap = usedAfterGc() - before;
            System.out.printf("round %d: accept %.1f ns/value, copy+sketchBytes %.0f ns/window, heap %d bytes/open"
                            + " window, %d bytes/closed window%n", round, (t1 - t0) / (double) WINDOWS / VALUES,
                    (t3 - t2) / (double) WINDOWS, openHeap / WINDOWS, closedHeap / WINDOWS);
            closed[round].valueAtQuantile(0.5);
        }
        System.out.println("sketch bytes written: " + bytes);
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
