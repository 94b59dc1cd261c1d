package dev.meterline.bench;

import dev.meterline.lifecycle.Niceness;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.TreeMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The load generator: starts {@code target/meterline.jar} as a child process, streams pre-encoded NDJSON over TCP
 * connections as fast as the server takes it, and reports end-to-end points/s, sync and query latency, server CPU,
 * peak RSS and heap per active series, next to a bare single-threaded Jackson-parse + HashMap loop over the same bytes.
 *
 * <p>Run with {@code ./mvnw -B -q -Pbench verify -DskipTests -Dbench.args="..."} or directly with
 * {@code java -cp target/meterline.jar:target/test-classes dev.meterline.bench.LoadGen [options]}; {@code --help}
 * lists the options.
 */
public final class LoadGen {

    private final Options o;
    private final Path jar;

    private LoadGen(Options o) {
        this.o = o;
        this.jar = Path.of(o.jar);
    }

    /** In place of a time for {@link Workload#build}: the lines carry no timestamp. */
    static final long NO_TIMESTAMP = Long.MIN_VALUE;

    /** Command-line options, with defaults. */
    static final class Options {
        String jar = "target/meterline.jar";
        int series = 10_000;
        int connections = 4;
        long points = 6_000_000;
        int runs = 3;
        int syncEvery = 20_000;
        String heap = "3g";
        boolean sweep;
        String plots;
        String serverOpts = "";
        String serverArgs = "";
        /** Lines without a timestamp: the server stamps each point as it arrives, so windows close during a run. */
        boolean noTimestamps;
        /** Server flag sets to compare, separated by {@code |}: each run runs every set once, in turn. */
        String compare;
        /** The request path the query loop asks, when not one series' aggregates (e.g. /healthz, as a floor). */
        String query;
        /**
         * A directory for each run's query samples ({@code query-PID.tsv}: wall-clock start ms, latency ms, wall-clock
         * start in epoch microseconds, to set against a server's own timestamps).
         */
        String queryLog;
        /** The query loop's client: the JDK's HttpClient ("jdk"), or a blocking socket read by the loop ("socket"). */
        String queryClient = "jdk";
        /** Queries asked back to back before the load starts, so the run measures a compiled query path. */
        int queryWarmup;
        /**
         * The Linux nice value of the senders' and readers' threads. At the server's ingest nice they stand for clients
         * on other machines: they still compete with the server's ingest for these cores, but no longer with the query
         * loop's client and the server's HTTP loop, which run at the default priority.
         */
        int senderNice;

        static Options parse(String[] args) {
            Options o = new Options();
            for (int i = 0; i < args.length; i++) {
                String a = args[i];
                String v = i + 1 < args.length ? args[i + 1] : null;
                switch (a) {
                    case "--jar" -> { o.jar = v; i++; }
                    case "--series" -> { o.series = Integer.parseInt(v); i++; }
                    case "--connections" -> { o.connections = Integer.parseInt(v); i++; }
                    case "--points" -> { o.points = Long.parseLong(v); i++; }
                    case "--runs" -> { o.runs = Integer.parseInt(v); i++; }
                    case "--sync-every" -> { o.syncEvery = Integer.parseInt(v); i++; }
                    case "--heap" -> { o.heap = v; i++; }
                    case "--server-opts" -> { o.serverOpts = v; i++; }
                    case "--server-args" -> { o.serverArgs = v; i++; }
                    case "--sweep" -> o.sweep = true;
                    case "--no-timestamps" -> o.noTimestamps = true;
                    case "--compare" -> { o.compare = v; i++; }
                    case "--query" -> { o.query = v; i++; }
                    case "--query-log" -> { o.queryLog = v; i++; }
                    case "--query-warmup" -> { o.queryWarmup = Integer.parseInt(v); i++; }
                    case "--sender-nice" -> { o.senderNice = Integer.parseInt(v); i++; }
                    case "--query-client" -> {
                        if (!v.equals("jdk") && !v.equals("socket")) {
                            throw new IllegalArgumentException("--query-client: '" + v + "' (expected: jdk or socket)");
                        }
                        o.queryClient = v;
                        i++;
                    }
                    case "--plots" -> { o.plots = v; i++; }
                    case "--help" -> {
                        System.out.println("""
                                LoadGen [--series N] [--connections C] [--points P] [--runs R] [--sync-every K]
                                        [--heap 3g] [--server-opts "JVM flags"] [--server-args "meterline flags"]
                                        [--jar target/meterline.jar] [--no-timestamps]
                                        [--compare "--wal-fsync=interval|--wal-fsync=off"]
                                        [--compare "jar=/tmp/a.jar|jar=/tmp/b.jar"]
                                        [--compare "jar=/tmp/a.jar|jar=/tmp/a.jar -XX:+UseShenandoahGC"]
                                          (a variant's -X and -D words go to the server's JVM)
                                        [--query /healthz] (the query loop's path; default one series' aggregates)
                                        [--query-log DIR] (each run's query samples, DIR/query-PID.tsv: wall-clock
                                          start in ms, latency in ms, start in epoch us; %p in --server-opts is the
                                          same PID)
                                        [--query-client jdk|socket] (the JDK's HttpClient, or a blocking socket
                                          the query thread itself reads: no client threads between it and the server)
                                        [--query-warmup N] (N queries back to back before the load, so that the
                                          run measures a query path the JIT has compiled; default 0)
                                        [--sender-nice N] (the senders' and readers' Linux nice value, e.g. the
                                          server's ingest nice 5, as clients on other machines; default 0)
                                        [--sweep] [--plots docs]
                                  one scenario (series x connections) run R times, or with --sweep the scaling
                                  tables (series 1k..1M at 4 connections, connections 1..1000 at 10k series)""");
                        System.exit(0);
                    }
                    default -> throw new IllegalArgumentException(a + " (expected: an option, see --help)");
                }
            }
            return o;
        }
    }

