package dev.meterline.bench;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The steady-state driver: a server's life with many series that each report once a window, so that windows close
 * and are flushed while ingest goes on, as they do in production ({@link LoadGen} keeps every window open).
 *
 * <p>Starts {@code meterline.jar} as a child with its defaults (10 s windows, 5 s lateness, the embedded SQLite store,
 * the write-ahead log on), then sends each of {@code --series} series one point every {@code --period} seconds, paced
 * evenly over the period, for {@code --duration} seconds. The lines carry no timestamp: the server stamps each point
 * as it arrives, so event time advances with the clock and every window closes after its lateness. Once a second it
 * reads the server's {@code /metrics}; at the end it prints the rate achieved against the target, how far the
 * senders fell behind their schedule, every flush's duration and windows written, the windows waiting for storage,
 * drops and ingest pauses, the log's size, bytes per point, peak on disk and writer's CPU, the server's CPU by thread
 * group, heap and RSS.
 *
 * <p>{@code java -cp target/test-classes:target/meterline.jar dev.meterline.bench.Steady --series 1000000
 * --duration 90 --compare "jar=/tmp/a.jar|jar=/tmp/b.jar"}; {@code --help} lists the options.
 */
public final class Steady {

    /** Command-line options, with defaults. */
    static final class Options {
        String jar = "target/meterline.jar";
        int series = 1_000_000;
        int connections = 4;
        int periodSeconds = 10;
        int durationSeconds = 90;
        int chunkLines = 1_000;
        String heap = "3g";
        String serverArgs = "";
        String postgres;
        String compare;
        int runs = 1;
        String samples;
        String query;
        String queryLog;

        static Options parse(String[] args) {
            Options o = new Options();
            for (int i = 0; i < args.length; i++) {
                String a = args[i];
                String v = i + 1 < args.length ? args[i + 1] : null;
                switch (a) {
                    case "--jar" -> { o.jar = v; i++; }
                    case "--series" -> { o.series = Integer.parseInt(v); i++; }
                    case "--connections" -> { o.connections = Integer.parseInt(v); i++; }
                    case "--period" -> { o.periodSeconds = Integer.parseInt(v); i++; }
                    case "--duration" -> { o.durationSeconds = Integer.parseInt(v); i++; }
                    case "--chunk" -> { o.chunkLines = Integer.parseInt(v); i++; }
                    case "--heap" -> { o.heap = v; i++; }
                    case "--server-args" -> { o.serverArgs = v; i++; }
                    case "--postgres" -> { o.postgres = v; i++; }
                    case "--compare" -> { o.compare = v; i++; }
                    case "--runs" -> { o.runs = Integer.parseInt(v); i++; }
                    case "--samples" -> { o.samples = v; i++; }
                    case "--query" -> { o.query = v; i++; }
                    case "--query-log" -> { o.queryLog = v; i++; }
                    case "--help" -> {
                        System.out.println("""
                                Steady [--series 1000000] [--period 10] [--duration 90] [--connections 4]
                                       [--chunk 1000] [--heap 3g] [--jar target/meterline.jar]
                                       [--server-args "meterline flags"] [--samples DIR]
                                       [--postgres jdbc:postgresql://127.0.0.1:5432/postgres?user=postgres]
                                       [--compare "jar=/tmp/a.jar|jar=/tmp/b.jar -Xflag"] [--runs R]
                                       [--query "/api/v1/aggregates?metric=bench.m3&tag=host:h13"] [--query-log DIR]
                                  every series sends one point per period (target rate: series / period points/s),
                                  in chunks of --chunk lines paced evenly; --samples writes each run's once-a-second
                                  /metrics readings to DIR/steady-PID.tsv; --postgres gives each server a fresh
                                  database on that PostgreSQL server (created from that administrative URL, dropped
                                  after the run) and reports its processes' CPU (the server on this machine);
                                  --query asks that path once a second over a socket of its own, as a dashboard
                                  would, and reports its latency; --query-log writes each run's queries to
                                  DIR/query-PID.tsv (wall-clock start in ms, latency in ms, start in us) (a tag filter on a metric of 1 024 series or more in a shard makes the
                                  shard keep a tag index of that metric)""");
                        System.exit(0);
                    }
                    default -> throw new IllegalArgumentException(a + " (expected: an option, see --help)");
                }
            }
            return o;
        }
    }

