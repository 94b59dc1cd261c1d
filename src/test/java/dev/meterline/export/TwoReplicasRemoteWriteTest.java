package dev.meterline.export;

import dev.meterline.LineClient;
import dev.meterline.TestServer;
import dev.meterline.export.RemoteWriteFixture.Sent;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import static dev.meterline.export.RemoteWriteFixture.awaitMeter;
import static dev.meterline.export.RemoteWriteFixture.meter;
import static dev.meterline.export.RemoteWriteFixture.points;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Two replicas on one PostgreSQL, both configured to export to one Prometheus: one exports at a time, windows merged
 * across the replicas, each once (Prometheus refuses a second, different value for a timestamp, so a partial window
 * sent twice would show as a rejected request); when the exporting replica stops, the other takes over.
 */
final class TwoReplicasRemoteWriteTest {

    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final String LEADER = "meterline_remote_write_leader";

    @TempDir
    Path tmp;

    @Test
    void oneReplicaExportsMergedWindowsOnceAndTheOtherTakesOver() throws Exception {
        try (EmbeddedPostgres postgres = EmbeddedPostgres.start();
             Receiver prometheus = Receiver.start(Receiver.Kind.PROMETHEUS, tmp.resolve("prom"))) {
            Map<String, String> settings = RemoteWriteFixture.settings(prometheus.writeUrl());
            settings.put("storage-url", "jdbc:postgresql://localhost:" + postgres.getPort() + "/postgres");
            settings.put("storage-user", "postgres");
            Map<String, String> one = new java.util.HashMap<>(settings);
            one.put("replica-id", "one");
            Map<String, String> two = new java.util.HashMap<>(settings);
            two.put("replica-id", "two");
            Sent sent = new Sent();
            try (TestServer a = RemoteWriteFixture.start(tmp.resolve("a"), one);
                 TestServer b = RemoteWriteFixture.start(tmp.resolve("b"), two)) {
                // Both replicas hold partials of every series and window.
                try (LineClient ca = a.connect(); LineClient cb = b.connect()) {
                    long w0 = RemoteWriteFixture.futureWindow();
                    for (int w = 0; w < 3; w++) {
                        for (int h = 0; h < 10; h++) {
                            points(ca, sent, "orders", "h" + h, w0 + w * 1000L, 4 + h);
                            points(cb, sent, "orders", "h" + h, w0 + w * 1000L, 2 + w);
                        }
                    }
                }
                assertEquals(sent.count, prometheus.await("sum(sum_over_time(orders_count[30m]))",
                        v -> v == sent.count, WAIT), prometheus::logTail);
                assertEquals(sent.sum, prometheus.query("sum(sum_over_time(orders_sum[30m]))"));
                assertEquals(30, prometheus.query("sum(count_over_time(orders_count[30m]))"),
                        "one merged sample per series and window");
                assertEquals(1, meter(a, LEADER) + meter(b, LEADER), "one exporter");
                assertEquals(0, rejected(a) + rejected(b));

                // The exporting replica stops; the other takes the lock over and exports what both write next.
                TestServer leader = meter(a, LEADER) == 1 ? a : b;
                TestServer other = leader == a ? b : a;
                leader.stop();
                assertEquals(1, awaitMeter(other, LEADER, v -> v == 1, WAIT), "taken over");
                try (LineClient c = other.connect()) {
                    long w3 = RemoteWriteFixture.futureWindow();
                    for (int h = 0; h < 10; h++) {
                        points(c, sent, "orders", "h" + h, w3, 1 + h);
                    }
                }
                assertEquals(sent.count, prometheus.await("sum(sum_over_time(orders_count[30m]))",
                        v -> v == sent.count, WAIT), prometheus::logTail);
                assertEquals(sent.sum, prometheus.query("sum(sum_over_time(orders_sum[30m]))"));
                assertEquals(40, prometheus.query("sum(count_over_time(orders_count[30m]))"));
                assertEquals(0, rejected(other));
            }
        }
    }

    private static double rejected(TestServer s) throws Exception {
        return meter(s, "meterline_remote_write_samples_rejected_total");
    }
}
