package dev.meterline.store;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.meterline.Background;
import dev.meterline.LineClient;
import dev.meterline.Poll;
import dev.meterline.TestServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * With the database down and no spool, windows wait in memory up to {@code max-pending-windows}; at the bound ingest is pushed
 * back (TCP stops reading, HTTP answers 503 with Retry-After, readiness 503 with the reason), nothing is dropped, and
 * everything is written once the database is back.
 */
class PendingBoundTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int SERIES = 10;
    private static final int POINTS_PER_SERIES = 180;

    @TempDir
    Path dir;
    @RegisterExtension
    final RestartablePostgres postgres = new RestartablePostgres();

    @Test
    void atTheBoundIngestIsPushedBackAndNothingIsLost() throws Exception {
        String url = postgres.createDatabase("bound");
        Map<String, String> settings = new HashMap<>(StorageOutageTest.settings(url));
        settings.put("max-pending-windows", "50");
        settings.put("spool-max-bytes", "0");
        SeriesTotals points = new SeriesTotals(SERIES, POINTS_PER_SERIES);
        // 180 windows (10 series, 18 windows each): more than the bound once they are closed.
        String first = points.lines(0, POINTS_PER_SERIES, 1, 0);
        try (TestServer server = TestServer.start(dir.resolve("data"), settings);
             LineClient a = server.connect();
             LineClient b = server.connect()) {
            postgres.stop();
            CompletableFuture<JsonNode> firstAck = Background.call("client a", () -> sendAndSync(a, first, "a"));
            // Paused, and every point admitted before the pause aggregated: from here on nothing can be accepted.
            JsonNode paused = await(server, s -> s.get("ingestPaused").asLong() == 1
                    && s.get("bufferDepth").asLong() == 0);
            assertTrue(paused.get("pendingWindows").asLong() >= 50, paused.toString());
            assertEquals(50, paused.get("pendingLimit").asLong(), paused.toString());
            assertTrue(StorageOutageTest.counter(server.get("/metrics").body(), "meterline_ingest_paused") == 1.0);

            HttpResponse<String> post = server.post("/api/v1/points",
                    "{\"metric\":\"other\",\"value\":1}\n".getBytes(StandardCharsets.UTF_8));
            assertEquals(503, post.statusCode(), post.body());
            assertEquals("5", post.headers().firstValue("Retry-After").orElse(""), post.headers().toString());
            assertTrue(JSON.readTree(post.body()).get("error").asText().startsWith("ingest paused"), post.body());

            HttpResponse<String> ready = server.get("/readyz");
            assertEquals(503, ready.statusCode(), ready.body());
            JsonNode readyBody = JSON.readTree(ready.body());
            assertEquals("degraded", readyBody.get("status").asText(), ready.body());
            String reason = readyBody.get("reason").asText();
            assertTrue(reason.startsWith("storage unreachable: ") && reason.contains("ingest paused"), reason);

            // One more point over TCP waits for admission: its connection is no longer read.
            String extra = "{\"metric\":\"" + SeriesTotals.METRIC + "\",\"value\":7.5,\"timestamp\":"
                    + (points.base + 1) + ",\"tags\":{\"host\":\"h0\",\"dc\":\"eu\"}}\n";
            long acceptedBefore = paused.get("accepted").asLong();
            CompletableFuture<JsonNode> extraAck = Background.call("client b", () -> sendAndSync(b, extra, "b"));
            JsonNode waiting = await(server, s -> s.get("bufferWaiting").asLong() >= 1);
            assertFalse(extraAck.isDone());
            assertEquals(acceptedBefore, waiting.get("accepted").asLong(), waiting.toString());
            assertEquals(0, waiting.get("dropped").asLong(), waiting.toString());

            postgres.restart();
            assertEquals(SERIES * POINTS_PER_SERIES, firstAck.get(90, TimeUnit.SECONDS).get("accepted").asLong());
            assertEquals(1, extraAck.get(90, TimeUnit.SECONDS).get("accepted").asLong());
            SeriesTotals.awaitEverythingStored(server);
            JsonNode after = SeriesTotals.stats(server);
            assertEquals(0, after.get("ingestPaused").asLong(), after.toString());
            assertEquals(0, after.get("dropped").asLong(), after.toString());
            assertEquals(200, server.get("/readyz").statusCode());
            assertEquals(points.expectedCount() + 1, postgres.queryLong("bound",
                    "SELECT sum(value_count) FROM meterline_window WHERE resolution_ms = 10000"));
            HttpResponse<String> again = server.post("/api/v1/points",
                    "{\"metric\":\"other\",\"value\":1}\n".getBytes(StandardCharsets.UTF_8));
            assertEquals(200, again.statusCode(), again.body());
        }
    }

    private static JsonNode sendAndSync(LineClient client, String lines, String id) {
        try {
            client.send(lines);
            return client.sync(id);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** Polls the stats until {@code condition} holds (60 s at most). */
    static JsonNode await(TestServer server, Predicate<JsonNode> condition) throws Exception {
        JsonNode stats = Poll.until(() -> SeriesTotals.stats(server), condition, Duration.ofSeconds(60));
        if (!condition.test(stats)) {
            throw new AssertionError("condition not met after 60 s: " + stats);
        }
        return stats;
    }
}
