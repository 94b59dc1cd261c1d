package dev.meterline.bench;

import dev.meterline.config.StoreConfig;
import dev.meterline.config.Tier;
import dev.meterline.model.Aggregate;
import dev.meterline.model.SeriesKey;
import dev.meterline.model.Window;
import dev.meterline.store.ExportCursor;
import dev.meterline.store.Store;
import dev.meterline.store.TimedTransactions;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;

/**
 * What a rollup pass costs: a fresh store (a PostgreSQL database through {@link LoopbackPostgres}, or the embedded
 * SQLite store) gets six flushes of one 10 s window a minute for each of {@code --series} series spread over
 * {@code --metrics} metrics, for {@code --minutes} minutes, and one flush after them; then one {@link Store#maintain}
 * at the time the written coarse windows are due to be rolled up (the hour's too, with 60 minutes) is timed, with
 * this process's CPU, that of PostgreSQL's processes per written window rolled up, and the heap's peak during the
 * pass. The pass's write transactions are timed ({@link TimedTransactions}): the longest of the rollup's is the
 * longest the writer was held for it. Meanwhile another thread moves an export cursor forward again and again, each a
 * small write transaction as a remote-write export makes, and the longest of those calls is what a writer waited
 * behind the pass. The classes compile against any build's jar:
 *
 * <pre>
 * javac -d /tmp/rc -cp old.jar src/bench/java/dev/meterline/bench/{RollupCost,LoopbackPostgres,LoadGen}.java \
 *     src/bench/java/dev/meterline/store/TimedTransactions.java
 * java -cp /tmp/rc:old.jar dev.meterline.bench.RollupCost --series 200000 --metrics 10 \
 *     --postgres 'jdbc:postgresql://127.0.0.1:55432/postgres?user=postgres'
 * java -Xmx384m -cp /tmp/rc:old.jar dev.meterline.bench.RollupCost --store sqlite --series 3000 --metrics 1 \
 *     --minutes 60
 * </pre>
 */
public final class RollupCost {

    private static final long MINUTE = 60_000;
    private static final long HOUR = 60 * MINUTE;
    /** An hour's boundary. */
    private static final long T0 = 1_700_002_800_000L;

    private RollupCost() {
    }