    public static void main(String[] args) throws Exception {
        Options o = Options.parse(args);
        LoadGen g = new LoadGen(o);
        System.out.println("machine: " + Runtime.getRuntime().availableProcessors() + " cores, load average "
                + uptime());
        if (o.sweep) {
            g.sweep();
        } else if (o.compare != null) {
            g.compare(o.series, o.connections, o.points, o.runs, o.compare.split("\\|"));
        } else {
            g.scenario(o.series, o.connections, o.points, o.runs, true);
        }
    }

    // ---------------------------------------------------------------- scenarios

    /** One scenario, run several times; prints each run and the medians. */
    List<Result> scenario(int series, int connections, long points, int runs, boolean verbose) throws Exception {
        Workload w = Workload.build(series, connections, points, o.syncEvery,
                o.noTimestamps ? NO_TIMESTAMP : System.currentTimeMillis());
        System.out.printf(Locale.ROOT, "%nscenario: %,d series, %d connections, %,d points (%,d bytes), sync every %,d lines%n",
                series, connections, w.totalPoints(), w.totalBytes(), o.syncEvery);
        List<Result> results = new ArrayList<>();
        for (int r = 0; r < runs; r++) {
            double[] ref = Reference.rate(w);
            Result res = runOnce(w);
            res.reference = ref[0];
            res.referenceCpuMicros = ref[1];
            results.add(res);
            if (verbose) {
                System.out.println("  run " + (r + 1) + ": " + res);
                System.out.println(res.cpuByGroup());
            }
        }
        System.out.println("  median (min-max) of " + runs + ": " + Result.summary(results));
        return results;
    }

    /**
     * One scenario under several server flag sets, alternating run by run (A B A B …) so that a noisy machine weighs
     * on every set alike; prints each run, then each set's median and range.
     */
    void compare(int series, int connections, long points, int runs, String[] variants) throws Exception {
        Workload w = Workload.build(series, connections, points, o.syncEvery,
                o.noTimestamps ? NO_TIMESTAMP : System.currentTimeMillis());
        System.out.printf(Locale.ROOT, "%ncomparison: %,d series, %d connections, %,d points (%,d bytes), sync every"
                + " %,d lines%n", series, connections, w.totalPoints(), w.totalBytes(), o.syncEvery);
        Map<String, List<Result>> byVariant = new LinkedHashMap<>();
        for (int r = 0; r < runs; r++) {
            for (String v : variants) {
                Result res = runOnce(w, v.trim());
                byVariant.computeIfAbsent(v.trim(), k -> new ArrayList<>()).add(res);
                System.out.printf(Locale.ROOT, "  run %d [%s]: %s; log %.1f bytes/point%n", r + 1, v.trim(), res,
                        res.walBytesPerPoint);
                System.out.println(res.cpuByGroup());
            }
        }
        for (Map.Entry<String, List<Result>> e : byVariant.entrySet()) {
            System.out.println("  [" + e.getKey() + "] median (min-max) of " + runs + ": "
                    + Result.summary(e.getValue()));
        }
    }

