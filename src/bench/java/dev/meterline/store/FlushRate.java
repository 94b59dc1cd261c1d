package dev.meterline.store;

import dev.meterline.config.StoreConfig;
import dev.meterline.config.Tier;
import dev.meterline.model.Aggregate;
import dev.meterline.model.SeriesKey;
import dev.meterline.model.Window;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;

/**
 * Rows per second into each store, alone and with a concurrent ingest load: every run opens a fresh database and
 * writes {@code --flushes} flushes of {@code --windows} closed windows (10 per series, each flush the next ten
 * windows of the same series, flush numbers rising), timing each {@link Store#write}. Every run writes fresh copies
 * of the windows' aggregates, as a flush does.
 *
 * <p>With {@code --ingest-threads N}, N threads play the shards' part of ingest during the whole run: each looks up
 * a series of {@code --ingest-series} in a hash map by a key equal to (not the same object as) the stored one and
 * records a value in its {@link Aggregate}, as fast as it can. The ingest rate is measured for one second before the
 * flushes and during them, so the report says how much a flush slows ingest and how much ingest slows a flush.
 * For SQLite each run also reports the database file's bytes per row once the store has closed it.
 *
 * <pre>
 * ./mvnw -B -q -Pbench package -DskipTests
 * java -cp target/test-classes:target/classes:$(cat cp.txt) dev.meterline.store.FlushRate \
 *     --stores sqlite,postgres --windows 100000 --flushes 3 --runs 3 --ingest-threads 2
 * </pre>
 * ({@code cp.txt} from {@code ./mvnw -B -q -Pbench dependency:build-classpath -Dmdep.outputFile=cp.txt}).
 */
public final class FlushRate {

    private static final java.lang.management.ThreadMXBean THREADS =
            java.lang.management.ManagementFactory.getThreadMXBean();
    private static final List<Tier> TIERS = Tier.parseList("10s:24h,1m:30d,1h:1y");

    private FlushRate() {
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> opts = new HashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) {
            opts.put(args[i].replaceFirst("^--", ""), args[i + 1]);
        }
        List<String> stores = List.of(opts.getOrDefault("stores", "sqlite,postgres").split(","));
        int windows = Integer.parseInt(opts.getOrDefault("windows", "100000"));
        int flushes = Integer.parseInt(opts.getOrDefault("flushes", "3"));
        int runs = Integer.parseInt(opts.getOrDefault("runs", "3"));
        int ingestThreads = Integer.parseInt(opts.getOrDefault("ingest-threads", "0"));
        int ingestSeries = Integer.parseInt(opts.getOrDefault("ingest-series", "1000000"));
        String label = opts.getOrDefault("label", "");

