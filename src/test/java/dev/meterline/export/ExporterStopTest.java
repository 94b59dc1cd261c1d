package dev.meterline.export;

import dev.meterline.config.RemoteWriteConfig;
import dev.meterline.config.StoreConfig;
import dev.meterline.config.Tier;
import dev.meterline.store.Store;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A stop goes through while the exporter's thread is busy with the store, so the server's shutdown goes on. */
final class ExporterStopTest {

    @TempDir
    Path tmp;

    @Test
    void aStopWhileTheExportersThreadIsBusyReturnsWithoutTheLock() throws Exception {
        Scheduler thread = Schedulers.newBoundedElastic(1, 1_000, "meterline-remote-write");
        CountDownLatch busy = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        try (Store store = Store.connect(new StoreConfig(tmp, "", "", "", Tier.parseList("1s:1h"), "r1"))) {
            RemoteWriteConfig config = new RemoteWriteConfig("http://127.0.0.1:9/api/v1/write", "", Map.of(),
                    Duration.ofSeconds(5), 100, Duration.ZERO, Duration.ZERO, Duration.ofMillis(200), 1);
            RemoteWriteExporter exporter = new RemoteWriteExporter(config, store, Duration.ofSeconds(1),
                    Duration.ZERO, new SimpleMeterRegistry(), System::currentTimeMillis, () -> 0, thread);
            // The exporter's one thread inside a long store call.
            thread.schedule(() -> {
                busy.countDown();
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            assertTrue(busy.await(10, TimeUnit.SECONDS));

            assertDoesNotThrow(() -> exporter.stop(Duration.ofMillis(100)));
        } finally {
            release.countDown();
            thread.dispose();
        }
    }
}