    void sweep() throws Exception {
        Map<String, List<Result>> bySeries = new LinkedHashMap<>();
        for (int s : new int[]{1_000, 10_000, 100_000, 1_000_000}) {
            long pts = s >= 1_000_000 ? 4_000_000 : o.points;
            bySeries.put(String.valueOf(s), scenario(s, 4, pts, o.runs, true));
        }
        Map<String, List<Result>> byConn = new LinkedHashMap<>();
        for (int c : new int[]{1, 4, 64, 1000}) {
            byConn.put(String.valueOf(c), scenario(10_000, c, o.points, o.runs, true));
        }
        System.out.println();
        System.out.println("Throughput and memory vs series (4 connections), median of " + o.runs + " (min-max):");
        Tables.print("series", bySeries);
        System.out.println();
        System.out.println("Throughput vs connections (10 000 series), median of " + o.runs + " (min-max):");
        Tables.print("connections", byConn);
        if (o.plots != null) {
            Path dir = Path.of(o.plots);
            Files.createDirectories(dir);
            Plots.bars(dir.resolve("perf-series.png"), "Points/s vs series (4 connections)", "series", bySeries,
                    r -> r.rate / 1e6, "M points/s", true);
            Plots.bars(dir.resolve("perf-connections.png"), "Points/s vs connections (10 000 series)", "connections",
                    byConn, r -> r.rate / 1e6, "M points/s", true);
            Plots.bars(dir.resolve("perf-memory.png"), "Heap per active series after GC (4 connections)", "series",
                    bySeries, r -> r.heapPerSeries, "bytes / series", false);
            System.out.println("plots written to " + dir);
        }
    }

    // ---------------------------------------------------------------- one run against a child server

    Result runOnce(Workload w) throws Exception {
        return runOnce(w, "");
    }

