package dev.meterline.export;

import dev.meterline.LineClient;
import dev.meterline.TestServer;
import dev.meterline.export.RemoteWriteFixture.Sent;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;

import static dev.meterline.export.RemoteWriteFixture.awaitMeter;
import static dev.meterline.export.RemoteWriteFixture.meter;
import static dev.meterline.export.RemoteWriteFixture.points;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Remote write into a real VictoriaMetrics 1.79 ({@code /api/v1/write}), checked by its query API. */
final class VictoriaMetricsRemoteWriteTest {

    private static final Duration WAIT = Duration.ofSeconds(60);

    @TempDir
    Path tmp;

    @Test
    void everyWindowArrivesOnceAcrossAReceiverRestartOnTheSameStorage() throws Exception {
        try (Receiver vm = Receiver.start(Receiver.Kind.VICTORIA_METRICS, tmp.resolve("vm"));
             TestServer meterline = RemoteWriteFixture.start(tmp.resolve("m"),
                     RemoteWriteFixture.settings(vm.writeUrl()));
             LineClient c = meterline.connect()) {
            Sent sent = new Sent();
            long w0 = RemoteWriteFixture.futureWindow();
            points(c, sent, "db.query", "h0", w0, 1000);
            for (int w = 0; w < 2; w++) {
                for (int h = 1; h < 10; h++) {
                    points(c, sent, "db.query", "h" + h, w0 + w * 1000L, 10 + h);
                }
            }
            assertEquals(sent.count, vm.await("sum(sum_over_time(db_query_count[30m]))", v -> v == sent.count, WAIT),
                    vm::logTail);
            assertEquals(sent.sum, vm.query("sum(sum_over_time(db_query_sum[30m]))"));
            double p99 = vm.query("max_over_time(db_query{host=\"h0\",quantile=\"0.99\"}[30m])");
            assertTrue(Math.abs(p99 - 990) <= 990 * 0.01 + 1, "p99 " + p99);

            vm.stop();
            long w2 = RemoteWriteFixture.futureWindow();
            for (int w = 0; w < 2; w++) {
                for (int h = 0; h < 10; h++) {
                    points(c, sent, "db.query", "h" + h, w2 + w * 1000L, 3 + h);
                }
            }
            assertTrue(awaitMeter(meterline, "meterline_remote_write_samples_failed_total", v -> v > 0, WAIT) > 0);
            vm.up();
            assertEquals(sent.count, vm.await("sum(sum_over_time(db_query_count[30m]))", v -> v == sent.count, WAIT),
                    vm::logTail);
            assertEquals(sent.sum, vm.query("sum(sum_over_time(db_query_sum[30m]))"));
            assertEquals(1 + 9 * 2 + 10 * 2, vm.query("sum(count_over_time(db_query_count[30m]))"),
                    "one sample per series and window");
            assertEquals(0, meter(meterline, "meterline_remote_write_samples_rejected_total"));
        }
    }
}