    public static void main(String[] args) throws Exception {
        int series = 200_000;
        int metrics = 10;
        int minutes = 1;
        boolean sqlite = false;
        String admin = "jdbc:postgresql://127.0.0.1:55432/postgres?user=postgres";
        for (int i = 0; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--series" -> series = Integer.parseInt(args[i + 1]);
                case "--metrics" -> metrics = Integer.parseInt(args[i + 1]);
                case "--minutes" -> minutes = Integer.parseInt(args[i + 1]);
                case "--store" -> sqlite = switch (args[i + 1]) {
                    case "sqlite" -> true;
                    case "postgres" -> false;
                    default -> throw new IllegalArgumentException("--store " + args[i + 1]
                            + " (expected: sqlite or postgres)");
                };
                case "--postgres" -> admin = args[i + 1];
                default -> throw new IllegalArgumentException(args[i]
                        + " (expected: --series, --metrics, --minutes, --store, --postgres)");
            }
        }
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        Path dir = Files.createTempDirectory("meterline-rollup-cost");
        try (LoopbackPostgres pg = sqlite ? null : LoopbackPostgres.create(admin)) {
            List<String> flags = sqlite ? List.of("", "", "", "", "", "") : pg.serverArgs();
            StoreConfig config = new StoreConfig(dir, flags.get(1), flags.get(3), flags.get(5),
                    Tier.parseList("10s:24h,1m:30d,1h:1y"), "bench");
            List<SeriesKey> keys = new ArrayList<>(series);
            for (int s = 0; s < series; s++) {
                keys.add(SeriesKey.of("metric_" + (s % metrics), Map.of("host", "host-" + (s % 1000),
                        "route", "/api/v1/item/" + (s / 1000), "status", "200")));
            }
            Random random = new Random(1);
            TimedTransactions timed = new TimedTransactions();
            try (Store store = timed.connect(config, Clock.systemUTC())) {
                for (int w = 0; w <= 6 * minutes; w++) {
                    long start = T0 + w * 10_000L;
                    List<Window> flush = new ArrayList<>(series);
                    for (SeriesKey key : keys) {
                        Aggregate a = new Aggregate();
                        for (int i = 0; i < 10; i++) {
                            a.accept(Math.exp(random.nextGaussian()), start + i * 1_000L);
                        }
                        flush.add(new Window(key, start, 10_000, a, true, w + 1));
                    }
                    store.write(store.inKeyOrder(flush));
                }
                long now = (minutes >= 60 ? T0 + HOUR : T0 + MINUTE) + MINUTE + 1_000;
                System.gc();
                ManagementFactory.getMemoryPoolMXBeans().forEach(MemoryPoolMXBean::resetPeakUsage);
                timed.clear();
                Writer writer = new Writer(store);
                Thread other = new Thread(writer, "concurrent-writer");
                other.start();
                writer.started.await();
                long pg0 = sqlite ? 0 : pg.cpuTicks();
                long cpu0 = threads.getCurrentThreadCpuTime();
                long t0 = System.nanoTime();
                store.maintain(now);
                long t1 = System.nanoTime();
                writer.stop.set(true);
                other.join();
                long cpu1 = threads.getCurrentThreadCpuTime();
                long pg1 = sqlite ? 0 : pg.cpuTicks();
                long peak = ManagementFactory.getMemoryPoolMXBeans().stream()
                        .filter(p -> p.getType() == MemoryType.HEAP)
                        .mapToLong(p -> p.getPeakUsage().getUsed()).sum();
                double rows = 6.0 * minutes * series;
                System.out.printf(Locale.ROOT, "rollup of %,d windows (%,d series, %d metrics, %d minutes, %s): %.2f s;"
                                + " writer %.2f us and PostgreSQL %.2f us of CPU per window; heap peak %d MiB"
                                + " (max %d MiB); load %s%n",
                        (long) rows, series, metrics, minutes, sqlite ? "SQLite" : "PostgreSQL", (t1 - t0) / 1e9,
                        (cpu1 - cpu0) / 1e3 / rows, (pg1 - pg0) * 1e4 / rows, peak >> 20,
                        Runtime.getRuntime().maxMemory() >> 20, LoadGen.uptime());
                TimedTransactions.Times rollup = timed.of("rollup");
                System.out.printf(Locale.ROOT, "  rollup transactions: %d, longest %.1f ms, %.2f s in all;"
                                + " a concurrent cursor update: %d of them, longest %.1f ms%n",
                        rollup.count(), rollup.longest() / 1e6, rollup.total() / 1e9, writer.updates,
                        writer.longest / 1e6);
                // A second run finds nothing new to merge: what a pass costs when there is nothing to do.
                long pg2 = sqlite ? 0 : pg.cpuTicks();
                long t2 = System.nanoTime();
                store.maintain(now + 1_000);
                System.out.printf(Locale.ROOT, "  again with nothing new: %.2f s, PostgreSQL %.2f s of CPU%n",
                        (System.nanoTime() - t2) / 1e9, sqlite ? 0 : (pg.cpuTicks() - pg2) / 100.0);
            }
        }
    }

    /**
     * Moves an export cursor forward, one small write transaction every {@value #PACE_NANOS} ns or as soon as the
     * last one returns, until stopped; keeps the longest call, the wait for the writer included. Paced so that it
     * takes little from the pass it waits on.
     */
    private static final class Writer implements Runnable {

        static final long PACE_NANOS = 10_000_000;

        final CountDownLatch started = new CountDownLatch(1);
        final AtomicBoolean stop = new AtomicBoolean();
        private final Store store;
        long updates;
        long longest;

        Writer(Store store) {
            this.store = store;
        }

        @Override
        public void run() {
            long through = T0;
            store.advanceExportCursor("bench", ExportCursor.at(through));
            started.countDown();
            while (!stop.get()) {
                long t = System.nanoTime();
                store.advanceExportCursor("bench", ExportCursor.at(++through));
                long took = System.nanoTime() - t;
                longest = Math.max(longest, took);
                updates++;
                LockSupport.parkNanos(PACE_NANOS - took);
            }
        }
    }
}
