package dev.meterline.wal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.meterline.Background;
import dev.meterline.LineClient;
import dev.meterline.Poll;
import dev.meterline.TestServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A tiny {@code wal-max-bytes}: one request fills the log while its windows are still open, so ingest pauses (HTTP
 * answers 503 with Retry-After, TCP stops being read, /readyz says why); once the windows close and are stored the
 * log lets its segments go and ingest resumes. Nothing is dropped on the way. The segments are left at {@code auto},
 * the smallest size under so small a bound (4 KiB, four segments).
 */
class WalBoundTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private static byte[] points(int n, long timestamp) {
        StringBuilder sb = new StringBuilder(n * 80);
        for (int i = 0; i < n; i++) {
            sb.append("{\"metric\":\"bound\",\"value\":1,\"timestamp\":").append(timestamp)
                    .append(",\"tags\":{\"s\":\"").append(i % 50).append("\"}}\n");
        }
        return sb.toString().getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void atTheBoundIngestPausesVisiblyAndResumesOnceFlushesLetSegmentsGo() throws Exception {
        Map<String, String> settings = Map.of("wal-max-bytes", "16384", "window", "1s", "lateness", "0s",
                "flush-interval", "100ms", "retention", "1s:1d,1m:30d", "shards", "1");
        try (TestServer server = TestServer.start(dir, settings)) {
            // Windows that stay open for fifteen more seconds: until then the log cannot shrink. The request that
            // fills the log is not awaited: its body may arrive in several batches, and those after the bound wait.
            long ahead = System.currentTimeMillis() + 15_000;
            CompletableFuture<HttpResponse<String>> first = Background.call("filling post",
                    () -> server.post("/api/v1/points", points(2_000, ahead)));
            long waitingBefore = await(server, s -> s.get("walPaused").asLong() == 1).get("bufferWaiting").asLong();

            HttpResponse<String> refused = server.post("/api/v1/points", points(10, ahead));
            assertEquals(503, refused.statusCode(), refused.body());
            assertTrue(refused.headers().firstValue("Retry-After").isPresent(), refused.headers().toString());
            HttpResponse<String> ready = server.get("/readyz");
            assertEquals(503, ready.statusCode(), ready.body());
            assertTrue(JSON.readTree(ready.body()).get("reason").asText().contains("write-ahead log"), ready.body());
            assertTrue(server.get("/metrics").body().contains("meterline_wal_pauses_total 1.0"));

            try (LineClient tcp = server.connect()) {
                CompletableFuture<JsonNode> waiting = Background.call("waiting client", () -> {
                    tcp.send(points(100, ahead));
                    return tcp.sync("paused");
                });
                JsonNode stats = await(server,
                        s -> s.get("bufferWaiting").asLong() > waitingBefore || waiting.isDone());
                assertFalse(waiting.isDone(), "a TCP batch waits while the log is at its bound: " + stats);

                await(server, s -> s.get("walPaused").asLong() == 0);
                assertEquals(100, waiting.get(60, TimeUnit.SECONDS).get("accepted").asLong());
            }
            HttpResponse<String> filled = first.get(60, TimeUnit.SECONDS);
            assertEquals(200, filled.statusCode(), filled.body());
            assertEquals(2_000, JSON.readTree(filled.body()).get("accepted").asLong());
            HttpResponse<String> again = server.post("/api/v1/points", points(10, System.currentTimeMillis()));
            assertEquals(200, again.statusCode(), again.body());
            JsonNode stats = await(server, s -> s.get("accepted").asLong() == 2_110);
            assertEquals(0, stats.get("dropped").asLong(), stats.toString());
            long now = System.currentTimeMillis();
            JsonNode body = JSON.readTree(server.get("/api/v1/aggregates?metric=bound&from=" + (now - 600_000)
                    + "&to=" + (now + 600_000)).body());
            long counted = 0;
            for (JsonNode s : body.path("series")) {
                for (JsonNode w : s.path("windows")) {
                    counted += w.path("count").asLong();
                }
            }
            assertEquals(2_110, counted);
        }
    }

    /** Polls the stats until {@code condition} holds (60 s at most). */
    private static JsonNode await(TestServer server, Predicate<JsonNode> condition) throws Exception {
        JsonNode stats = Poll.until(() -> JSON.readTree(server.get("/api/v1/stats").body()), condition,
                Duration.ofSeconds(60));
        if (!condition.test(stats)) {
            throw new AssertionError("condition not met after 60 s: " + stats);
        }
        return stats;
    }
}