    /** Meters sampled once a second, by the start of their Prometheus line. */
    private static final String[] SAMPLED = {
        "meterline_windows_pending ", "meterline_windows_flushed_total", "meterline_flush_duration_seconds_count",
        "meterline_flush_duration_seconds_sum", "meterline_flush_duration_seconds_max",
        "meterline_store_write_duration_seconds_count", "meterline_store_write_duration_seconds_sum",
        "meterline_store_write_duration_seconds_max", "meterline_flush_lag_seconds", "meterline_wal_bytes ",
        "meterline_points_dropped_total", "meterline_ingest_paused", "meterline_flush_ticks_skipped_total",
        "meterline_flush_failures_total", "meterline_flush_paced_seconds_total", "meterline_series_active",
        "meterline_spool_windows", "meterline_wal_pauses_total", "meterline_wal_written_bytes_total",
        "meterline_wal_segments ", "meterline_wal_paused ",
    };

    private final Options o;

    private Steady(Options o) {
        this.o = o;
    }

    public static void main(String[] args) throws Exception {
        Options o = Options.parse(args);
        Steady s = new Steady(o);
        System.out.println("machine: " + Runtime.getRuntime().availableProcessors() + " cores, load average "
                + LoadGen.uptime());
        Block[] blocks = new Block[o.connections];
        for (int c = 0; c < o.connections; c++) {
            blocks[c] = Block.encode(c, o.connections, o.series, o.chunkLines);
        }
        System.out.printf(Locale.ROOT, "steady: %,d series, one point each per %d s (target %,.0f points/s), %d s,"
                        + " %d connections, chunks of %,d lines%n", o.series, o.periodSeconds,
                (double) o.series / o.periodSeconds, o.durationSeconds, o.connections, o.chunkLines);
        String[] variants = o.compare == null ? new String[]{""} : o.compare.split("\\|");
        for (int r = 0; r < o.runs; r++) {
            for (String v : variants) {
                System.out.printf(Locale.ROOT, "%nrun %d [%s] at %s, load average %s%n", r + 1, v.trim(),
                        java.time.Instant.now(), LoadGen.uptime());
                s.runOnce(blocks, v.trim());
            }
        }
    }

