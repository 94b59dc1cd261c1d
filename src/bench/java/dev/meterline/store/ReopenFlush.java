package dev.meterline.store;

import dev.meterline.config.StoreConfig;
import dev.meterline.config.Tier;
import dev.meterline.model.Aggregate;
import dev.meterline.model.SeriesKey;
import dev.meterline.model.Window;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * The first flush of a store reopened over a PostgreSQL database that holds {@code --series} series, as when a
 * replica restarts: the store knows none of them to be stored. Each run creates the database {@code --database}
 * afresh on the server at {@code --url}, stores the series (one window each, {@code --per-write} windows a
 * transaction: the seed, itself the first flush of a fresh store), closes the store, opens it again and writes a
 * flush of a window of every stored series and of {@code --new} new ones, then the same series' next flush. Reported
 * per run: the time of each step; of the first flush also the CPU time of the writing thread and of the store's
 * server processes (read from {@code /proc}: the server must run on the same machine) and the values it took from the
 * identity sequence of {@code meterline_series} (the new series' ids, and any taken for stored series).
 *
 * <p>A flush goes in as the server writes one of that size: its windows in the key order, in transactions of
 * {@code --per-write} windows, each a part of the flush ({@link Store#writePart}) but the last.
 *
 * <pre>
 * ./mvnw -B -q -Pbench package -DskipTests
 * java -cp target/meterline.jar:target/test-classes dev.meterline.store.ReopenFlush \
 *     --url jdbc:postgresql://127.0.0.1:55432/ --database meterline_reopen --series 1000000 --new 1000 --runs 2
 * </pre>
 */
public final class ReopenFlush {

    private static final List<Tier> TIERS = Tier.parseList("10s:24h,1m:30d,1h:1y");
    private static final long T0 = 1_700_000_000_000L;
    private static final java.lang.management.ThreadMXBean THREADS =
            java.lang.management.ManagementFactory.getThreadMXBean();

    private ReopenFlush() {
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> opts = new HashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) {
            opts.put(args[i].replaceFirst("^--", ""), args[i + 1]);
        }
        String url = opts.getOrDefault("url", "jdbc:postgresql://127.0.0.1:55432/");
        String database = opts.getOrDefault("database", "meterline_reopen");
        String user = opts.getOrDefault("user", "postgres");
        int series = Integer.parseInt(opts.getOrDefault("series", "100000"));
        int fresh = Integer.parseInt(opts.getOrDefault("new", "1000"));
        int perWrite = Integer.parseInt(opts.getOrDefault("per-write", "100000"));
        int runs = Integer.parseInt(opts.getOrDefault("runs", "2"));
        String label = opts.getOrDefault("label", "");

        List<SeriesKey> keys = new ArrayList<>(series + fresh);
        for (int s = 0; s < series + fresh; s++) {
            keys.add(SeriesKey.of("bench.m" + (s % 10), Map.of("host", "h" + (s % 1000), "region",
                    "r" + (s / 10_000), "svc", "s" + (s / 1000 % 10))));
        }
        // The new series are spread among the stored ones, as series a restarted server meets for the first time.
        Collections.shuffle(keys, new Random(1));
        List<SeriesKey> stored = keys.subList(0, series);
        StoreConfig config = new StoreConfig(Path.of("unused"), url + database, user, "", TIERS, "bench");
        for (int run = 1; run <= runs; run++) {
            try (Connection c = DriverManager.getConnection(url + "postgres", user, "");
                 Statement st = c.createStatement()) {
                st.execute("DROP DATABASE IF EXISTS " + database);
                st.execute("CREATE DATABASE " + database);
            }
            long t = System.nanoTime();
            try (Store store = Store.connect(config, Clock.systemUTC())) {
                flush(store, windows(stored, T0, 1), perWrite);
            }
            long seed = System.nanoTime() - t;
            long before = lastSeriesId(url + database, user);

            t = System.nanoTime();
            Store store = Store.connect(config, Clock.systemUTC());
            long open = System.nanoTime() - t;
            try {
                List<Long> backends = backends(url + database, user, database);
                long server0 = cpuNanos(backends);
                long client0 = THREADS.getCurrentThreadCpuTime();
                t = System.nanoTime();
                flush(store, windows(keys, T0 + 10_000, 2), perWrite);
                long first = System.nanoTime() - t;
                long client = THREADS.getCurrentThreadCpuTime() - client0;
                long server = cpuNanos(backends) - server0;
                long taken = lastSeriesId(url + database, user) - before;
                t = System.nanoTime();
                flush(store, windows(keys, T0 + 20_000, 3), perWrite);
                long next = System.nanoTime() - t;
                System.out.printf("reopenflush %s run %d: %d stored + %d new series: seed %.2f s, open %.3f s,"
                                + " first flush %.3f s (CPU %.2f s writer, %.2f s server; sequence values taken %d),"
                                + " next flush %.3f s%n",
                        label, run, series, fresh, seed / 1e9, open / 1e9, first / 1e9, client / 1e9, server / 1e9,
                        taken, next / 1e9);
            } finally {
                store.close();
            }
        }
    }

    /** A closed window at {@code start} of each series, with a few values, numbered {@code flushSeq}. */
    private static List<Window> windows(List<SeriesKey> keys, long start, long flushSeq) {
        Random random = new Random(flushSeq);
        List<Window> out = new ArrayList<>(keys.size());
        for (SeriesKey key : keys) {
            Aggregate a = new Aggregate();
            for (int i = 0; i < 3; i++) {
                a.accept(random.nextDouble() * 100, start + i * 1_000L);
            }
            out.add(new Window(key, start, 10_000, a, true, flushSeq));
        }
        return out;
    }

    private static void flush(Store store, List<Window> windows, int perWrite) {
        List<Window> ordered = store.inKeyOrder(windows);
        for (int from = 0; from < ordered.size(); from += perWrite) {
            List<Window> part = ordered.subList(from, Math.min(ordered.size(), from + perWrite));
            if (from + perWrite >= ordered.size()) {
                store.write(part);
            } else {
                store.writePart(part);
            }
        }
    }

    /** The server processes of the sessions open on {@code database} but this one's: the store's pool. */
    private static List<Long> backends(String url, String user, String database) throws Exception {
        List<Long> out = new ArrayList<>();
        try (Connection c = DriverManager.getConnection(url, user, "");
             Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT pid FROM pg_stat_activity WHERE datname = '" + database
                     + "' AND pid <> pg_backend_pid()")) {
            while (rs.next()) {
                out.add(rs.getLong(1));
            }
        }
        return out;
    }

    /**
     * CPU time so far of the processes {@code pids} (user and system, from {@code /proc}, in clock ticks of 10 ms):
     * the server must run on this machine; 0 for a process gone or not visible.
     */
    private static long cpuNanos(List<Long> pids) {
        long ticks = 0;
        for (long pid : pids) {
            try {
                String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
                String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                ticks += Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
            } catch (IOException | RuntimeException e) {
                // Not a local process: no figure.
            }
        }
        return ticks * 10_000_000L;
    }

    /** The last value the identity sequence of {@code meterline_series} gave. */
    private static long lastSeriesId(String url, String user) throws Exception {
        try (Connection c = DriverManager.getConnection(url, user, "");
             Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT pg_sequence_last_value(pg_get_serial_sequence("
                     + "'meterline_series', 'id')::regclass)")) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
