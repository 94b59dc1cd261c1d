package dev.meterline.export;

import dev.meterline.Poll;
import dev.meterline.LineClient;
import dev.meterline.TestServer;

import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.function.DoublePredicate;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** What the remote write tests share: a Meterline on 1 s windows exporting to a receiver, points, its meters. */
final class RemoteWriteFixture {

    /** Totals of what was sent to Meterline, per metric. */
    static final class Sent {
        long count;
        double sum;
    }

    private RemoteWriteFixture() {
    }

    /** Settings of a fast Meterline: 1 s windows, closing 200 ms after their end, sent 300 ms after that. */
    static Map<String, String> settings(String writeUrl) {
        Map<String, String> s = new HashMap<>();
        s.put("window", "1s");
        s.put("lateness", "200ms");
        s.put("flush-interval", "100ms");
        s.put("retention", "1s:1h,1m:1d");
        s.put("remote-write-url", writeUrl);
        s.put("remote-write-delay", "300ms");
        s.put("remote-write-max-backoff", "500ms");
        s.put("remote-write-timeout", "5s");
        return s;
    }

    static TestServer start(Path dataDir, Map<String, String> settings) {
        return TestServer.start(dataDir, settings);
    }

    /** The start of a window at least one whole window ahead, so none of its points is late. */
    static long futureWindow() {
        return (System.currentTimeMillis() / 1000 + 2) * 1000;
    }

    /** Sends {@code n} points of {@code metric} (values 1..n) with one tag into the window starting at {@code start}. */
    static void points(LineClient c, Sent sent, String metric, String host, long start, int n) throws IOException {
        StringBuilder sb = new StringBuilder();
        for (int i = 1; i <= n; i++) {
            sb.append("{\"metric\":\"").append(metric).append("\",\"value\":").append(i)
                    .append(",\"timestamp\":").append(start + (i * 7L) % 1000)
                    .append(",\"tags\":{\"host\":\"").append(host).append("\"}}\n");
            sent.count++;
            sent.sum += i;
        }
        c.send(sb.toString());
        assertEquals(0, c.sync("s" + System.nanoTime()).get("rejected").asLong(), () -> c.errors().toString());
    }

    /** The sum of every sample of a meter in Meterline's own /metrics (all tags), 0 when absent. */
    static double meter(TestServer server, String name) throws IOException, InterruptedException {
        HttpResponse<String> r = server.get("/metrics");
        double total = 0;
        for (String line : r.body().split("\n")) {
            if (line.startsWith(name + " ") || line.startsWith(name + "{")) {
                total += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        return total;
    }

    /** The sample of a meter in Meterline's own /metrics whose tags include {@code tag} (e.g. {@code reason="x"}). */
    static double meter(TestServer server, String name, String tag) throws IOException, InterruptedException {
        HttpResponse<String> r = server.get("/metrics");
        double total = 0;
        for (String line : r.body().split("\n")) {
            if (line.startsWith(name + "{") && line.substring(0, line.indexOf('}')).contains(tag)) {
                total += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        return total;
    }

    /** Polls a meter until {@code ok} holds or the deadline passes; returns the last value. */
    static double awaitMeter(TestServer server, String name, DoublePredicate ok, Duration within) throws Exception {
        return Poll.until(() -> meter(server, name), ok::test, within);
    }
}
