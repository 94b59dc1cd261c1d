package dev.meterline.process;

import dev.meterline.Poll;
import dev.meterline.LineClient;
import dev.meterline.export.Receiver;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The server process killed (SIGKILL) while it holds an export backlog for a receiver that is down, then started
 * again on the same data directory: once the receiver is back, every stored window arrives once.
 */
final class RemoteWriteKillIT {

    private static final Duration WAIT = Duration.ofSeconds(90);
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @TempDir
    Path tmp;

    private static String[] flags(Receiver r) {
        return new String[]{"--window=1s", "--lateness=200ms", "--flush-interval=100ms",
                "--retention=1s:1h,1m:1d", "--stats-interval=0s", "--remote-write-url=" + r.writeUrl(),
                "--remote-write-delay=300ms", "--remote-write-max-backoff=500ms", "--remote-write-timeout=5s"};
    }

    private static long send(ServerProcess server, long start, int windows) throws Exception {
        long count = 0;
        try (LineClient c = new LineClient("127.0.0.1", server.tcpPort())) {
            StringBuilder sb = new StringBuilder();
            for (int w = 0; w < windows; w++) {
                for (int h = 0; h < 10; h++) {
                    for (int i = 0; i <= h; i++) {
                        sb.append("{\"metric\":\"kills\",\"value\":").append(i).append(",\"timestamp\":")
                                .append(start + w * 1000L + i).append(",\"tags\":{\"host\":\"h").append(h)
                                .append("\"}}\n");
                        count++;
                    }
                }
            }
            c.send(sb.toString());
            assertEquals(count, c.sync("all").get("accepted").asLong());
        }
        return count;
    }

    private static double meter(ServerProcess server, String name) throws Exception {
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.httpPort()
                + "/metrics")).build(), HttpResponse.BodyHandlers.ofString());
        double total = 0;
        for (String line : r.body().split("\n")) {
            if (line.startsWith(name + " ") || line.startsWith(name + "{")) {
                total += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        return total;
    }

    private static void await(ServerProcess server, String name, double atLeast) throws Exception {
        double last = Poll.until(() -> meter(server, name), v -> v >= atLeast, WAIT);
        assertTrue(last >= atLeast, name + " stayed below " + atLeast + ": " + last);
    }

    @Test
    void aKilledServerSendsItsBacklogOnceAfterItsRestart() throws Exception {
        Path data = tmp.resolve("m");
        try (Receiver prometheus = Receiver.start(Receiver.Kind.PROMETHEUS, tmp.resolve("prom"))) {
            long sent;
            try (ServerProcess first = ServerProcess.start("first", data, flags(prometheus))) {
                long w0 = (System.currentTimeMillis() / 1000 + 2) * 1000;
                sent = send(first, w0, 2);
                long total = sent;
                assertEquals(total, prometheus.await("sum(sum_over_time(kills_count[30m]))", v -> v == total, WAIT));

                prometheus.kill();
                long w2 = (System.currentTimeMillis() / 1000 + 2) * 1000;
                sent += send(first, w2, 3);
                // Every window stored (10 series, 5 windows) and the export failing: the backlog is in the store.
                await(first, "meterline_windows_flushed_total", 50);
                await(first, "meterline_remote_write_samples_failed_total", 1);
                first.kill();
            }
            try (ServerProcess second = ServerProcess.start("second", data, flags(prometheus))) {
                prometheus.up();
                long total = sent;
                assertEquals(total, prometheus.await("sum(sum_over_time(kills_count[30m]))", v -> v == total, WAIT),
                        prometheus::logTail);
                assertEquals(50, prometheus.query("sum(count_over_time(kills_count[30m]))"),
                        "one sample per series and window");
                assertEquals(0, meter(second, "meterline_remote_write_samples_rejected_total"));
            }
        }
    }
}