    private void runOnce(Block[] blocks, String variant) throws Exception {
        List<String> args = new ArrayList<>(List.of("--max-series", String.valueOf(Math.max(100_000, 2L * o.series))));
        LoopbackPostgres pg = o.postgres == null ? null : LoopbackPostgres.create(o.postgres);
        if (pg != null) {
            args.addAll(pg.serverArgs());
        }
        args.addAll(ChildServer.words(o.serverArgs));
        try (pg; ChildServer server = ChildServer.start(Path.of(o.jar), variant, o.heap, List.of(), args)) {
            LoadGen.Http http = new LoadGen.Http(server.httpPort);
            http.awaitReady(Duration.ofSeconds(60));
            long pid = server.pid();
            Map<String, Long> cpu0 = LoadGen.Proc.threadCpu(pid);
            long[] total0 = LoadGen.Proc.cpuTicks(pid);
            long pg0 = pg == null ? -1 : pg.cpuTicks();
            LoadGen.Latencies syncs = new LoadGen.Latencies();
            LoadGen.Latencies queries = new LoadGen.Latencies();
            // The queries from the third period on: every series exists by then and its first flush is stored, so
            // these leave out the start (a million series opened, then stored for the first time).
            LoadGen.Latencies settled = new LoadGen.Latencies();
            // A blocking socket this thread reads itself: the JDK's client hands each exchange to threads of its own,
            // which wait for a core among the senders' and take the query's time many times over.
            LoadGen.SocketGet query = o.query == null ? null : new LoadGen.SocketGet(server.httpPort, o.query);
            List<Sender> senders = new ArrayList<>();
            for (Block b : blocks) {
                senders.add(new Sender(server.tcpPort, b, syncs));
            }
            for (Sender s : senders) {
                s.connect();
            }
            long periodNanos = o.periodSeconds * 1_000_000_000L;
            int cycles = Math.max(1, o.durationSeconds / o.periodSeconds);
            CountDownLatch go = new CountDownLatch(1);
            long t0 = System.nanoTime() + 200_000_000L;
            for (Sender s : senders) {
                s.start(go, t0, periodNanos, cycles);
            }
            go.countDown();
            List<Map<String, Double>> samples = new ArrayList<>();
            List<Long> sampleAt = new ArrayList<>();
            long heapMax = 0;
            int queryFailures = 0;
            String firstFailure = null;
            boolean sending = true;
            long next = t0;
            while (sending) {
                next += 1_000_000_000L;
                long wait = next - System.nanoTime();
                if (wait > 0) {
                    Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
                }
                if (query != null) {
                    long began = System.nanoTime();
                    long beganMicros = System.currentTimeMillis() * 1_000;
                    try {
                        query.get();
                        queries.add(beganMicros, System.nanoTime() - began);
                        if (began - t0 >= 2 * periodNanos) {
                            settled.add(System.nanoTime() - began);
                        }
                    } catch (IOException e) {
                        // An answer other than 200 is counted and the run goes on; the connection is read to its end.
                        if (queryFailures++ == 0) {
                            firstFailure = e.getMessage();
                        }
                    }
                }
                String metrics = http.get("/metrics");
                samples.add(parse(metrics));
                sampleAt.add(System.nanoTime() - t0);
                heapMax = Math.max(heapMax, heapUsed(metrics));
                sending = false;
                for (Sender s : senders) {
                    sending |= s.sender.isAlive();
                }
            }
            long sentEnd = System.nanoTime();
            if (query != null) {
                query.close();
            }
            for (Sender s : senders) {
                s.await();
            }
            long[] total1 = LoadGen.Proc.cpuTicks(pid);
            long pg1 = pg == null ? -1 : pg.cpuTicks();
            Map<String, Long> cpu1 = LoadGen.Proc.threadCpu(pid);
            long points = 0;
            long errors = 0;
            long behindMax = 0;
            for (Sender s : senders) {
                points += s.sent.get();
                errors += s.errors.get();
                behindMax = Math.max(behindMax, s.behindMax);
            }
            // The senders' schedule spans whole periods: the rate is over them, or over longer if the senders fell behind.
            double seconds = Math.max(cycles * (double) o.periodSeconds, (sentEnd - t0) / 1e9);
            double cpu = (total1[0] + total1[1] - total0[0] - total0[1]) / 100.0;
            Map<String, Double> last = samples.get(samples.size() - 1);
            System.out.printf(Locale.ROOT, "  sent %,d points in %.1f s: %,.0f points/s (target %,.0f); senders at"
                            + " most %.2f s behind schedule; %d error lines; sync p50 %.1f ms, p99 %.1f ms%n",
                    points, seconds, points / seconds, (double) o.series / o.periodSeconds, behindMax / 1e9, errors,
                    syncs.percentile(0.5), syncs.percentile(0.99));
            if (o.query != null) {
                System.out.printf(Locale.ROOT, "  query %s: p50 %.1f ms, p99 %.1f ms; from the third period on"
                                + " (%d queries) p50 %.1f ms, p90 %.1f ms, p99 %.1f ms%s%n", o.query,
                        queries.percentile(0.5), queries.percentile(0.99), settled.count(), settled.percentile(0.5),
                        settled.percentile(0.9), settled.percentile(0.99), queryFailures == 0 ? ""
                                : String.format(Locale.ROOT, "; %d failed, the first: %s", queryFailures, firstFailure));
            }
            System.out.printf(Locale.ROOT, "  server CPU %.1f s (%.2f cores, %.2f us/point); peak RSS %,d MiB;"
                            + " heap used at most %,d MiB%n", cpu, cpu / seconds, cpu * 1e6 / Math.max(1, points),
                    LoadGen.Proc.statusKb(pid, "VmHWM") / 1024, heapMax >> 20);
            System.out.printf(Locale.ROOT, "  at the end: %,.0f windows flushed, %,.0f pending, %,.0f dropped, %,.0f"
                            + " flush ticks skipped, %,.0f flush failures, %,.0f log pauses, ingest paused %s,"
                            + " log %,.0f MiB%n", get(last, "meterline_windows_flushed_total"),
                    get(last, "meterline_windows_pending "), get(last, "meterline_points_dropped_total"),
                    get(last, "meterline_flush_ticks_skipped_total"), get(last, "meterline_flush_failures_total"),
                    get(last, "meterline_wal_pauses_total"), get(last, "meterline_ingest_paused"),
                    get(last, "meterline_wal_bytes ") / (1 << 20));
            printFlushes(samples, sampleAt);
            Map<String, Long> used = LoadGen.Proc.groupsUsed(cpu0, cpu1);
            printCpu(used);
            printLog(samples, points, used.getOrDefault("meterline-wal", 0L));
            long storeNanos = 0;
            for (Map.Entry<String, Long> e : used.entrySet()) {
                if (e.getKey().startsWith("meterline-store") || e.getKey().startsWith("meterline-sqlit")) {
                    storeNanos += e.getValue();
                }
            }
            double flushed = get(last, "meterline_windows_flushed_total");
            System.out.printf(Locale.ROOT, "  store threads (writer and checkpoints): %.1f s CPU for %,.0f windows"
                    + " flushed, %.2f us per window%n", storeNanos / 1e9, flushed, storeNanos / 1e3 / flushed);
            if (pg0 >= 0 && pg1 >= 0) {
                double pgSeconds = (pg1 - pg0) / 100.0;
                System.out.printf(Locale.ROOT, "  PostgreSQL's processes: %.1f s CPU (%.2f cores), %.2f us per window"
                        + " flushed%n", pgSeconds, pgSeconds / seconds, pgSeconds * 1e6 / Math.max(1, flushed));
            }
            if (o.queryLog != null) {
                queries.write(Path.of(o.queryLog).resolve("query-" + pid + ".tsv"));
            }
            if (o.samples != null) {
                writeSamples(Path.of(o.samples).resolve("steady-" + pid + ".tsv"), samples, sampleAt);
            }
        }
    }