    Result runOnce(Workload w, String extraArgs) throws Exception {
        // A variant of --compare may name its own jar first ("jar=/tmp/a.jar --flag=v"), to compare builds.
        List<String> args = new ArrayList<>(List.of(
                // The whole run lands in windows that stay open, so heap after the run is the open-window state.
                "--lateness", "10m", "--max-series", "2000000"));
        args.addAll(ChildServer.words(o.serverArgs));
        try (ChildServer server = ChildServer.start(jar, extraArgs, o.heap, ChildServer.words(o.serverOpts), args)) {
            Http http = new Http(server.httpPort);
            http.awaitReady(Duration.ofSeconds(60));
            long pid = server.pid();
            String queryPath = o.query != null ? o.query
                    : "/api/v1/aggregates?metric=" + w.queryMetric + "&tag=host:" + w.queryHost;
            if (o.queryWarmup > 0) {
                // Before the heap is measured, so that what the warm-up leaves is not counted per series.
                http.warmUp(queryPath, o.queryWarmup, o.queryClient);
            }
            long heapBefore = http.heapAfterGc(pid);
            long[] cpu0 = Proc.cpuTicks(pid);
            Map<String, Long> threads0 = Proc.threadCpu(pid);

            AtomicBoolean loading = new AtomicBoolean(true);
            Latencies queryLat = new Latencies();
            Thread querier = new Thread(() -> http.queryLoop(loading, queryLat, queryPath, o.queryClient),
                    "bench-query");
            Latencies syncLat = new Latencies();
            Niceness senderNice = Niceness.of(o.senderNice);
            List<Conn> conns = new ArrayList<>();
            for (int c = 0; c < w.connections; c++) {
                conns.add(new Conn(server.tcpPort, w.blocks[c], w.repeats, syncLat, senderNice));
            }
            for (Conn c : conns) {
                c.connect();
            }
            CountDownLatch go = new CountDownLatch(1);
            for (Conn c : conns) {
                c.start(go);
            }
            querier.start();
            long t0 = System.nanoTime();
            go.countDown();
            long end = 0;
            long errors = 0;
            long firstSend = Long.MAX_VALUE;
            for (Conn c : conns) {
                c.await();
                end = Math.max(end, c.lastSynced);
                firstSend = Math.min(firstSend, c.firstSend);
                errors += c.errors.get();
            }
            loading.set(false);
            querier.join();
            long[] cpu1 = Proc.cpuTicks(pid);
            Map<String, Long> threads1 = Proc.threadCpu(pid);
            Result r = new Result();
            r.points = w.totalPoints();
            r.seconds = (end - Math.min(firstSend, t0 + 1_000_000_000L)) / 1e9;
            r.rate = r.points / r.seconds;
            r.errors = errors;
            r.syncP50 = syncLat.percentile(0.50);
            r.syncP99 = syncLat.percentile(0.99);
            r.queryP50 = queryLat.percentile(0.50);
            r.queryP90 = queryLat.percentile(0.90);
            r.queryP99 = queryLat.percentile(0.99);
            r.queries = queryLat.count();
            if (o.queryLog != null) {
                queryLat.write(Path.of(o.queryLog).resolve("query-" + pid + ".tsv"));
            }
            r.cpuSeconds = (cpu1[0] + cpu1[1] - cpu0[0] - cpu0[1]) / 100.0;
            r.cpuNanosByGroup = Proc.stages(Proc.groupsUsed(threads0, threads1));
            r.peakRssMiB = Proc.statusKb(pid, "VmHWM") / 1024.0;
            long active = http.stat("activeSeries");
            r.activeSeries = active;
            long heapAfter = http.heapAfterGc(pid);
            r.heapPerSeries = active == 0 ? 0 : (double) (heapAfter - heapBefore) / active;
            long accepted = http.stat("accepted");
            System.out.println("  key caches: " + http.keyCacheLookups());
            // Windows stay open for the whole run, so the log still holds every point.
            r.walBytesPerPoint = (double) http.stat("walBytes") / Math.max(1, accepted);
            if (accepted != r.points || errors != 0) {
                System.out.println("  WARNING: server accepted " + accepted + " of " + r.points + " points, "
                        + errors + " error lines");
            }
            return r;
        }
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    static String uptime() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).trim();
        } catch (IOException e) {
            return "unknown";
        }
    }

    // ---------------------------------------------------------------- the workload

    /** Pre-encoded NDJSON: one block per connection, sent {@code repeats} times, with sync lines inside. */
    static final class Workload {
        final int connections;
        final int repeats;
        final Block[] blocks;
        final String queryMetric;
        final String queryHost;

        private Workload(int connections, int repeats, Block[] blocks, String queryMetric, String queryHost) {
            this.connections = connections;
            this.repeats = repeats;
            this.blocks = blocks;
            this.queryMetric = queryMetric;
            this.queryHost = queryHost;
        }

        /**
         * Series {@code i} is metric {@code bench.m(i % 10)} with tags host, region, svc; connection {@code c} sends
         * the series {@code i % connections == c}, cycling through them, so every series gets about the same number
         * of points. Timestamps are {@code now}, so every point falls in the current window, or with
         * {@link #NO_TIMESTAMP} left out, so the server stamps each point when it arrives.
         */
        static Workload build(int series, int connections, long points, int syncEvery, long now) {
            int perConn = Math.max(1, series / connections);
            long wanted = points / connections;
            // A block covers each of the connection's series at least once; repeats keep blocks near 1M lines.
            int repeats = (int) Math.max(1, (wanted + 999_999) / 1_000_000);
            int blockLines = (int) Math.max(perConn, wanted / repeats);
            Block[] blocks = new Block[connections];
            for (int c = 0; c < connections; c++) {
                blocks[c] = Block.encode(c, connections, series, blockLines, syncEvery, now);
            }
            return new Workload(connections, repeats, blocks, "bench.m0", "h0");
        }

        long totalPoints() {
            long n = 0;
            for (Block b : blocks) {
                n += (long) b.points * repeats;
            }
            return n;
        }

        long totalBytes() {
            long n = 0;
            for (Block b : blocks) {
                n += (long) b.bytes.length * repeats;
            }
            return n;
        }
    }

    /** One connection's bytes, cut after each sync line. */
    static final class Block {
        final byte[] bytes;
        final int[] chunkEnds;
        final int points;
        /** Chunks that end with a sync line (all but possibly the last). */
        final int syncs;

        private Block(byte[] bytes, int[] chunkEnds, int points, int syncs) {
            this.bytes = bytes;
            this.chunkEnds = chunkEnds;
            this.points = points;
            this.syncs = syncs;
        }

        static Block encode(int conn, int connections, int series, int lines, int syncEvery, long now) {
            StringBuilder sb = new StringBuilder(lines * 110);
            List<Integer> ends = new ArrayList<>();
            int own = 0;
            for (int i = conn; i < series; i += connections) {
                own++;
            }
            own = Math.max(own, 1);
            java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream(lines * 110);
            int syncs = 0;
            for (int j = 0; j < lines; j++) {
                int s = conn + (j % own) * connections;
                if (s >= series) {
                    s = conn % series;
                }
                double value = ((j * 7919L) % 10_000) / 10.0;
                sb.append("{\"metric\":\"bench.m").append(s % 10).append("\",\"value\":").append(value);
                if (now != NO_TIMESTAMP) {
                    sb.append(",\"timestamp\":").append(now);
                }
                sb.append(",\"tags\":{\"host\":\"h").append(s).append("\",\"region\":\"r").append(s % 7)
                        .append("\",\"svc\":\"api\"}}\n");
                if ((j + 1) % syncEvery == 0) {
                    sb.append("{\"sync\":\"").append(syncs++).append("\"}\n");
                    flush(sb, out);
                    ends.add(out.size());
                }
            }
            flush(sb, out);
            if (ends.isEmpty() || ends.get(ends.size() - 1) != out.size()) {
                ends.add(out.size());
            }
            return new Block(out.toByteArray(), ends.stream().mapToInt(Integer::intValue).toArray(), lines, syncs);
        }

        private static void flush(StringBuilder sb, java.io.ByteArrayOutputStream out) {
            byte[] b = sb.toString().getBytes(StandardCharsets.UTF_8);
            out.write(b, 0, b.length);
            sb.setLength(0);
        }
    }

    // ---------------------------------------------------------------- one connection

    /** A sender thread writes the blocks as fast as the socket takes them; a reader thread collects the replies. */
    static final class Conn {
        private static final Pattern SYNCED = Pattern.compile("\"synced\":\"([^\"]*)\"");

        final int port;
        final Block block;
        final int repeats;
        final Latencies syncLat;
        final AtomicLong errors = new AtomicLong();
        /** Send time of sync number n (over all repeats), nanoTime; 0 until sent. */
        final long[] syncSent;
        final Niceness nice;
        SocketChannel ch;
        Thread sender;
        Thread reader;
        volatile long firstSend = Long.MAX_VALUE;
        volatile long lastSynced;
        volatile Throwable failure;

        Conn(int port, Block block, int repeats, Latencies syncLat, Niceness nice) {
            this.port = port;
            this.nice = nice;
            this.block = block;
            this.repeats = repeats;
            this.syncLat = syncLat;
            this.syncSent = new long[block.syncs * repeats + 1];
        }

        void connect() throws IOException {
            ch = SocketChannel.open(new InetSocketAddress("127.0.0.1", port));
            ch.socket().setTcpNoDelay(true);
        }

        void start(CountDownLatch go) {
            sender = new Thread(null, () -> {
                try {
                    nice.applyToCurrentThread();
                    go.await();
                    firstSend = System.nanoTime();
                    int n = 0;
                    for (int r = 0; r < repeats; r++) {
                        int from = 0;
                        for (int k = 0; k < block.chunkEnds.length; k++) {
                            int end = block.chunkEnds[k];
                            ByteBuffer buf = ByteBuffer.wrap(block.bytes, from, end - from);
                            while (buf.hasRemaining()) {
                                ch.write(buf);
                            }
                            from = end;
                            if (k < block.syncs) {
                                syncSent[n++] = System.nanoTime();
                            }
                        }
                    }
                    ByteBuffer last = ByteBuffer.wrap("{\"sync\":\"end\"}\n".getBytes(StandardCharsets.UTF_8));
                    while (last.hasRemaining()) {
                        ch.write(last);
                    }
                } catch (Throwable e) {
                    failure = e;
                }
            }, "bench-send", 256 * 1024);
            reader = new Thread(null, () -> {
                nice.applyToCurrentThread();
                read();
            }, "bench-read", 256 * 1024);
            sender.start();
            reader.start();
        }

        /** Reads reply lines; chunk k's sync is numbered by its position, so repeats do not confuse ids. */
        private void read() {
            try {
                InputStream in = ch.socket().getInputStream();
                StringBuilder line = new StringBuilder();
                byte[] buf = new byte[8192];
                int syncs = 0;
                int n;
                outer:
                while ((n = in.read(buf)) > 0) {
                    for (int i = 0; i < n; i++) {
                        char c = (char) buf[i];
                        if (c != '\n') {
                            line.append(c);
                            continue;
                        }
                        String l = line.toString();
                        line.setLength(0);
                        long now = System.nanoTime();
                        Matcher m = SYNCED.matcher(l);
                        if (m.find()) {
                            if (m.group(1).equals("end")) {
                                lastSynced = now;
                                break outer;
                            }
                            long sent = syncSent[syncs++];
                            if (sent != 0) {
                                syncLat.add(now - sent);
                            }
                        } else {
                            errors.incrementAndGet();
                        }
                    }
                }
                ch.close();
            } catch (Throwable e) {
                failure = e;
            }
        }

        void await() throws Exception {
            sender.join();
            reader.join();
            if (failure != null) {
                throw new IllegalStateException("connection failed", failure);
            }
        }
    }

    // ---------------------------------------------------------------- HTTP probes

    /** Readiness, stats, heap and the query loop, over the server's HTTP port. */
    static final class Http {
        final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(5)).build();
        final int port;

        Http(int port) {
            this.port = port;
        }

        String get(String path) throws IOException, InterruptedException {
            HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                    .timeout(Duration.ofSeconds(60)).build(), HttpResponse.BodyHandlers.ofString());
            return r.body();
        }

        void awaitReady(Duration max) throws InterruptedException {
            long deadline = System.nanoTime() + max.toNanos();
            while (System.nanoTime() < deadline) {
                try {
                    if (get("/readyz").contains("ready\"")) {
                        return;
                    }
                } catch (IOException e) {
                    // not listening yet
                }
                Thread.sleep(50);
            }
            throw new IllegalStateException("server not ready within " + max);
        }

        long stat(String name) throws IOException, InterruptedException {
            Matcher m = Pattern.compile("\"" + name + "\":(\\d+)").matcher(get("/api/v1/stats"));
            return m.find() ? Long.parseLong(m.group(1)) : -1;
        }

        /** The decoders' key cache look-ups that hit and missed, from {@code /metrics}; "none" when not exported. */
        String keyCacheLookups() throws IOException, InterruptedException {
            StringBuilder b = new StringBuilder();
            for (String l : get("/metrics").split("\n")) {
                if (l.startsWith("meterline_keycache_lookups") && l.contains("result=")) {
                    String result = l.contains("result=\"hit\"") ? "hit" : "miss";
                    b.append(result).append(' ').append(String.format(Locale.ROOT, "%,.0f",
                            Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)))).append("  ");
                }
            }
            return b.length() == 0 ? "none" : b.toString().trim();
        }

        /** Forces a full GC in the server and reads its used heap from {@code /metrics}. */
        long heapAfterGc(long pid) throws Exception {
            Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "jcmd").toString(),
                    String.valueOf(pid), "GC.run").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            p.waitFor();
            long used = 0;
            for (String l : get("/metrics").split("\n")) {
                if (l.startsWith("jvm_memory_used_bytes{") && l.contains("area=\"heap\"")) {
                    used += (long) Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1));
                }
            }
            return used;
        }

        /** Asks for {@code path} {@code n} times back to back, with the query loop's client. */
        void warmUp(String path, int n, String clientKind) throws Exception {
            if (clientKind.equals("socket")) {
                try (SocketGet socket = new SocketGet(port, path)) {
                    for (int i = 0; i < n; i++) {
                        socket.get();
                    }
                }
                return;
            }
            for (int i = 0; i < n; i++) {
                get(path);
            }
        }

        /** Asks for {@code path} (by default one series' aggregates) every 20 ms while the load runs. */
        void queryLoop(AtomicBoolean loading, Latencies lat, String path, String clientKind) {
            if (clientKind.equals("socket")) {
                try (SocketGet socket = new SocketGet(port, path)) {
                    while (loading.get()) {
                        java.time.Instant began = java.time.Instant.now();
                        long wall = began.getEpochSecond() * 1_000_000L + began.getNano() / 1_000;
                        long t = System.nanoTime();
                        socket.get();
                        lat.add(wall, System.nanoTime() - t);
                        Thread.sleep(20);
                    }
                } catch (Exception e) {
                    System.out.println("  query loop ended: " + e);
                }
                return;
            }
            while (loading.get()) {
                try {
                    java.time.Instant began = java.time.Instant.now();
                    long wall = began.getEpochSecond() * 1_000_000L + began.getNano() / 1_000;
                    long t = System.nanoTime();
                    get(path);
                    lat.add(wall, System.nanoTime() - t);
                    Thread.sleep(20);
                } catch (Exception e) {
                    return;
                }
            }
        }
    }

    /**
     * One keep-alive HTTP/1.1 connection whose GETs the calling thread writes and reads itself: a query's latency with
     * no client thread in between (the JDK's HttpClient hands a response from its selector thread to an executor
     * thread and then to the caller).
     */
    static final class SocketGet implements AutoCloseable {
        private final java.net.Socket socket;
        private final java.io.InputStream in;
        private final byte[] request;
        private byte[] buf = new byte[1 << 16];

        SocketGet(int port, String path) throws IOException {
            socket = new java.net.Socket(java.net.InetAddress.getLoopbackAddress(), port);
            socket.setTcpNoDelay(true);
            socket.setSoTimeout(60_000);
            in = socket.getInputStream();
            request = ("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
        }

        /** Sends the GET and reads the whole response (headers, then Content-Length bytes); returns the body length. */
        int get() throws IOException {
            socket.getOutputStream().write(request);
            int n = 0;
            int headerEnd = -1;
            while (headerEnd < 0) {
                n = fill(n);
                headerEnd = indexOfBlankLine(n);
            }
            String head = new String(buf, 0, headerEnd, StandardCharsets.US_ASCII).toLowerCase(Locale.ROOT);
            int at = head.indexOf("content-length:");
            if (at < 0) {
                throw new IOException("unexpected response: " + head.lines().findFirst().orElse(""));
            }
            int lineEnd = head.indexOf('\r', at);
            int length = Integer.parseInt(head.substring(at + 15, lineEnd < 0 ? head.length() : lineEnd).trim());
            int total = headerEnd + 4 + length;
            while (n < total) {
                n = fill(n);
            }
            if (!head.startsWith("http/1.1 200")) {
                throw new IOException("unexpected response: " + head.lines().findFirst().orElse("") + " "
                        + new String(buf, headerEnd + 4, length, StandardCharsets.UTF_8));
            }
            return length;
        }

        private int fill(int n) throws IOException {
            if (n == buf.length) {
                buf = Arrays.copyOf(buf, buf.length * 2);
            }
            int r = in.read(buf, n, buf.length - n);
            if (r < 0) {
                throw new IOException("connection closed");
            }
            return n + r;
        }

        private int indexOfBlankLine(int n) {
            for (int i = 0; i + 3 < n; i++) {
                if (buf[i] == '\r' && buf[i + 1] == '\n' && buf[i + 2] == '\r' && buf[i + 3] == '\n') {
                    return i;
                }
            }
            return -1;
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }

    // ---------------------------------------------------------------- /proc

    static final class Proc {
        /** The stages {@link #stages} sums the server's threads into, in pipeline order. */
        private static final String[] STAGES = {"event loops", "rails", "shards", "log", "store", "GC", "JIT", "other"};

        /** utime and stime of {@code pid}, in clock ticks (1/100 s). */
        static long[] cpuTicks(long pid) throws IOException {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return new long[]{Long.parseLong(f[11]), Long.parseLong(f[12])};
        }

        /**
         * Nanoseconds on CPU of each thread of {@code pid} ({@code /proc/PID/task/TID/schedstat}), keyed
         * "TID name"; a thread that ends between the listing and the read is left out.
         */
        static Map<String, Long> threadCpu(long pid) throws IOException {
            Map<String, Long> out = new TreeMap<>();
            try (var tasks = Files.list(Path.of("/proc/" + pid + "/task"))) {
                for (Path t : (Iterable<Path>) tasks::iterator) {
                    try {
                        String name = Files.readString(t.resolve("comm")).trim();
                        String sched = Files.readString(t.resolve("schedstat")).trim();
                        out.put(t.getFileName() + " " + name, Long.parseLong(sched.substring(0, sched.indexOf(' '))));
                    } catch (IOException gone) {
                        // the thread ended
                    }
                }
            }
            return out;
        }

        /**
         * The CPU nanoseconds each thread group used between two {@link #threadCpu} readings: a group is the
         * threads' name with each run of digits as {@code #} ("meterline-shard-#").
         */
        static Map<String, Long> groupsUsed(Map<String, Long> before, Map<String, Long> after) {
            Map<String, Long> groups = new TreeMap<>();
            for (Map.Entry<String, Long> e : after.entrySet()) {
                long used = e.getValue() - before.getOrDefault(e.getKey(), 0L);
                if (used > 0) {
                    String name = e.getKey().substring(e.getKey().indexOf(' ') + 1);
                    groups.merge(name.replaceAll("[0-9]+", "#"), used, Long::sum);
                }
            }
            return groups;
        }

        /**
         * The CPU nanoseconds of {@link #groupsUsed} summed by the server's stages, in pipeline order, with the JVM's
         * compilers and collector as stages of their own: at a million series a fresh server's compilers take a fifth
         * to a quarter of its CPU during a run, which the CPU per point includes.
         */
        static Map<String, Long> stages(Map<String, Long> groups) {
            Map<String, Long> out = new LinkedHashMap<>();
            for (String stage : STAGES) {
                out.put(stage, 0L);
            }
            groups.forEach((group, nanos) -> out.merge(stage(group), nanos, Long::sum));
            return out;
        }

        /**
         * The stage of a thread group: a {@code comm} name (cut at 15 characters by the kernel) with its digits as
         * {@code #}, as {@link #groupsUsed} names it.
         */
        private static String stage(String group) {
            if (group.startsWith("meterline-tcp") || group.startsWith("meterline-http")
                    || group.startsWith("reactor-http")) {
                return "event loops";
            } else if (group.startsWith("meterline-vali")) {
                return "rails";
            } else if (group.startsWith("meterline-shar")) {
                return "shards";
            } else if (group.startsWith("meterline-wal")) {
                return "log";
            } else if (group.startsWith("meterline-stor") || group.startsWith("meterline-sqli")) {
                return "store";
            } else if (group.startsWith("GC Thread") || group.startsWith("G# ")) {
                return "GC";
            } else if (group.startsWith("C# Compiler")) {
                return "JIT";
            }
            return "other";
        }

        static long statusKb(long pid, String field) throws IOException {
            for (String l : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
                if (l.startsWith(field + ":")) {
                    return Long.parseLong(l.replaceAll("[^0-9]", ""));
                }
            }
            return -1;
        }
    }

    // ---------------------------------------------------------------- latencies

    /** Nanosecond samples, each with the wall-clock time it began (epoch us); percentiles by sorting at the end. */
    static final class Latencies {
        private long[] samples = new long[1024];
        private long[] began = new long[1024];
        private int n;

        synchronized void add(long nanos) {
            add(0, nanos);
        }

        synchronized void add(long beganMicros, long nanos) {
            if (n == samples.length) {
                samples = Arrays.copyOf(samples, n * 2);
                began = Arrays.copyOf(began, n * 2);
            }
            began[n] = beganMicros;
            samples[n++] = nanos;
        }

        /** One line a sample: wall-clock start in ms, latency in ms, wall-clock start in epoch us. */
        synchronized void write(Path file) throws IOException {
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < n; i++) {
                sb.append(began[i] / 1_000).append('\t').append(String.format(Locale.ROOT, "%.3f", samples[i] / 1e6))
                        .append('\t').append(began[i]).append('\n');
            }
            Files.createDirectories(file.getParent());
            Files.writeString(file, sb.toString());
        }

        synchronized int count() {
            return n;
        }

        /** In milliseconds; NaN without samples. */
        synchronized double percentile(double q) {
            if (n == 0) {
                return Double.NaN;
            }
            long[] s = Arrays.copyOf(samples, n);
            Arrays.sort(s);
            return s[(int) Math.min(n - 1, Math.ceil(q * n) - 1 < 0 ? 0 : Math.ceil(q * n) - 1)] / 1e6;
        }
    }
}
