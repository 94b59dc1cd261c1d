package dev.meterline.export;

import com.fasterxml.jackson.databind.JsonNode;
import dev.meterline.LineClient;
import dev.meterline.TestServer;
import dev.meterline.config.RemoteWriteConfig;
import dev.meterline.export.RemoteWriteFixture.Sent;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

import static dev.meterline.export.RemoteWriteFixture.awaitMeter;
import static dev.meterline.export.RemoteWriteFixture.meter;
import static dev.meterline.export.RemoteWriteFixture.points;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Remote write into a real Prometheus 2.42 ({@code --web.enable-remote-write-receiver}), checked by its query API. */
final class PrometheusRemoteWriteTest {

    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final String SENT = "meterline_remote_write_samples_sent_total";
    private static final String FAILED = "meterline_remote_write_samples_failed_total";
    private static final String REJECTED = "meterline_remote_write_samples_rejected_total";

    @TempDir
    Path tmp;

    @Test
    void everyWindowArrivesWithExactCountsAndSumsQuantilesWithinTheSketchBoundAndCollidingNamesApart()
            throws Exception {
        try (Receiver prometheus = Receiver.start(Receiver.Kind.PROMETHEUS, tmp.resolve("prom"));
             TestServer meterline = RemoteWriteFixture.start(tmp.resolve("m"),
                     RemoteWriteFixture.settings(prometheus.writeUrl()));
             LineClient c = meterline.connect()) {
            Sent latency = new Sent();
            long w0 = RemoteWriteFixture.futureWindow();
            points(c, latency, "api.latency", "h0", w0, 1000);
            for (int w = 0; w < 3; w++) {
                for (int h = 1; h < 4; h++) {
                    points(c, latency, "api.latency", "h" + h, w0 + w * 1000L, 50 + h);
                }
            }
            Sent dotted = new Sent();
            Sent underscored = new Sent();
            points(c, dotted, "cpu.usage", "h0", w0, 10);
            points(c, underscored, "cpu_usage", "h0", w0 + 1000, 7);
            points(c, dotted, "cpu.usage", "h0", w0 + 2000, 4);

            double count = prometheus.await("sum(sum_over_time(api_latency_count[30m]))",
                    v -> v == latency.count, WAIT);
            assertEquals(latency.count, count, prometheus::logTail);
            assertEquals(latency.sum, prometheus.query("sum(sum_over_time(api_latency_sum[30m]))"));
            assertEquals(4, prometheus.query("count(count_over_time(api_latency_count[30m]))"), "four series");
            assertEquals(1, prometheus.query("sum(count_over_time(api_latency_count{host=\"h0\"}[30m]))"),
                    "one window of h0");
            assertEquals(3, prometheus.query("sum(count_over_time(api_latency_count{host=\"h1\"}[30m]))"),
                    "three windows of h1");
            assertEquals(1000, prometheus.query("max_over_time(api_latency_max{host=\"h0\"}[30m])"));
            assertEquals(500.5, prometheus.query("max_over_time(api_latency_mean{host=\"h0\"}[30m])"));
            for (double q : new double[]{0.5, 0.9, 0.99}) {
                double exact = q * 1000;
                double v = prometheus.query("max_over_time(api_latency{host=\"h0\",quantile=\"" + q + "\"}[30m])");
                assertTrue(Math.abs(v - exact) <= exact * 0.01 + 1, "p" + q + ": " + v + " vs " + exact);
            }

            // cpu.usage and cpu_usage share a base name: from the window where the second one appears on, each
            // carries its own meterline_metric label; cpu.usage's window before that went out without it.
            prometheus.await("sum(sum_over_time(cpu_usage_count[30m]))",
                    v -> v == dotted.count + underscored.count, WAIT);
            JsonNode byMetric = prometheus.queryResult(
                    "sum by (meterline_metric) (sum_over_time(cpu_usage_count[30m]))");
            Map<String, Double> counts = new HashMap<>();
            byMetric.forEach(r -> counts.put(r.path("metric").path("meterline_metric").asText(),
                    Double.parseDouble(r.path("value").get(1).asText())));
            assertEquals(Map.of("", 10.0, "cpu_usage", 7.0, "cpu.usage", 4.0), counts);

            assertTrue(meter(meterline, SENT) >= 9 * (1 + 9 + 2), "samples sent");
            assertEquals(0, meter(meterline, REJECTED));
            HttpResponse<String> ready = meterline.get("/readyz");
            assertEquals(200, ready.statusCode());
            assertTrue(ready.body().contains("\"remoteWrite\":\"ok\""), ready.body());
        }
    }

