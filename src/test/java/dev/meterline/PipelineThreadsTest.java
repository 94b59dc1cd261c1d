package dev.meterline;

import dev.meterline.config.Config;
import dev.meterline.lifecycle.NiceValues;
import dev.meterline.telemetry.MeterNames;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

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
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The pipeline runs on its own schedulers only, and stopping it ends every one of their threads; its ingest threads
 * yield the CPU to its query threads.
 */
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
                threads.promql(), threads.remoteWrite(), threads.prepare())) {
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

    /**
     * The threads that take in and store points run at {@code ingest-nice}, as the kernel holds it; the threads that
     * answer queries run at the default, even those started from an ingest thread's work, as a query's store read is
     * when its answer passed through a shard.
     */
    @Test
    void ingestThreadsRunAtIngestNiceAndQueryThreadsAtTheDefault() throws Exception {
        assumeTrue(NiceValues.readable(), "thread nice values are set and read on Linux only");
        int normal = NiceValues.ofCurrentThread();
        Config config = Config.from(Map.of("tcp-port", "0", "http-port", "0", "bind", "127.0.0.1",
                "data-dir", dir.toString(), "stats-interval", "0s", "shutdown-timeout", "10s", "ingest-nice", "7"));
        PipelineThreads threads = PipelineThreads.of(config);
        Pipeline pipeline = new Pipeline(config, new PrometheusMeterRegistry(PrometheusConfig.DEFAULT),
                System::currentTimeMillis, threads);
        pipeline.start().block(Duration.ofSeconds(30));
        try {
            // Before any query has started a thread of the query schedulers.
            assertEquals(normal, niceOn(threads.storeReads(), threads.shards()), "a store read asked from a shard");
            assertEquals(normal, niceOn(threads.promql(), threads.shards()), "PromQL asked from a shard");
            assertEquals(normal, niceOn(threads.prepare(), threads.shards()), "a preparation asked from a shard");
            assertEquals(7, niceOn(threads.store(), Schedulers.immediate()), "a store writer asked from this thread");
            try (LineClient client = new LineClient("127.0.0.1", pipeline.tcpPort())) {
                client.send("{\"metric\":\"m\",\"value\":1,\"tags\":{\"host\":\"a\"}}\n");
                client.sync("s1");
            }
            for (String path : List.of("/api/v1/aggregates?metric=m&tag=host:a", "/prometheus/api/v1/query?query="
                    + URLEncoder.encode("sum(m_count)", StandardCharsets.UTF_8))) {
                HttpResponse<String> answer = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(
                                "http://127.0.0.1:" + pipeline.httpPort() + path))
                        .timeout(Duration.ofSeconds(30)).GET().build(), HttpResponse.BodyHandlers.ofString());
                assertEquals(200, answer.statusCode(), answer.body());
            }
            Map<String, List<Integer>> nice = NiceValues.byThreadName();

            for (String ingest : List.of("meterline-tcp-", "meterline-valid", "meterline-shard", "meterline-timer",
                    "meterline-wal")) {
                assertEquals(Set.of(7), valuesOf(nice, ingest), ingest + " in " + nice);
            }
            for (String query : List.of("meterline-http-", "meterline-promq", "meterline-prepa")) {
                assertEquals(Set.of(normal), valuesOf(nice, query), query + " in " + nice);
            }
            assertEquals(7.0, pipeline.metrics().registry().get(MeterNames.INGEST_NICE).gauge().value());
        } finally {
            pipeline.stop().block(Duration.ofSeconds(60));
        }
    }

    /**
     * Pending flushes are prepared for queries on a thread of their own: neither a shard, nor an event loop, nor a
     * rail, and one that BlockHound and {@code block()} watch as a thread that must never block.
     */
    @Test
    void pendingFlushesArePreparedOnANamedNonBlockingThreadOfTheirOwn() {
        Config config = Config.from(Map.of("tcp-port", "0", "http-port", "0", "bind", "127.0.0.1",
                "data-dir", dir.toString(), "stats-interval", "0s"));
        PipelineThreads threads = PipelineThreads.of(config);
        try {
            String thread = Mono.fromCallable(() -> {
                        assertTrue(Schedulers.isInNonBlockingThread(), "watched as non-blocking");
                        return Thread.currentThread().getName();
                    })
                    .subscribeOn(threads.prepare())
                    .block(Duration.ofSeconds(10));
            assertEquals("meterline-prepare-1", thread);
        } finally {
            threads.dispose();
        }
    }

    /** The distinct nice values of the threads whose kernel name starts with {@code prefix}; none is a failure. */
    private static Set<Integer> valuesOf(Map<String, List<Integer>> nice, String prefix) {
        Set<Integer> out = new HashSet<>();
        nice.forEach((name, values) -> {
            if (name.startsWith(prefix)) {
                out.addAll(values);
            }
        });
        assertFalse(out.isEmpty(), "no thread named " + prefix + "…");
        return out;
    }

    /** The nice value of the {@code on} thread that runs a task subscribed to from a thread of {@code from}. */
    private static int niceOn(Scheduler on, Scheduler from) {
        return Mono.defer(() -> Mono.fromCallable(NiceValues::ofCurrentThread).subscribeOn(on))
                .subscribeOn(from)
                .block(Duration.ofSeconds(10));
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
