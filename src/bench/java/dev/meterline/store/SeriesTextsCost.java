package dev.meterline.store;

import dev.meterline.model.Aggregate;
import dev.meterline.model.SeriesKey;
import dev.meterline.model.Window;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Heap the store's kept series texts ({@link SeriesTexts}) hold per series: the keys and windows of N series (the
 * {@code LoadGen} series: a metric of ten, tags host, region and svc) are made first and measured apart, then one
 * table is filled with them; the heap after a full collection, before and after, over N.
 *
 * <p>With a second argument R, R more flushes follow, each with a new instance of every series' key (as a server's
 * shards bring when their series outnumber the event loops' key caches) and the previous flush's keys dropped; then
 * the heap the table holds per series, keys that nothing else holds included, and the time per flush's look-ups.
 *
 * <pre>java -Xmx2g -cp target/test-classes:target/classes:$(cat cp.txt) dev.meterline.store.SeriesTextsCost 1000000 [R]</pre>
 */
public final class SeriesTextsCost {

    private SeriesTextsCost() {
    }

    public static void main(String[] args) throws Exception {
        int n = Integer.parseInt(args.length > 0 ? args[0] : "1000000");
        int rounds = Integer.parseInt(args.length > 1 ? args[1] : "0");
        List<Window> windows = windows(n);
        long before = heapAfterGc();
        SeriesTexts texts = new SeriesTexts(n);
        WindowTexts out = texts.of(windows);
        out = null;
        long after = heapAfterGc();
        System.out.printf("%,d series kept: %,d bytes of heap, %.1f bytes per series (%d instances)%n",
                texts.series(), after - before, (after - before) / (double) n, texts.instances());
        for (int r = 1; r <= rounds; r++) {
            windows = null;
            windows = windows(n);
            long began = System.nanoTime();
            texts.of(windows);
            long took = System.nanoTime() - began;
            long held = heapAfterGc() - before;
            System.out.printf("flush %d with new key instances: looked up in %.0f ns per series; the table holds %,d"
                    + " bytes, %.1f per series (%d instances)%n", r, took / (double) n, held, held / (double) n,
                    texts.instances());
        }
        if (windows.size() != n) {
            throw new AssertionError();
        }
    }

    /** A window of each of {@code n} series, each with a key instance of its own. */
    private static List<Window> windows(int n) {
        List<Window> windows = new ArrayList<>(n);
        Aggregate shared = new Aggregate();
        for (int s = 0; s < n; s++) {
            SeriesKey key = SeriesKey.of("bench.m" + (s % 10), Map.of("host", "h" + s, "region", "r" + (s % 7),
                    "svc", "api"));
            windows.add(new Window(key, 0, 10_000, shared, true, 1));
        }
        return windows;
    }

    private static long heapAfterGc() throws InterruptedException {
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(200);
        }
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }
}