        List<List<Window>> data = flushes(windows, flushes);
        Ingest ingest = ingestThreads > 0 ? new Ingest(ingestThreads, ingestSeries) : null;
        EmbeddedPostgres pg = stores.contains("postgres") ? EmbeddedPostgres.start() : null;
        try {
            for (String store : stores) {
                double[] rates = new double[runs];
                double[] drops = new double[runs];
                double[] clientMicros = new double[runs];
                double[] serverMicros = new double[runs];
                double[] fileBytes = new double[runs];
                for (int run = 0; run < runs; run++) {
                    Path dir = Files.createTempDirectory("meterline-flush-rate");
                    try (Store s = open(store, pg, dir, run)) {
                        List<List<Window>> copies = copies(data);
                        double before = ingest == null ? 0 : ingest.rate(1000);
                        long ingested = ingest == null ? 0 : ingest.points();
                        long cpu0 = THREADS.getCurrentThreadCpuTime();
                        long server0 = serverCpuNanos(pg);
                        long t0 = System.nanoTime();
                        for (List<Window> flush : copies) {
                            s.write(flush);
                        }
                        double seconds = (System.nanoTime() - t0) / 1e9;
                        double rows = (double) windows * flushes;
                        clientMicros[run] = (THREADS.getCurrentThreadCpuTime() - cpu0) / 1e3 / rows;
                        serverMicros[run] = store.equals("postgres") ? (serverCpuNanos(pg) - server0) / 1e3 / rows : 0;
                        rates[run] = (double) windows * flushes / seconds;
                        double during = ingest == null ? 0 : (ingest.points() - ingested) / seconds;
                        drops[run] = before == 0 ? 0 : 1 - during / before;
                        System.out.printf("flushrate %s %s run %d: %.0f rows/s (%d x %d rows in %.3f s), CPU per row"
                                        + " %.2f us writer + %.2f us server%s%n",
                                label, store, run + 1, rates[run], flushes, windows, seconds, clientMicros[run],
                                serverMicros[run], ingest == null ? ""
                                        : String.format(", ingest %.2f M/s before, %.2f M/s during (%+.0f %%)",
                                        before / 1e6, during / 1e6, -100 * drops[run]));
                    } finally {
                        if (store.equals("sqlite")) {
                            long bytes = size(dir);
                            fileBytes[run] = bytes / ((double) windows * flushes);
                            System.out.printf("flushrate %s %s run %d: database %d bytes, %.1f bytes per row%n",
                                    label, store, run + 1, bytes, fileBytes[run]);
                        }
                        delete(dir);
                    }
                }
                Arrays.sort(rates);
                Arrays.sort(drops);
                Arrays.sort(clientMicros);
                Arrays.sort(serverMicros);
                Arrays.sort(fileBytes);
                System.out.printf("flushrate %s %s median: %.0f rows/s (%.0f-%.0f), CPU per row %.2f us writer +"
                                + " %.2f us server, ingest threads %d, ingest drop %.0f %%%s%n", label, store,
                        rates[runs / 2], rates[0], rates[runs - 1], clientMicros[runs / 2], serverMicros[runs / 2],
                        ingestThreads, 100 * drops[runs / 2], store.equals("sqlite")
                                ? String.format(", file %.1f bytes per row", fileBytes[runs / 2]) : "");
            }
        } finally {
            if (ingest != null) {
                ingest.stop();
            }
            if (pg != null) {
                pg.close();
            }
        }
    }

    /** CPU time of the PostgreSQL server's processes so far (postmaster and its children), 0 without one. */
    private static long serverCpuNanos(EmbeddedPostgres pg) {
        if (pg == null) {
            return 0;
        }
        String port = String.valueOf(pg.getPort());
        long total = 0;
        for (ProcessHandle p : ProcessHandle.allProcesses().toList()) {
            String[] argv = p.info().arguments().orElse(new String[0]);
            if (p.info().command().orElse("").endsWith("postgres") && Arrays.asList(argv).contains(port)) {
                total += cpu(p);
                for (ProcessHandle child : p.descendants().toList()) {
                    total += cpu(child);
                }
            }
        }
        return total;
    }

    private static long cpu(ProcessHandle p) {
        return p.info().totalCpuDuration().map(java.time.Duration::toNanos).orElse(0L);
    }

    /** {@code count} flushes of {@code windows} windows, grouped by start with series shuffled, as shards hand them. */
    static List<List<Window>> flushes(int windows, int count) {
        Random random = new Random(1);
        List<Window> base = FlushWindows.of(windows, random);
        List<List<Window>> out = new ArrayList<>();
        for (int f = 0; f < count; f++) {
            long shift = f * 100_000L;
            List<Window> flush = new ArrayList<>(base.size());
            for (Window w : base) {
                flush.add(new Window(w.series(), w.start() + shift, w.resolution(), w.aggregate(), true, f + 1));
            }
            Collections.shuffle(flush, random);
            flush.sort(Comparator.comparingLong(Window::start));
            out.add(flush);
        }
        return out;
    }

    /**
     * The flushes with every window's aggregate copied, as the shards hand a flush copies: each run encodes windows
     * whose values still wait beside their bins, never ones an earlier run's encoding already moved.
     */
    static List<List<Window>> copies(List<List<Window>> flushes) {
        List<List<Window>> out = new ArrayList<>(flushes.size());
        for (List<Window> flush : flushes) {
            List<Window> copy = new ArrayList<>(flush.size());
            for (Window w : flush) {
                copy.add(new Window(w.series(), w.start(), w.resolution(), w.aggregate().copy(), w.complete(),
                        w.flushSeq()));
            }
            out.add(copy);
        }
        return out;
    }

    private static Store open(String store, EmbeddedPostgres pg, Path dir, int run) throws Exception {
        if (store.equals("sqlite")) {
            return Store.connect(new StoreConfig(dir, "", "", "", TIERS, "bench"), Clock.systemUTC());
        }
        String base = "jdbc:postgresql://localhost:" + pg.getPort() + "/";
        String db = "flushrate_" + run;
        try (Connection c = DriverManager.getConnection(base + "postgres", "postgres", "");
             Statement st = c.createStatement()) {
            st.execute("DROP DATABASE IF EXISTS " + db);
            st.execute("CREATE DATABASE " + db);
        }
        return Store.connect(new StoreConfig(dir, base + db, "postgres", "", TIERS, "bench"), Clock.systemUTC());
    }

    /** Bytes of the files in {@code dir} (the database and, while open, its log), after the store closed it. */
    private static long size(Path dir) throws Exception {
        try (var walk = Files.walk(dir)) {
            return walk.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
        }
    }

    private static void delete(Path dir) throws Exception {
        try (var walk = Files.walk(dir)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    /** Threads recording values into the aggregates of many series, counting points. */
    private static final class Ingest {
        private final AtomicBoolean running = new AtomicBoolean(true);
        private final LongAdder points = new LongAdder();
        private final List<Thread> threads = new ArrayList<>();
        private final CountDownLatch ready;

        Ingest(int threads, int series) throws InterruptedException {
            ready = new CountDownLatch(threads);
            for (int t = 0; t < threads; t++) {
                int shard = t;
                Thread thread = new Thread(() -> run(shard, threads, series), "ingest-" + t);
                thread.setDaemon(true);
                this.threads.add(thread);
                thread.start();
            }
            ready.await();
        }

        private void run(int shard, int shards, int series) {
            Map<SeriesKey, Aggregate> state = new HashMap<>();
            List<SeriesKey> keys = new ArrayList<>();
            for (int i = shard; i < series; i += shards) {
                Map<String, String> tags = Map.of("host", "h" + (i % 1000), "svc", "s" + (i / 1000 % 10),
                        "region", "r" + (i / 10_000));
                state.put(SeriesKey.of("bench.m" + (i % 10), tags), new Aggregate());
                keys.add(SeriesKey.of("bench.m" + (i % 10), tags));
            }
            Random random = new Random(shard);
            long ts = 0;
            ready.countDown();
            while (running.get()) {
                for (int b = 0; b < 1000; b++) {
                    SeriesKey k = keys.get(random.nextInt(keys.size()));
                    state.get(k).accept(random.nextDouble() * 100, ts++);
                }
                points.add(1000);
            }
        }

        long points() {
            return points.sum();
        }

        /** Points per second over the next {@code millis}. */
        double rate(long millis) throws InterruptedException {
            long p = points();
            long t = System.nanoTime();
            Thread.sleep(millis);
            return (points() - p) / ((System.nanoTime() - t) / 1e9);
        }

        void stop() throws InterruptedException {
            running.set(false);
            for (Thread t : threads) {
                t.join();
            }
        }
    }
}