    /**
     * One line per second in which flushes ended or windows were pending: windows written, flushes ended and their
     * summed duration, store writes and their time, the longest write seen, pending windows and the flush lag.
     */
    private static void printFlushes(List<Map<String, Double>> samples, List<Long> at) {
        System.out.println("  second  written  flushes  flush-s  writes  write-s  write-max  pending  lag-s  log-MiB");
        Map<String, Double> before = Map.of();
        for (int i = 0; i < samples.size(); i++) {
            Map<String, Double> s = samples.get(i);
            double written = get(s, "meterline_windows_flushed_total") - get(before, "meterline_windows_flushed_total");
            double pending = get(s, "meterline_windows_pending ");
            if (written > 0 || pending > 0) {
                System.out.printf(Locale.ROOT, "  %6.0f %8.0f %8.0f %8.2f %7.0f %8.2f %10.3f %8.0f %6.1f %8.0f%n",
                        at.get(i) / 1e9, written,
                        get(s, "meterline_flush_duration_seconds_count")
                                - get(before, "meterline_flush_duration_seconds_count"),
                        get(s, "meterline_flush_duration_seconds_sum")
                                - get(before, "meterline_flush_duration_seconds_sum"),
                        get(s, "meterline_store_write_duration_seconds_count")
                                - get(before, "meterline_store_write_duration_seconds_count"),
                        get(s, "meterline_store_write_duration_seconds_sum")
                                - get(before, "meterline_store_write_duration_seconds_sum"),
                        get(s, "meterline_store_write_duration_seconds_max"), pending,
                        get(s, "meterline_flush_lag_seconds"), get(s, "meterline_wal_bytes ") / (1 << 20));
            }
            before = s;
        }
    }

