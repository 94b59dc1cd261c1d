package dev.meterline.bench;

import dev.meterline.config.StoreConfig;
import dev.meterline.config.Tier;
import dev.meterline.model.Aggregate;
import dev.meterline.model.SeriesKey;
import dev.meterline.model.Window;
import dev.meterline.store.Store;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

/**
 * What rolling one minute of a server's windows up costs: a fresh PostgreSQL database (through {@link LoopbackPostgres})
 * gets six flushes of one 10 s window for each of {@code --series} series spread over {@code --metrics} metrics, a
 * minute's worth, and one flush of the next minute; then one {@link Store#maintain} at the time the first minute is
 * due to be rolled up (its end plus the one-minute delay) is timed, with this process's CPU and that of PostgreSQL's
 * processes, per written window rolled up. Only the public store API is used, so the class compiles once and runs
 * against any build's jar:
 *
 * <pre>
 * javac -d /tmp/rc -cp old.jar src/bench/java/dev/meterline/bench/{RollupCost,LoopbackPostgres}.java
 * java -cp /tmp/rc:old.jar dev.meterline.bench.RollupCost --series 200000 --metrics 10 \
 *     --postgres 'jdbc:postgresql://127.0.0.1:55432/postgres?user=postgres'
 * </pre>
 */
public final class RollupCost {

    private static final long MINUTE = 60_000;
    /** A minute boundary. */
    private static final long T0 = 1_699_999_980_000L;

    private RollupCost() {
    }

    public static void main(String[] args) throws Exception {
        int series = 200_000;
        int metrics = 10;
        String admin = "jdbc:postgresql://127.0.0.1:55432/postgres?user=postgres";
        for (int i = 0; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--series" -> series = Integer.parseInt(args[i + 1]);
                case "--metrics" -> metrics = Integer.parseInt(args[i + 1]);
                case "--postgres" -> admin = args[i + 1];
                default -> throw new IllegalArgumentException(args[i] + " (expected: --series, --metrics, --postgres)");
            }
        }
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        Path dir = Files.createTempDirectory("meterline-rollup-cost");
        try (LoopbackPostgres pg = LoopbackPostgres.create(admin)) {
            List<String> flags = pg.serverArgs();
            StoreConfig config = new StoreConfig(dir, flags.get(1), flags.get(3), flags.get(5),
                    Tier.parseList("10s:24h,1m:30d,1h:1y"), "bench");
            List<SeriesKey> keys = new ArrayList<>(series);
            for (int s = 0; s < series; s++) {
                keys.add(SeriesKey.of("metric_" + (s % metrics), Map.of("host", "host-" + (s % 1000),
                        "route", "/api/v1/item/" + (s / 1000), "status", "200")));
            }
            Random random = new Random(1);
            try (Store store = Store.connect(config, Clock.systemUTC())) {
                for (int w = 0; w < 7; w++) {
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
                long now = T0 + 2 * MINUTE + 1_000;
                long pg0 = pg.cpuTicks();
                long cpu0 = threads.getCurrentThreadCpuTime();
                long t0 = System.nanoTime();
                store.maintain(now);
                long t1 = System.nanoTime();
                long cpu1 = threads.getCurrentThreadCpuTime();
                long pg1 = pg.cpuTicks();
                double rows = 6.0 * series;
                System.out.printf(Locale.ROOT, "rollup of %,d windows (%,d series, %d metrics): %.2f s;"
                                + " writer %.2f us and PostgreSQL %.2f us of CPU per window; load %s%n",
                        (long) rows, series, metrics, (t1 - t0) / 1e9, (cpu1 - cpu0) / 1e3 / rows,
                        (pg1 - pg0) * 1e4 / rows, LoadGen.uptime());
                // A second run finds nothing new to merge: what a pass costs when there is nothing to do.
                long pg2 = pg.cpuTicks();
                long t2 = System.nanoTime();
                store.maintain(now + 1_000);
                System.out.printf(Locale.ROOT, "  again with nothing new: %.2f s, PostgreSQL %.2f s of CPU%n",
                        (System.nanoTime() - t2) / 1e9, (pg.cpuTicks() - pg2) / 100.0);
            }
        }
    }
}
