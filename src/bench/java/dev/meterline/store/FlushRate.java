package dev.meterline.store;

import dev.meterline.aggregate.FlushPace;
import dev.meterline.config.AggregationConfig;
import dev.meterline.config.Durations;
import dev.meterline.config.StoreConfig;
import dev.meterline.config.Tier;
import dev.meterline.model.Aggregate;
import dev.meterline.model.SeriesKey;
import dev.meterline.model.Window;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;

/**
 * Rows per second into each store, alone and with a concurrent ingest load: every run opens a fresh database and
 * writes {@code --flushes} flushes of {@code --windows} closed windows ({@code --per-series}, by default 10, per
 * series; 1 is a server whose every series reports once a window; each flush the next
 * windows of the same series, flush numbers rising), timing each {@link Store#write}. Every run writes fresh copies
 * of the windows' aggregates, as a flush does.
 *
 * <p>With {@code --ingest-threads N}, N threads play the shards' part of ingest during the whole run: each looks up
 * a series of {@code --ingest-series} in a hash map by a key equal to (not the same object as) the stored one and
 * records a value in its {@link Aggregate}, as fast as it can. The ingest rate is measured for one second before the
 * flushes and during them, so the report says how much a flush slows ingest and how much ingest slows a flush.
 * For SQLite each run also reports the database file's bytes per row once the store has closed it. The writer's CPU
 * includes that of the store's checkpoint thread ({@link SqliteCheckpoints}), whose last checkpoint is waited for;
 * the CPU of closing the store is reported beside it. {@code --seed ordered} or {@code scattered} first stores every
 * series (untimed, with a window long before the flushes, in ten writes) in the series' text order or at random, so
 * that their ids in the store follow their texts or not, as in a store whose series arrived over time.
 *
 * <p>With {@code --every D} (e.g. {@code 10s}, the default window, after which a server's next windows fall due) a
 * flush starts every D instead of right after the one before, and with {@code --pace P} it is written as the server
 * writes it at {@code flush-spread=P} ({@link FlushPace}: slices of 10 000 windows whose starts are spread over P %
 * of D, the last through {@link Store#write}, the others through {@link Store#writePart}); {@code --pace 0,80}
 * alternates the two in every run. Rows per second and the ingest rate "during" count only the time from a flush's
 * start to its end, and the ingest rate during the flushes is compared with the rate outside them (the second before
 * and the gaps between); the writer's CPU is that of the threads that write. {@code --shuffled true} shuffles each
 * flush across its starts, so that a slice holds a random share of every start's series, as a server's flush of one
 * start does, rather than one start.
 *
 * <pre>
 * ./mvnw -B -q -Pbench package -DskipTests
 * java -cp target/test-classes:target/classes:$(cat cp.txt) dev.meterline.store.FlushRate \
 *     --stores sqlite,postgres --windows 100000 --flushes 3 --runs 3 --ingest-threads 2 [--every 10s --pace 0,80]
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
        Duration interval = Durations.parse(opts.getOrDefault("every", "0s"));
        List<Integer> paces = new ArrayList<>();
        for (String p : opts.getOrDefault("pace", "0").split(",")) {
            paces.add(Integer.parseInt(p));
        }
        if (interval.isZero() && paces.stream().anyMatch(p -> p > 0)) {
            throw new IllegalArgumentException("--pace needs --every: the time a flush may be spread over");
        }
        String seed = opts.getOrDefault("seed", "none");
        if (!List.of("none", "ordered", "scattered").contains(seed)) {
            throw new IllegalArgumentException("--seed: " + seed + " (expected: none, ordered or scattered)");
        }
        ExecutorService writerThread = Executors.newSingleThreadExecutor(r -> new Thread(r, "flush-writer"));
        Scheduler writerScheduler = Schedulers.fromExecutorService(writerThread);
        long writerId = writerThread.submit(() -> Thread.currentThread().getId()).get();

        int perSeries = Integer.parseInt(opts.getOrDefault("per-series", "10"));
        List<List<Window>> data = flushes(windows, perSeries, flushes);
        if (Boolean.parseBoolean(opts.getOrDefault("shuffled", "false"))) {
            // A flush in no key order at all, so that each slice is a random tenth of every start's series, as the
            // shards hand over a flush of one start.
            Random random = new Random(2);
            for (List<Window> flush : data) {
                Collections.shuffle(flush, random);
            }
        }
        Ingest ingest = ingestThreads > 0 ? new Ingest(ingestThreads, ingestSeries) : null;
        EmbeddedPostgres pg = stores.contains("postgres") ? EmbeddedPostgres.start() : null;
        try {
            for (String store : stores) {
                int kinds = paces.size();
                double[][] rates = new double[kinds][runs];
                double[][] drops = new double[kinds][runs];
                double[][] clientMicros = new double[kinds][runs];
                double[][] serverMicros = new double[kinds][runs];
                double[][] fileBytes = new double[kinds][runs];
                double[][] closeMicros = new double[kinds][runs];
                double[][] checkpointMicros = new double[kinds][runs];
                double[][] allocated = new double[kinds][runs];
                for (int run = 0; run < runs; run++) {
                    for (int k = 0; k < kinds; k++) {
                        int pace = paces.get(k);
                        String name = label + (interval.isZero() ? "" : " pace " + pace + "%");
                        Path dir = Files.createTempDirectory("meterline-flush-rate");
                        try (Store s = open(store, pg, dir, run * kinds + k)) {
                            List<List<Window>> copies = copies(data);
                            AggregationConfig config = new AggregationConfig(Duration.ofSeconds(10), Duration.ZERO,
                                    Duration.ofSeconds(1), 1, 1, 1, Duration.ofMillis(100), Duration.ofSeconds(10),
                                    pace);
                            FlushPace flushPace = new FlushPace(config, FlushPace.SLICE_WINDOWS,
                                    w -> Mono.fromCallable(() -> s.inKeyOrder(w)).subscribeOn(writerScheduler),
                                    w -> Mono.<Void>fromRunnable(() -> s.writePart(w)).subscribeOn(writerScheduler),
                                    Mono::empty, Schedulers.parallel(), () -> false);
                            seed(s, data.get(0), seed, new Random(3 + run));
                            awaitCheckpoints();
                            long runStart = System.nanoTime();
                            long ingestedAtStart = ingest == null ? 0 : ingest.points();
                            double before = ingest == null ? 0 : ingest.rate(1000);
                            long ingestedDuring = 0;
                            long checkpoints0 = checkpointCpuNanos();
                            long cpu0 = THREADS.getCurrentThreadCpuTime() + THREADS.getThreadCpuTime(writerId)
                                    + checkpoints0;
                            long server0 = serverCpuNanos(pg);
                            long allocated0 = allocatedBytes(writerId);
                            long start = System.nanoTime();
                            long busy = 0;
                            for (int f = 0; f < copies.size(); f++) {
                                long due = start + f * interval.toNanos();
                                while (System.nanoTime() < due) {
                                    Thread.sleep(Math.max(1, (due - System.nanoTime()) / 1_000_000));
                                }
                                List<Window> flush = copies.get(f);
                                long ingested = ingest == null ? 0 : ingest.points();
                                long t0 = System.nanoTime();
                                flushPace.write(flush, interval, w -> Mono.<Void>fromRunnable(() -> s.write(w))
                                        .subscribeOn(writerScheduler)).subscribeOn(writerScheduler).block();
                                busy += System.nanoTime() - t0;
                                ingestedDuring += ingest == null ? 0 : ingest.points() - ingested;
                            }
                            double seconds = busy / 1e9;
                            double rows = (double) windows * flushes;
                            // Ingest while no flush was being written: the second before and the gaps between.
                            double outsideSeconds = (System.nanoTime() - runStart - busy) / 1e9;
                            double outside = ingest == null ? 0
                                    : (ingest.points() - ingestedAtStart - ingestedDuring) / outsideSeconds;
                            awaitCheckpoints();
                            long checkpoints = checkpointCpuNanos();
                            checkpointMicros[k][run] = (checkpoints - checkpoints0) / 1e3 / rows;
                            clientMicros[k][run] = (THREADS.getCurrentThreadCpuTime()
                                    + THREADS.getThreadCpuTime(writerId) + checkpoints - cpu0) / 1e3 / rows;
                            allocated[k][run] = (allocatedBytes(writerId) - allocated0) / rows;
                            long closeCpu0 = THREADS.getCurrentThreadCpuTime();
                            s.close();
                            closeMicros[k][run] = (THREADS.getCurrentThreadCpuTime() - closeCpu0) / 1e3 / rows;
                            serverMicros[k][run] = store.equals("postgres")
                                    ? (serverCpuNanos(pg) - server0) / 1e3 / rows : 0;
                            rates[k][run] = rows / seconds;
                            double during = ingest == null ? 0 : ingestedDuring / seconds;
                            drops[k][run] = outside == 0 ? 0 : 1 - during / outside;
                            System.out.printf("flushrate %s %s run %d: %.0f rows/s (%d x %d rows in %.3f s), CPU per"
                                            + " row %.2f us writer (checkpoints %.2f) + %.2f us server, closing %.2f"
                                            + " us, writer allocated %.0f B per row%s%n",
                                    name, store, run + 1, rates[k][run], flushes, windows, seconds,
                                    clientMicros[k][run], checkpointMicros[k][run], serverMicros[k][run],
                                    closeMicros[k][run], allocated[k][run],
                                    ingest == null ? ""
                                            : String.format(", ingest %.2f M/s before, %.2f M/s outside the flushes,"
                                                    + " %.2f M/s during (%+.0f %%)", before / 1e6, outside / 1e6,
                                            during / 1e6, -100 * drops[k][run]));
                        } finally {
                            if (store.equals("sqlite")) {
                                long bytes = size(dir);
                                fileBytes[k][run] = bytes / ((double) windows * flushes);
                                System.out.printf("flushrate %s %s run %d: database %d bytes, %.1f bytes per row%n",
                                        name, store, run + 1, bytes, fileBytes[k][run]);
                            }
                            delete(dir);
                        }
                    }
                }
                for (int k = 0; k < kinds; k++) {
                    String name = label + (interval.isZero() ? "" : " pace " + paces.get(k) + "%");
                    Arrays.sort(rates[k]);
                    Arrays.sort(drops[k]);
                    Arrays.sort(clientMicros[k]);
                    Arrays.sort(serverMicros[k]);
                    Arrays.sort(fileBytes[k]);
                    Arrays.sort(closeMicros[k]);
                    Arrays.sort(checkpointMicros[k]);
                    Arrays.sort(allocated[k]);
                    System.out.printf("flushrate %s %s median: %.0f rows/s (%.0f-%.0f), CPU per row %.2f us writer"
                                    + " (checkpoints %.2f) + %.2f us server, closing %.2f us, writer allocated %.0f B per"
                                    + " row, ingest threads %d, ingest drop %.0f %% (%.0f-%.0f)%s%n",
                            name, store, rates[k][runs / 2], rates[k][0], rates[k][runs - 1], clientMicros[k][runs / 2],
                            checkpointMicros[k][runs / 2], serverMicros[k][runs / 2], closeMicros[k][runs / 2],
                            allocated[k][runs / 2],
                            ingestThreads, 100 * drops[k][runs / 2], 100 * drops[k][0], 100 * drops[k][runs - 1], store.equals("sqlite")
                                    ? String.format(", file %.1f bytes per row", fileBytes[k][runs / 2]) : "");
                }
            }
        } finally {
            writerScheduler.dispose();
            writerThread.shutdown();
            if (ingest != null) {
                ingest.stop();
            }
            if (pg != null) {
                pg.close();
            }
        }
    }

    /**
     * Before the timed flushes, unless {@code mode} is {@code none}: stores every series of {@code flush} with one
     * window long before the flushes' starts, in ten writes of a tenth of the series each, the tenths taken in the
     * series' text order ({@code ordered}) or at random ({@code scattered}). Scattered, the series' ids in the store
     * follow neither their texts' order nor the order the flushes hand them over in, as in a store whose series
     * arrived over time.
     */
    private static void seed(Store s, List<Window> flush, String mode, Random random) {
        if (mode.equals("none")) {
            return;
        }
        Map<SeriesKey, Window> first = new java.util.TreeMap<>();
        for (Window w : flush) {
            first.putIfAbsent(w.series(), w);
        }
        List<Window> series = new ArrayList<>(first.values());
        if (mode.equals("scattered")) {
            Collections.shuffle(series, random);
        }
        int part = Math.max(1, series.size() / 10);
        for (int from = 0; from < series.size(); from += part) {
            List<Window> write = new ArrayList<>();
            for (Window w : series.subList(from, Math.min(series.size(), from + part))) {
                write.add(new Window(w.series(), w.start() - 1_000_000_000L, w.resolution(), w.aggregate().copy(),
                        true, 1));
            }
            s.write(write);
        }
    }

    /**
     * Bytes allocated so far by the threads that write: the writer, this thread (which hands the flushes over) and
     * SQLite's checkpoint threads.
     */
    private static long allocatedBytes(long writerId) {
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) THREADS;
        long total = threads.getThreadAllocatedBytes(writerId)
                + threads.getThreadAllocatedBytes(Thread.currentThread().getId());
        for (java.lang.management.ThreadInfo t : THREADS.getThreadInfo(THREADS.getAllThreadIds())) {
            if (t != null && t.getThreadName().equals(SqliteCheckpoints.THREAD_NAME)) {
                total += Math.max(0, threads.getThreadAllocatedBytes(t.getThreadId()));
            }
        }
        return total;
    }

    /** CPU time so far of the threads that copy an SQLite store's log into its file apart from the writer. */
    private static long checkpointCpuNanos() {
        long total = 0;
        for (java.lang.management.ThreadInfo t : THREADS.getThreadInfo(THREADS.getAllThreadIds())) {
            if (t != null && t.getThreadName().equals(SqliteCheckpoints.THREAD_NAME)) {
                total += Math.max(0, THREADS.getThreadCpuTime(t.getThreadId()));
            }
        }
        return total;
    }

    /** Waits (up to a minute) until no checkpoint thread runs: the last flush's checkpoint counts with its rows. */
    private static void awaitCheckpoints() throws InterruptedException {
        long deadline = System.nanoTime() + 60_000_000_000L;
        // Idle at three looks in a row: a checkpoint just asked for may not have started at the first.
        int idle = 0;
        while (idle < 3 && System.nanoTime() < deadline) {
            boolean running = false;
            for (java.lang.management.ThreadInfo t : THREADS.getThreadInfo(THREADS.getAllThreadIds())) {
                running |= t != null && t.getThreadName().equals(SqliteCheckpoints.THREAD_NAME)
                        && t.getThreadState() == Thread.State.RUNNABLE;
            }
            idle = running ? 0 : idle + 1;
            Thread.sleep(2);
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
    static List<List<Window>> flushes(int windows, int perSeries, int count) {
        Random random = new Random(1);
        List<Window> base = FlushWindows.of(windows, perSeries, random);
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