    /**
     * The write-ahead log: bytes appended per point sent, its most bytes and segments on disk in any sample, the
     * seconds ingest spent paused at its bound, and its writer thread's CPU.
     */
    private static void printLog(List<Map<String, Double>> samples, long points, long writerNanos) {
        double peakBytes = 0;
        double peakSegments = 0;
        int pausedSeconds = 0;
        for (Map<String, Double> s : samples) {
            peakBytes = Math.max(peakBytes, get(s, "meterline_wal_bytes "));
            peakSegments = Math.max(peakSegments, get(s, "meterline_wal_segments "));
            pausedSeconds += get(s, "meterline_wal_paused ") > 0 ? 1 : 0;
        }
        double written = get(samples.get(samples.size() - 1), "meterline_wal_written_bytes_total");
        System.out.printf(Locale.ROOT, "  log: %,.0f MiB written, %.1f B/point; at most %,.0f MiB in %.0f segment(s);"
                        + " %,.0f pauses, paused in %d of %d samples; writer %.2f s CPU (%.2f us/point)%n",
                written / (1 << 20), written / Math.max(1, points), peakBytes / (1 << 20), peakSegments,
                get(samples.get(samples.size() - 1), "meterline_wal_pauses_total"), pausedSeconds, samples.size(),
                writerNanos / 1e9, writerNanos / 1e3 / Math.max(1, points));
    }

    private static void printCpu(Map<String, Long> used) {
        StringBuilder sb = new StringBuilder("  server CPU by thread group (s):");
        used.entrySet().stream().filter(e -> e.getValue() >= 200_000_000L)
                .sorted((a, b) -> Long.compare(b.getValue(), a.getValue()))
                .forEach(e -> sb.append(String.format(Locale.ROOT, " %s %.1f", e.getKey(), e.getValue() / 1e9)));
        System.out.println(sb);
    }

    private static void writeSamples(Path file, List<Map<String, Double>> samples, List<Long> at) throws IOException {
        StringBuilder sb = new StringBuilder("seconds");
        for (String name : SAMPLED) {
            sb.append('\t').append(name.trim());
        }
        sb.append('\n');
        for (int i = 0; i < samples.size(); i++) {
            sb.append(String.format(Locale.ROOT, "%.1f", at.get(i) / 1e9));
            for (String name : SAMPLED) {
                sb.append('\t').append(get(samples.get(i), name));
            }
            sb.append('\n');
        }
        Files.createDirectories(file.getParent());
        Files.writeString(file, sb.toString());
    }

    private static double get(Map<String, Double> sample, String name) {
        return sample.getOrDefault(name, 0.0);
    }

    /** The sampled meters of one {@code /metrics} answer, each summed over its tags. */
    private static Map<String, Double> parse(String metrics) {
        Map<String, Double> out = new LinkedHashMap<>();
        for (String line : metrics.split("\n")) {
            if (line.startsWith("#")) {
                continue;
            }
            for (String name : SAMPLED) {
                String bare = name.trim();
                if (line.startsWith(name) || line.startsWith(bare + "{") || line.startsWith(bare + " ")) {
                    double v = Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
                    out.merge(name, v, name.endsWith("_max") ? Math::max : Double::sum);
                }
            }
        }
        return out;
    }

