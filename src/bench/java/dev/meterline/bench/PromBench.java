package dev.meterline.bench;

import java.io.OutputStream;
import java.net.Socket;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The Prometheus API under load (a benchmark, not a test): starts {@code target/meterline.jar}, loads an hour of
 * 10 s windows for {@code --series} series, then, while other connections ingest as fast as the server takes points,
 * times {@code query_range} over that hour at a 10 s step for one series and for a {@code sum by} over all of them.
 *
 * <p>Run with {@code ./mvnw -B -q -Pbench verify -DskipTests -Dbench.main=dev.meterline.bench.PromBench
 * -Dbench.args="--jar target/meterline.jar"}.
 */
public final class PromBench {

    private PromBench() {
    }

    public static void main(String[] args) throws Exception {
        String jar = "target/meterline.jar";
        int series = 1000;
        int queries = 100;
        int loaders = 2;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--jar" -> jar = args[++i];
                case "--series" -> series = Integer.parseInt(args[++i]);
                case "--queries" -> queries = Integer.parseInt(args[++i]);
                case "--loaders" -> loaders = Integer.parseInt(args[++i]);
                default -> throw new IllegalArgumentException(args[i] + ": unknown option (expected --jar, --series, "
                        + "--queries, --loaders)");
            }
        }
        try (ChildServer server = ChildServer.start(Path.of(jar), "", "2g", List.of(),
                List.of("--max-series", "2000000"))) {
            int tcpPort = server.tcpPort;
            LoadGen.Http http = new LoadGen.Http(server.httpPort);
            http.awaitReady(Duration.ofSeconds(60));
            long now = System.currentTimeMillis();
            long end = now / 10_000 * 10_000;
            long start = end - 3_600_000;
            preload(tcpPort, series, start, end);
            System.out.printf(Locale.ROOT, "loaded %d series x 360 windows%n", series);

            // The hour just loaded is flushed to the store before anything is timed.
            while (http.stat("pendingWindows") != 0 || http.stat("openWindows") > series) {
                Thread.sleep(500);
            }
            String range = "&start=" + start / 1000 + "&end=" + end / 1000 + "&step=10";
            List<String> paths = List.of(
                    "/prometheus/api/v1/query_range?query=" + enc("bench_latency_count{host=\"h1\"}") + range,
                    "/prometheus/api/v1/query_range?query=" + enc("sum by (region) (bench_latency_count)") + range,
                    "/prometheus/api/v1/query_range?query="
                            + enc("histogram_quantile(0.99, sum by (le, region) (bench_latency_bucket))") + range);
            List<String> names = List.of("one series, 1 h at 10 s (360 points)",
                    "sum by (region) over " + series + " series, 1 h at 10 s",
                    "histogram_quantile(0.99, sum by (le, region)) over " + series + " series, 1 h at 10 s");
            for (String path : paths) {
                check(http.get(path));
            }
            System.out.println("idle:");
            run(http, paths, names, queries);

            AtomicBoolean loading = new AtomicBoolean(true);
            List<Thread> threads = new ArrayList<>();
            for (int c = 0; c < loaders; c++) {
                int id = c;
                Thread t = new Thread(() -> ingest(tcpPort, id, loading), "prombench-ingest-" + c);
                t.start();
                threads.add(t);
            }
            Thread.sleep(5_000);
            long accepted0 = http.stat("accepted");
            long t0 = System.nanoTime();
            System.out.println("while " + loaders + " connections ingest as fast as the server takes points:");
            run(http, paths, names, Math.max(1, queries / 5));
            double seconds = (System.nanoTime() - t0) / 1e9;
            long accepted = http.stat("accepted") - accepted0;
            loading.set(false);
            for (Thread t : threads) {
                t.join();
            }
            System.out.printf(Locale.ROOT, "ingest during those queries: %.0f points/s%n", accepted / seconds);
        }
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    private static void check(String body) {
        if (!body.startsWith("{\"status\":\"success\"")) {
            throw new IllegalStateException("query failed: " + body);
        }
    }

    private static void run(LoadGen.Http http, List<String> paths, List<String> names, int rounds) {
        List<LoadGen.Latencies> lats = new ArrayList<>();
        int[] failed = new int[paths.size()];
        for (int i = 0; i < paths.size(); i++) {
            lats.add(new LoadGen.Latencies());
        }
        for (int r = 0; r < rounds; r++) {
            for (int i = 0; i < paths.size(); i++) {
                long t = System.nanoTime();
                try {
                    check(http.get(paths.get(i)));
                    lats.get(i).add(System.nanoTime() - t);
                } catch (Exception e) {
                    failed[i]++;
                }
            }
        }
        for (int i = 0; i < paths.size(); i++) {
            report(names.get(i) + (failed[i] > 0 ? " (" + failed[i] + " failed or took over 60 s)" : ""),
                    lats.get(i));
        }
    }

    private static void report(String what, LoadGen.Latencies lat) {
        System.out.printf(Locale.ROOT, "%-75s p50 %7.1f ms  p99 %7.1f ms  (%d queries)%n", what,
                lat.percentile(0.5), lat.percentile(0.99), lat.count());
    }

    /** One point per series and window over the hour, then a sync. */
    private static void preload(int port, int series, long start, long end) throws Exception {
        try (Socket s = new Socket("127.0.0.1", port)) {
            OutputStream out = s.getOutputStream();
            StringBuilder sb = new StringBuilder(1 << 20);
            for (long w = start; w < end; w += 10_000) {
                for (int i = 0; i < series; i++) {
                    sb.append("{\"metric\":\"bench.latency\",\"value\":").append((w / 10_000 * 7 + i) % 1000)
                            .append(",\"timestamp\":").append(w + 1 + i % 9000).append(",\"tags\":{\"host\":\"h")
                            .append(i).append("\",\"region\":\"r").append(i % 10).append("\"}}\n");
                }
                if (sb.length() > 1 << 19) {
                    out.write(sb.toString().getBytes(StandardCharsets.UTF_8));
                    sb.setLength(0);
                }
            }
            sb.append("{\"sync\":\"loaded\"}\n");
            out.write(sb.toString().getBytes(StandardCharsets.UTF_8));
            out.flush();
            byte[] buf = new byte[4096];
            StringBuilder reply = new StringBuilder();
            while (!reply.toString().contains("loaded")) {
                int n = s.getInputStream().read(buf);
                if (n < 0) {
                    throw new IllegalStateException("connection closed before the sync reply: " + reply);
                }
                reply.append(new String(buf, 0, n, StandardCharsets.UTF_8));
            }
        }
    }

    /** Sends points without timestamps (stamped on arrival) for 10 000 other series until told to stop. */
    private static void ingest(int port, int id, AtomicBoolean loading) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 10_000; i++) {
            sb.append("{\"metric\":\"bench.load\",\"value\":").append(i % 100).append(",\"tags\":{\"host\":\"l")
                    .append(id).append('-').append(i).append("\"}}\n");
        }
        byte[] block = sb.toString().getBytes(StandardCharsets.UTF_8);
        try (Socket s = new Socket("127.0.0.1", port)) {
            OutputStream out = s.getOutputStream();
            while (loading.get()) {
                out.write(block);
            }
        } catch (Exception e) {
            if (loading.get()) {
                System.out.println("ingest connection " + id + " failed: " + e);
            }
        }
    }
}
