package dev.meterline;

import dev.meterline.config.Config;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.scheduler.Scheduler;

import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The pipeline runs on its own schedulers only, and stopping it ends every one of their threads. */
final class PipelineThreadsTest {

    @TempDir
    Path dir;

    @Test
    void stopEndsEveryThreadThePipelineStarted() throws Exception {
        Set<Thread> before = Thread.getAllStackTraces().keySet();
        int closedPort;
        try (ServerSocket s = new ServerSocket(0)) {
            closedPort = s.getLocalPort();
        }
        Map<String, String> settings = new HashMap<>(Map.of("tcp-port", "0", "http-port", "0", "bind", "127.0.0.1",
                "data-dir", dir.toString(), "stats-interval", "0s", "shutdown-timeout", "10s",
                // Nothing listens there: the exporter's rounds fail and retry, on its own thread.
                "remote-write-url", "http://127.0.0.1:" + closedPort + "/api/v1/write"));
        Config config = Config.from(settings);
        PipelineThreads threads = PipelineThreads.of(config);
        Pipeline pipeline = new Pipeline(config, new PrometheusMeterRegistry(PrometheusConfig.DEFAULT),
                System::currentTimeMillis, threads);
        pipeline.start().block(Duration.ofSeconds(30));
        List<Thread> started;
        try {
            HttpResponse<String> answer = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(
                            "http://127.0.0.1:" + pipeline.httpPort() + "/prometheus/api/v1/query?query="
                                    + URLEncoder.encode("sum(bench_m0)", StandardCharsets.UTF_8)))
                    .timeout(Duration.ofSeconds(30)).GET().build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, answer.statusCode(), answer.body());
            started = Poll.until(() -> startedSince(before), t -> names(t).containsAll(
                    List.of("meterline-promql", "meterline-remote-write")), Duration.ofSeconds(30));
        } finally {
            pipeline.stop().block(Duration.ofSeconds(60));
        }

        for (Scheduler s : List.of(threads.validate(), threads.shards(), threads.store(), threads.storeReads(),
                threads.timer(),
                threads.promql(), threads.remoteWrite())) {
            assertTrue(s.isDisposed(), s + " is disposed");
        }
        for (Thread t : started) {
            t.join(Duration.ofSeconds(30).toMillis());
            assertFalse(t.isAlive(), t.getName() + " has ended");
        }
    }

    /**
     * Queries read the store on threads of their own: with every thread that writes to the store held (a long flush, a
     * rollup pass), a query that reads the store is answered.
     */
    @Test
    void aQueryReadsTheStoreWhileEveryWritingThreadIsBusy() throws Exception {
        Config config = Config.from(Map.of("tcp-port", "0", "http-port", "0", "bind", "127.0.0.1",
                "data-dir", dir.toString(), "stats-interval", "0s", "shutdown-timeout", "10s"));
        PipelineThreads threads = PipelineThreads.of(config);
        Pipeline pipeline = new Pipeline(config, new PrometheusMeterRegistry(PrometheusConfig.DEFAULT),
                System::currentTimeMillis, threads);
        pipeline.start().block(Duration.ofSeconds(30));
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch held = new CountDownLatch(config.store().threads());
        try {
            for (int i = 0; i < config.store().threads(); i++) {
                threads.store().schedule(() -> {
                    held.countDown();
                    try {
                        release.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                });
            }
            assertTrue(held.await(30, TimeUnit.SECONDS), "every writing thread held");
            // The metrics listing always reads the store (its stored counts).
            HttpResponse<String> answer = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(
                            "http://127.0.0.1:" + pipeline.httpPort() + "/api/v1/metrics"))
                    .timeout(Duration.ofSeconds(20)).GET().build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, answer.statusCode(), answer.body());
        } finally {
            release.countDown();
            pipeline.stop().block(Duration.ofSeconds(60));
        }
    }

    /** The pipeline's threads (named {@code meterline-…}) that did not exist in {@code before}. */
    private static List<Thread> startedSince(Set<Thread> before) {
        List<Thread> out = new ArrayList<>();
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (!before.contains(t) && t.getName().startsWith("meterline-")) {
                out.add(t);
            }
        }
        return out;
    }

    /** Thread names without their numbering, e.g. {@code meterline-promql-1} as {@code meterline-promql}. */
    private static List<String> names(List<Thread> threads) {
        List<String> out = new ArrayList<>();
        for (Thread t : threads) {
            out.add(t.getName().replaceAll("-\\d+$", ""));
        }
        return out;
    }
}