    private static long heapUsed(String metrics) {
        long used = 0;
        for (String l : metrics.split("\n")) {
            if (l.startsWith("jvm_memory_used_bytes{") && l.contains("area=\"heap\"")) {
                used += (long) Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1));
            }
        }
        return used;
    }

    /** One connection's series, each once, as NDJSON without timestamps, cut after each chunk's sync line. */
    static final class Block {
        final byte[] bytes;
        final int[] chunkEnds;
        final int[] chunkPoints;

        private Block(byte[] bytes, int[] chunkEnds, int[] chunkPoints) {
            this.bytes = bytes;
            this.chunkEnds = chunkEnds;
            this.chunkPoints = chunkPoints;
        }

        /** Series {@code i} as {@link LoadGen}'s: metric {@code bench.m(i % 10)}, tags host, region, svc. */
        static Block encode(int conn, int connections, int series, int chunkLines) {
            java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream(series / connections * 100 + 64);
            StringBuilder sb = new StringBuilder();
            List<Integer> ends = new ArrayList<>();
            List<Integer> counts = new ArrayList<>();
            int inChunk = 0;
            int j = 0;
            for (int s = conn; s < series; s += connections) {
                double value = ((j++ * 7919L) % 10_000) / 10.0;
                sb.append("{\"metric\":\"bench.m").append(s % 10).append("\",\"value\":").append(value)
                        .append(",\"tags\":{\"host\":\"h").append(s).append("\",\"region\":\"r").append(s % 7)
                        .append("\",\"svc\":\"api\"}}\n");
                if (++inChunk == chunkLines || s + connections >= series) {
                    sb.append("{\"sync\":\"c\"}\n");
                    byte[] b = sb.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8);
                    out.write(b, 0, b.length);
                    sb.setLength(0);
                    ends.add(out.size());
                    counts.add(inChunk);
                    inChunk = 0;
                }
            }
            return new Block(out.toByteArray(), ends.stream().mapToInt(Integer::intValue).toArray(),
                    counts.stream().mapToInt(Integer::intValue).toArray());
        }
    }

    /** Sends its block once a period, each chunk at its even share of the period; a reader counts the replies. */
    static final class Sender {
        final int port;
        final Block block;
        /** Each chunk's time from its send to its sync reply. */
        final LoadGen.Latencies syncs;
        final AtomicLong sent = new AtomicLong();
        final AtomicLong errors = new AtomicLong();
        /** Send times of chunks whose sync reply has not come back, in order. */
        final java.util.concurrent.ConcurrentLinkedQueue<Long> unanswered =
                new java.util.concurrent.ConcurrentLinkedQueue<>();
        volatile long behindMax;
        java.nio.channels.SocketChannel ch;
        Thread sender;
        Thread reader;
        volatile Throwable failure;
        volatile int expected = -1;

        Sender(int port, Block block, LoadGen.Latencies syncs) {
            this.port = port;
            this.block = block;
            this.syncs = syncs;
        }

        void connect() throws IOException {
            ch = java.nio.channels.SocketChannel.open(new java.net.InetSocketAddress("127.0.0.1", port));
            ch.socket().setTcpNoDelay(true);
        }

        void start(CountDownLatch go, long t0, long periodNanos, int cycles) {
            int chunks = block.chunkEnds.length;
            expected = chunks * cycles;
            sender = new Thread(null, () -> {
                try {
                    go.await();
                    for (int c = 0; c < cycles; c++) {
                        int from = 0;
                        for (int k = 0; k < chunks; k++) {
                            long due = t0 + c * periodNanos + k * periodNanos / chunks;
                            long now = System.nanoTime();
                            if (due > now) {
                                Thread.sleep((due - now) / 1_000_000, (int) ((due - now) % 1_000_000));
                            } else {
                                behindMax = Math.max(behindMax, now - due);
                            }
                            int end = block.chunkEnds[k];
                            ByteBuffer buf = ByteBuffer.wrap(block.bytes, from, end - from);
                            unanswered.add(System.nanoTime());
                            while (buf.hasRemaining()) {
                                ch.write(buf);
                            }
                            sent.addAndGet(block.chunkPoints[k]);
                            from = end;
                        }
                    }
                } catch (Throwable e) {
                    failure = e;
                }
            }, "steady-send", 256 * 1024);
            reader = new Thread(null, this::read, "steady-read", 256 * 1024);
            sender.start();
            reader.start();
        }

        private void read() {
            try {
                InputStream in = ch.socket().getInputStream();
                byte[] buf = new byte[8192];
                StringBuilder line = new StringBuilder();
                int answered = 0;
                int n;
                while (answered < expected && (n = in.read(buf)) > 0) {
                    for (int i = 0; i < n; i++) {
                        char c = (char) buf[i];
                        if (c != '\n') {
                            line.append(c);
                            continue;
                        }
                        if (line.indexOf("\"synced\"") >= 0) {
                            Long sentAt = unanswered.poll();
                            if (sentAt != null) {
                                syncs.add(System.nanoTime() - sentAt);
                            }
                            answered++;
                        } else {
                            errors.incrementAndGet();
                        }
                        line.setLength(0);
                    }
                }
                ch.close();
            } catch (Throwable e) {
                failure = e;
            }
        }

        void await() throws Exception {
            sender.join();
            reader.join(120_000);
            if (failure != null) {
                throw new IllegalStateException("connection failed", failure);
            }
        }
    }
}
