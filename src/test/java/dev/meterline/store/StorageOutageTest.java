package dev.meterline.store;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.meterline.LineClient;
import dev.meterline.Poll;
import dev.meterline.TestServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * PostgreSQL goes down while a server ingests and comes back on the same data: every accepted point ends up in the
 * database exactly once, and the failures show on {@code /readyz}, {@code /api/v1/stats} and {@code /metrics}.
 */
class StorageOutageTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int SERIES = 10;
    private static final int POINTS_PER_SERIES = 1_500;

    @TempDir
    Path dir;
    @RegisterExtension
    final RestartablePostgres postgres = new RestartablePostgres();

    static Map<String, String> settings(String url) {
        Map<String, String> s = new HashMap<>(TwoReplicasTest.settings(url, "r1"));
        s.put("storage-timeout", "1s");
        return s;
    }

    @Test
    void everyAcceptedPointIsStoredOnceAfterTheDatabaseComesBack() throws Exception {
        String url = postgres.createDatabase("outage");
        SeriesTotals points = new SeriesTotals(SERIES, POINTS_PER_SERIES);
        try (TestServer server = TestServer.start(dir.resolve("data"), settings(url));
             LineClient client = server.connect()) {
            client.send(points.lines(0, 500, 1, 0));
            assertEquals(500 * SERIES, client.sync("before").get("accepted").asLong());
            // Down while the first points are being flushed (or just after): the store must cope with either.
            postgres.stop();
            client.send(points.lines(500, 750, 1, 0));
            assertEquals(750 * SERIES, client.sync("during-1").get("accepted").asLong());
            awaitFlushFailures(server, 2);
            client.send(points.lines(750, 1000, 1, 0));
            assertEquals(1000 * SERIES, client.sync("during-2").get("accepted").asLong());

            JsonNode stats = awaitFlushFailures(server, 4);
            assertTrue(stats.get("pendingWindows").asLong() > 0, stats.toString());
            HttpResponse<String> ready = server.get("/readyz");
            assertEquals(200, ready.statusCode(), ready.body());
            JsonNode readyBody = JSON.readTree(ready.body());
            assertEquals("degraded", readyBody.get("status").asText(), ready.body());
            assertTrue(readyBody.get("reason").asText().startsWith("storage unreachable: "), ready.body());
            assertTrue(readyBody.get("flushFailures").asLong() >= 4, ready.body());
            assertTrue(readyBody.get("pendingWindows").asLong() > 0, ready.body());
            assertTrue(counter(server.get("/metrics").body(), "meterline_flush_failures_total") >= 4);
            HttpResponse<String> query = server.get("/api/v1/aggregates?metric=" + SeriesTotals.METRIC);
            assertEquals(503, query.statusCode(), query.body());
            assertTrue(JSON.readTree(query.body()).get("error").asText().startsWith("storage unreachable: "),
                    query.body());

            postgres.restart();
            client.send(points.lines(1000, POINTS_PER_SERIES, 1, 0));
            assertEquals(POINTS_PER_SERIES * SERIES, client.sync("after").get("accepted").asLong());
            SeriesTotals.awaitEverythingStored(server);

            JsonNode readyAgain = JSON.readTree(server.get("/readyz").body());
            assertEquals("ready", readyAgain.get("status").asText(), readyAgain.toString());
            assertEquals(points.expectedCount(), postgres.queryLong("outage",
                    "SELECT sum(value_count) FROM meterline_window WHERE resolution_ms = 10000"));
            for (int s = 0; s < SERIES; s++) {
                SeriesTotals.Expected want = points.totals.get("h" + s);
                String where = " FROM meterline_window w JOIN meterline_series s ON s.id = w.series_id"
                        + " WHERE w.resolution_ms = 10000 AND s.tags = '{\"dc\":\"eu\",\"host\":\"h" + s + "\"}'";
                assertEquals(want.count, postgres.queryLong("outage", "SELECT sum(value_count)" + where), "h" + s);
                assertEquals((long) (want.sum * 2), postgres.queryLong("outage", "SELECT sum(value_sum) * 2" + where),
                        "h" + s);
            }
            points.assertWindows(server);
            points.assertTotals(server);
        }
    }

    /** Polls the stats until at least {@code n} flush failures are counted. */
    static JsonNode awaitFlushFailures(TestServer server, long n) throws Exception {
        JsonNode stats = Poll.until(() -> SeriesTotals.stats(server), s -> s.get("flushFailures").asLong() >= n,
                Duration.ofSeconds(60));
        if (stats.get("flushFailures").asLong() < n) {
            throw new AssertionError("fewer than " + n + " flush failures after 60 s: " + stats);
        }
        return stats;
    }

    /** The value of an untagged counter in a Prometheus exposition. */
    static double counter(String exposition, String name) {
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(name) + "(?:\\{[^}]*})? (\\S+)$").matcher(exposition);
        if (!m.find()) {
            throw new AssertionError(name + " not in /metrics");
        }
        return Double.parseDouble(m.group(1));
    }
}
