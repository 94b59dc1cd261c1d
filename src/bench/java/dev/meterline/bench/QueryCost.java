package dev.meterline.bench;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * What one query costs the server, cold and warm: starts each jar as a fresh server, ingests a point in each of four
 * windows for each of {@code series} series (LoadGen's keys), then asks one series' aggregates back to back over a keep-alive socket and
 * reports the server's CPU per query by phase of its life (queries 1-100, 101-500, 501-2000, ...), per thread group
 * (the thread's name without its digits), read from {@code /proc/PID/task/TID/schedstat} (nanoseconds on CPU).
 *
 * <pre>
 * java -cp target/test-classes:target/meterline.jar dev.meterline.bench.QueryCost --series 10000 --queries 2000 \
 *     --rounds 2 --compare "jar=old.jar|jar=new.jar -Xint"
 * </pre>
 * The server is otherwise idle, so the figures are the query path's own work (and the compilers' work it causes),
 * without the wait for a core that the same work costs during ingest.
 */
public final class QueryCost {

    /** Windows (10 s apart) each series has a point in, as a LoadGen run of some 30 s leaves. */
    private static final int WINDOWS = 4;
    private static final int[] PHASE_ENDS = {1, 100, 500, 2000, 5000, 20000};

    private QueryCost() {
    }

    public static void main(String[] args) throws Exception {
        int series = 10_000;
        int queries = 2_000;
        int rounds = 1;
        String compare = "jar=target/meterline.jar";
        String path = "/api/v1/aggregates?metric=bench.m0&tag=host:h0";
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--series" -> series = Integer.parseInt(args[++i]);
                case "--queries" -> queries = Integer.parseInt(args[++i]);
                case "--rounds" -> rounds = Integer.parseInt(args[++i]);
                case "--compare" -> compare = args[++i];
                case "--path" -> path = args[++i];
                default -> throw new IllegalArgumentException("unknown argument: " + args[i]);
            }
        }
        String[] variants = compare.split("\\|");
        System.out.println("load " + Files.readString(Path.of("/proc/loadavg")).trim() + " at "
                + java.time.Instant.now());
        for (int r = 1; r <= rounds; r++) {
            for (String v : variants) {
                System.out.println("== round " + r + ": " + v.trim());
                run(v.trim(), series, queries, path);
            }
        }
        System.out.println("load " + Files.readString(Path.of("/proc/loadavg")).trim() + " at "
                + java.time.Instant.now());
    }

    private static void run(String variant, int series, int queries, String path) throws Exception {
        try (ChildServer server = ChildServer.start(Path.of("target/meterline.jar"), variant, "768m", List.of(),
                List.of("--lateness", "10m"))) {
            LoadGen.Http http = new LoadGen.Http(server.httpPort);
            http.awaitReady(Duration.ofSeconds(60));
            ingest(server.tcpPort, series);
            long pid = server.pid();
            Map<String, Long> before = LoadGen.Proc.threadCpu(pid);
            long[] lat = new long[queries];
            int bodyBytes = 0;
            List<String> rows = new ArrayList<>();
            try (LoadGen.SocketGet get = new LoadGen.SocketGet(server.httpPort, path)) {
                int from = 0;
                for (int end : PHASE_ENDS) {
                    int to = Math.min(end, queries);
                    if (to <= from) {
                        break;
                    }
                    for (int q = from; q < to; q++) {
                        long t0 = System.nanoTime();
                        bodyBytes = get.get();
                        lat[q] = System.nanoTime() - t0;
                    }
                    Map<String, Long> after = LoadGen.Proc.threadCpu(pid);
                    rows.add(phase(from, to, before, after, lat));
                    before = after;
                    from = to;
                }
            }
            rows.forEach(System.out::println);
            System.out.println("response body " + bodyBytes + " bytes");
        }
    }

    /** One line: the phase, the wall-clock p50 per query and the CPU per query (us) of each busy thread group. */
    private static String phase(int from, int to, Map<String, Long> before, Map<String, Long> after, long[] lat) {
        int n = to - from;
        long[] l = Arrays.copyOfRange(lat, from, to);
        Arrays.sort(l);
        Map<String, Long> groups = LoadGen.Proc.groupsUsed(before, after);
        long total = groups.values().stream().mapToLong(Long::longValue).sum();
        StringBuilder sb = new StringBuilder(String.format("queries %5d-%-5d  wall p50 %7.0f us  server CPU %7.0f us/query:",
                from + 1, to, l[n / 2] / 1e3, total / 1e3 / n));
        groups.entrySet().stream().sorted(Map.Entry.<String, Long>comparingByValue().reversed())
                .filter(e -> e.getValue() / 1e3 / n >= 1)
                .forEach(e -> sb.append(String.format(" %s=%.0f", e.getKey(), e.getValue() / 1e3 / n)));
        return sb.toString();
    }

    /** One point for each series (LoadGen's keys, with the time now), then a sync line, read back. */
    private static void ingest(int port, int series) throws IOException {
        long now = System.currentTimeMillis();
        StringBuilder sb = new StringBuilder(series * 110 * WINDOWS);
        for (int w = WINDOWS - 1; w >= 0; w--) {
            for (int s = 0; s < series; s++) {
                sb.append("{\"metric\":\"bench.m").append(s % 10).append("\",\"value\":").append((s + w) % 100 + 0.5)
                        .append(",\"timestamp\":").append(now - w * 10_000L).append(",\"tags\":{\"host\":\"h")
                        .append(s).append("\",\"region\":\"r").append(s % 7).append("\",\"svc\":\"api\"}}\n");
            }
        }
        sb.append("{\"sync\":\"done\"}\n");
        try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), port)) {
            socket.setSoTimeout(60_000);
            OutputStream out = socket.getOutputStream();
            out.write(sb.toString().getBytes(StandardCharsets.UTF_8));
            out.flush();
            InputStream in = socket.getInputStream();
            StringBuilder reply = new StringBuilder();
            byte[] buf = new byte[4096];
            while (!reply.toString().contains("\"synced\"")) {
                int r = in.read(buf);
                if (r < 0) {
                    throw new IOException("connection closed before the sync reply: " + reply);
                }
                reply.append(new String(buf, 0, r, StandardCharsets.UTF_8));
            }
        }
    }
}
