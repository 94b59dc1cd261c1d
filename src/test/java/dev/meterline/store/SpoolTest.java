package dev.meterline.store;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.meterline.Background;
import dev.meterline.LineClient;
import dev.meterline.TestServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * With PostgreSQL down, windows beyond {@code max-pending-windows} go to the on-disk spool; when it is full too,
 * ingest pauses; once the database is back (in this run or the next one) every spooled window is written once.
 */
class SpoolTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int SERIES = 40;
    private static final int POINTS_PER_SERIES = 180;

    @TempDir
    Path dir;
    @RegisterExtension
    final RestartablePostgres postgres = new RestartablePostgres();

    private static Map<String, String> settings(String url, long spoolBytes) {
        Map<String, String> s = new HashMap<>(StorageOutageTest.settings(url));
        s.put("max-pending-windows", "20");
        s.put("spool-max-bytes", String.valueOf(spoolBytes));
        return s;
    }

    @Test
    void beyondMemoryWindowsSpillToDiskThenIngestPausesAndEverythingIsWrittenOnce() throws Exception {
        String url = postgres.createDatabase("spool");
        SeriesTotals points = new SeriesTotals(SERIES, POINTS_PER_SERIES);
        // 720 windows, closed in one flush: the spool takes chunks of it until full, the rest waits in memory.
        String lines = points.lines(0, POINTS_PER_SERIES, 1, 0);
        try (TestServer server = TestServer.start(dir.resolve("data"), settings(url, 100_000));
             LineClient client = server.connect()) {
            postgres.stop();
            CompletableFuture<JsonNode> ack = Background.call("spooling client", () -> {
                client.send(lines);
                return client.sync("all");
            });
            JsonNode full = PendingBoundTest.await(server, s -> s.get("ingestPaused").asLong() == 1);
            assertTrue(full.get("spoolWindows").asLong() > 0, full.toString());
            assertTrue(full.get("spoolBytes").asLong() >= 100_000, full.toString());
            assertEquals(100_000, full.get("spoolLimitBytes").asLong(), full.toString());
            assertEquals(0, full.get("dropped").asLong(), full.toString());
            HttpResponse<String> ready = server.get("/readyz");
            assertEquals(503, ready.statusCode(), ready.body());
            JsonNode body = JSON.readTree(ready.body());
            String reason = body.get("reason").asText();
            assertTrue(reason.contains("windows spooled to disk (spool full)") && reason.contains("ingest paused"),
                    reason);
            assertTrue(body.get("spooledWindows").asLong() > 0, ready.body());
            assertTrue(StorageOutageTest.counter(server.get("/metrics").body(), "meterline_spool_windows") > 0);

            postgres.restart();
            assertEquals(SERIES * POINTS_PER_SERIES, ack.get(90, TimeUnit.SECONDS).get("accepted").asLong());
            // Ingest resumes once the flush that emptied pending has finished, a moment after the counts reach 0.
            JsonNode drained = PendingBoundTest.await(server, s -> s.get("spoolWindows").asLong() == 0
                    && s.get("pendingWindows").asLong() == 0 && s.get("openWindows").asLong() == 0
                    && s.get("ingestPaused").asLong() == 0);
            assertEquals(0, drained.get("ingestPaused").asLong(), drained.toString());
            assertEquals(points.expectedCount(), postgres.queryLong("spool",
                    "SELECT sum(value_count) FROM meterline_window WHERE resolution_ms = 10000"));
            points.assertWindows(server);
            points.assertTotals(server);
        }
    }

    @Test
    void windowsSpooledAtShutdownAreWrittenByTheNextStart() throws Exception {
        String url = postgres.createDatabase("restart");
        SeriesTotals points = new SeriesTotals(10, POINTS_PER_SERIES);
        Path data = dir.resolve("data");
        try (TestServer server = TestServer.start(data, settings(url, 10_000_000));
             LineClient client = server.connect()) {
            postgres.stop();
            client.send(points.lines(0, POINTS_PER_SERIES, 1, 0));
            assertEquals(10 * POINTS_PER_SERIES, client.sync("all").get("accepted").asLong());
            StorageOutageTest.awaitFlushFailures(server, 1);
            server.stop();
            // The graceful stop could not reach the database: the final flush went to the spool.
            assertEquals(0, ((Number) server.pipeline().stats().get("pendingWindows")).longValue());
            assertTrue(((Number) server.pipeline().stats().get("spoolWindows")).longValue() > 0);
        }
        assertTrue(Files.exists(data.resolve(Spool.FILE_NAME)));
        postgres.restart();
        try (TestServer again = TestServer.start(data, settings(url, 10_000_000))) {
            PendingBoundTest.await(again, s -> s.get("spoolWindows").asLong() == 0);
            assertEquals(points.expectedCount(), postgres.queryLong("restart",
                    "SELECT sum(value_count) FROM meterline_window WHERE resolution_ms = 10000"));
            points.assertTotals(again);
        }
    }
}
