package dev.meterline.ingest;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.meterline.Background;
import dev.meterline.LineClient;
import dev.meterline.TestServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A tiny ingest buffer in front of a stalled aggregator: block loses nothing, drop counts and tells. */
class BackpressureTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int CAPACITY = 500;
    private static final int SHARDS = 2;

    @TempDir
    Path dir;

    private final ExecutorService shardThreads = Executors.newFixedThreadPool(SHARDS);
    private final CountDownLatch gate = new CountDownLatch(1);

    /** A shard scheduler whose threads are all parked until {@link #release()}: the aggregator is stalled. */
    private Scheduler stalledShards() {
        for (int i = 0; i < SHARDS; i++) {
            shardThreads.submit(() -> {
                gate.await();
                return null;
            });
        }
        return Schedulers.fromExecutorService(shardThreads);
    }

    private void release() {
        gate.countDown();
    }

    @AfterEach
    void stopThreads() {
        gate.countDown();
        shardThreads.shutdownNow();
    }

    private static String points(int n, int firstValue) {
        StringBuilder sb = new StringBuilder(n * 64);
        for (int i = 0; i < n; i++) {
            sb.append("{\"metric\":\"bp\",\"value\":").append(firstValue + i).append(",\"tags\":{\"s\":\"")
                    .append(i % 50).append("\"}}\n");
        }
        return sb.toString();
    }

    private static long meter(TestServer server, String stat) throws Exception {
        return JSON.readTree(server.get("/api/v1/stats").body()).get(stat).asLong();
    }

    /** Polls the stats until {@code stat} reaches {@code atLeast}, failing after a deadline. */
    private static void awaitStat(TestServer server, String stat, long atLeast) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (meter(server, stat) < atLeast) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError(stat + " never reached " + atLeast);
            }
            Thread.onSpinWait();
        }
    }

    @Test
    void blockPolicyStopsReadingAndLosesNothing() throws Exception {
        int total = 200_000;
        try (TestServer server = TestServer.start(dir,
                Map.of("buffer-size", String.valueOf(CAPACITY), "overflow", "block", "shards", String.valueOf(SHARDS)),
                stalledShards())) {
            LineClient client = server.connect();
            byte[] payload = points(total, 0).getBytes(StandardCharsets.UTF_8);
            CompletableFuture<Void> writer = Background.run("blocked writer", () -> client.send(payload));
            awaitStat(server, "bufferWaiting", 1);
            assertFalse(writer.isDone(), "the server must stop reading while the buffer is full");
            assertTrue(meter(server, "bufferDepth") <= CAPACITY);
            assertTrue(meter(server, "received") < total);
            assertEquals(0, meter(server, "dropped"));

            release();
            writer.get(60, TimeUnit.SECONDS);
            JsonNode ack = client.sync("all");
            assertEquals(total, ack.get("accepted").asLong());
            assertEquals(0, ack.get("rejected").asLong());
            assertFalse(ack.has("dropped"), "block policy answers the spec's sync shape");
            assertTrue(client.errors().isEmpty(), client.errors().toString());
            assertEquals(total, meter(server, "accepted"));
            assertTrue(meter(server, "bufferPeak") <= CAPACITY, "the buffer never exceeds its size");
            client.close();
        }
    }

    @Test
    void dropPolicyCountsEveryDropAndTellsTheClient() throws Exception {
        int total = 5_000;
        try (TestServer server = TestServer.start(dir,
                Map.of("buffer-size", String.valueOf(CAPACITY), "overflow", "drop", "shards", String.valueOf(SHARDS)),
                stalledShards())) {
            try (LineClient client = server.connect()) {
                client.send(points(total, 0));
                awaitStat(server, "received", total);
                assertTrue(meter(server, "bufferPeak") <= CAPACITY);

                // The request cannot fit beside what the stalled aggregator holds: part of it is dropped, and the
                // answer comes once the part that fit has been aggregated.
                CompletableFuture<HttpResponse<String>> post = Background.call("dropped post",
                        () -> server.post("/api/v1/points", points(2_000, 0).getBytes(StandardCharsets.UTF_8),
                                "Content-Type", "application/x-ndjson"));
                awaitStat(server, "received", total + 2_000);
                release();
                HttpResponse<String> overloaded = post.get(60, TimeUnit.SECONDS);
                assertEquals(429, overloaded.statusCode(), overloaded.body());
                assertTrue(overloaded.headers().firstValue("Retry-After").isPresent());
                JsonNode body = JSON.readTree(overloaded.body());
                assertEquals("overloaded", body.get("error").asText());
                long httpDropped = body.get("dropped").asLong();
                assertEquals(2_000, body.get("accepted").asLong() + httpDropped);

                JsonNode ack = client.sync("after");
                long accepted = ack.get("accepted").asLong();
                long dropped = ack.get("dropped").asLong();
                assertEquals(total, accepted + dropped, ack.toString());
                assertEquals(0, ack.get("rejected").asLong());
                assertTrue(dropped > 0, "with a stalled aggregator most points cannot fit");
                assertTrue(accepted <= CAPACITY, "only what fit in the buffer went in");
                assertFalse(client.errors().isEmpty());
                for (JsonNode e : client.errors()) {
                    assertEquals("overloaded", e.get("error").asText());
                    assertTrue(e.get("line").asInt() >= 1 && e.get("line").asInt() <= total);
                }
                assertEquals(dropped + httpDropped, meter(server, "dropped"));
            }
        }
    }
}