    @Test
    void receiverKilledAndMeterlineRestartedMidExportLoseAndDuplicateNothing() throws Exception {
        Path data = tmp.resolve("m");
        try (Receiver prometheus = Receiver.start(Receiver.Kind.PROMETHEUS, tmp.resolve("prom"))) {
            Map<String, String> settings = RemoteWriteFixture.settings(prometheus.writeUrl());
            Sent sent = new Sent();
            TestServer first = RemoteWriteFixture.start(data, settings);
            try (LineClient c = first.connect()) {
                long w0 = RemoteWriteFixture.futureWindow();
                for (int w = 0; w < 2; w++) {
                    for (int h = 0; h < 20; h++) {
                        points(c, sent, "jobs", "h" + h, w0 + w * 1000L, 5 + h);
                    }
                }
                assertEquals(sent.count, prometheus.await("sum(sum_over_time(jobs_count[30m]))",
                        v -> v == sent.count, WAIT), prometheus::logTail);

                // Receiver down: windows keep closing, requests fail and are retried; readiness stays 200.
                prometheus.kill();
                long w2 = RemoteWriteFixture.futureWindow();
                for (int w = 0; w < 2; w++) {
                    for (int h = 0; h < 20; h++) {
                        points(c, sent, "jobs", "h" + h, w2 + w * 1000L, 3 + h);
                    }
                }
                assertTrue(awaitMeter(first, FAILED, v -> v > 0, WAIT) > 0, "failed attempts counted");
                HttpResponse<String> ready = first.get("/readyz");
                assertEquals(200, ready.statusCode());
                assertTrue(ready.body().contains("receiver unreachable"), ready.body());
            } finally {
                // Meterline stops with its backlog unsent: the cursor in the store still points at it.
                first.stop();
            }
            try (TestServer second = RemoteWriteFixture.start(data, settings);
                 LineClient c = second.connect()) {
                long w4 = RemoteWriteFixture.futureWindow();
                for (int h = 0; h < 20; h++) {
                    points(c, sent, "jobs", "h" + h, w4, 2 + h);
                }
                prometheus.up();
                double count = prometheus.await("sum(sum_over_time(jobs_count[30m]))", v -> v == sent.count, WAIT);
                assertEquals(sent.count, count, prometheus::logTail);
                assertEquals(sent.sum, prometheus.query("sum(sum_over_time(jobs_sum[30m]))"));
                assertEquals(0, meter(second, REJECTED), "no request refused (a duplicate would be)");
                assertEquals(20 * 5.0, prometheus.query("sum(count_over_time(jobs_count[30m]))"),
                        "one sample per series and window");
            }
        }
    }

    @Test
    void aRequestTheReceiverRefusesIsCountedAndSkippedAndLaterWindowsGoThrough() throws Exception {
        try (Receiver prometheus = Receiver.start(Receiver.Kind.PROMETHEUS, tmp.resolve("prom"))) {
            long w0 = RemoteWriteFixture.futureWindow();
            // The receiver already holds another value at the end of the window: it refuses ours (duplicate sample).
            WriteRequestEncoder encoder = new WriteRequestEncoder(256);
            encoder.add(new byte[][]{WriteRequestEncoder.utf8("__name__"), WriteRequestEncoder.utf8("poison_count"),
                    WriteRequestEncoder.utf8("host"), WriteRequestEncoder.utf8("p")}, w0 + 1000, 12345);
            try (RemoteWriteClient client = new RemoteWriteClient(new RemoteWriteConfig(prometheus.writeUrl(), "",
                    Map.of(), Duration.ofSeconds(5), 10, Duration.ZERO, Duration.ZERO, Duration.ofSeconds(1),
                    1),
                    "test")) {
                RemoteWriteClient.Reply reply = client.send(new SnappyBlock().compress(encoder.array(),
                        encoder.length())).block(Duration.ofSeconds(10));
                assertEquals(204, reply.status(), reply.message());
            }
            try (TestServer meterline = RemoteWriteFixture.start(tmp.resolve("m"),
                    RemoteWriteFixture.settings(prometheus.writeUrl()));
                 LineClient c = meterline.connect()) {
                Sent poison = new Sent();
                Sent later = new Sent();
                points(c, poison, "poison", "p", w0, 3);
                points(c, later, "later", "l", w0 + 1000, 40);
                points(c, later, "later", "l", w0 + 2000, 2);

                assertEquals(later.count, prometheus.await("sum(sum_over_time(later_count[30m]))",
                        v -> v == later.count, WAIT), prometheus::logTail);
                assertEquals(9, rejected(meterline), "the window's nine samples refused");
                assertEquals(12345, prometheus.query("max_over_time(poison_count[30m])"), "the receiver's value kept");
            }
        }
    }

    private static double rejected(TestServer meterline) throws Exception {
        double total = 0;
        for (String line : meterline.get("/metrics").body().split("\n")) {
            if (line.startsWith(REJECTED + "{") && line.contains("reason=\"bad_request\"")) {
                total += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        return total;
    }
}
