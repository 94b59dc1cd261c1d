package dev.meterline.store;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.meterline.LineClient;
import dev.meterline.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Two server instances share one real PostgreSQL; each gets half of the points over TCP, and either instance's
 * HTTP query returns the exact totals of all of them.
 */
class TwoReplicasTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int SERIES = 20;
    private static final int POINTS_PER_SERIES = 2_000;
    private static final long SPAN = 180_000;

    @TempDir
    static Path pgDir;
    private static RestartablePostgres postgres;

    @TempDir
    Path dir;

    @BeforeAll
    static void startPostgres() throws Exception {
        postgres = RestartablePostgres.start(pgDir.resolve("pg"));
    }

    @AfterAll
    static void stopPostgres() throws Exception {
        postgres.close();
    }

    /** Exact statistics of one series in one window. */
    private static final class Expected {
        long count;
        double sum;
        double min = Double.POSITIVE_INFINITY;
        double max = Double.NEGATIVE_INFINITY;
        long lastTs = Long.MIN_VALUE;
        double last;

        void add(double v, long ts) {
            count++;
            sum += v;
            min = Math.min(min, v);
            max = Math.max(max, v);
            if (ts > lastTs) {
                lastTs = ts;
                last = v;
            }
        }
    }

    @Test
    void eitherReplicaAnswersTheExactTotalsOfBoth() throws Exception {
        String url = postgres.createDatabase("replicas");
        // Well in the past, so every window is due at once: the points are late and flushed on the next tick.
        long base = (System.currentTimeMillis() - 20 * 60_000) / SPAN * SPAN;
        StringBuilder[] halves = {new StringBuilder(), new StringBuilder()};
        Map<String, TreeMap<Long, Expected>> windows = new HashMap<>();
        Map<String, Expected> totals = new HashMap<>();
        for (int i = 0; i < POINTS_PER_SERIES; i++) {
            for (int s = 0; s < SERIES; s++) {
                // Multiples of 0.5 add up exactly in any order; timestamps are distinct per series, so last is exact.
                double v = ((i * 37L + s * 11L) % 1000) * 0.5 - 100;
                long ts = base + i * (SPAN / POINTS_PER_SERIES) + s;
                String host = "h" + s;
                halves[(i + s) % 2].append("{\"metric\":\"req.time\",\"value\":").append(v)
                        .append(",\"timestamp\":").append(ts).append(",\"tags\":{\"host\":\"").append(host)
                        .append("\",\"dc\":\"eu\"}}\n");
                windows.computeIfAbsent(host, h -> new TreeMap<>())
                        .computeIfAbsent(ts / 10_000 * 10_000, w -> new Expected()).add(v, ts);
                totals.computeIfAbsent(host, h -> new Expected()).add(v, ts);
            }
        }
        TestServer a = TestServer.start(dir.resolve("a"), settings(url, "replica-a"));
        TestServer b = TestServer.start(dir.resolve("b"), settings(url, "replica-b"));
        try {
            TestServer[] servers = {a, b};
            for (int r = 0; r < 2; r++) {
                try (LineClient client = servers[r].connect()) {
                    client.send(halves[r].toString());
                    JsonNode ack = client.sync("half-" + r);
                    assertEquals(SERIES * POINTS_PER_SERIES / 2, ack.get("accepted").asLong(), ack.toString());
                    assertEquals(0, ack.get("rejected").asLong(), ack.toString());
                }
            }
            awaitEverythingStored(a);
            awaitEverythingStored(b);

            for (TestServer server : servers) {
                assertWindows(server, base, windows);
                assertTotals(server, base, totals);
            }
            assertEquals(SERIES * POINTS_PER_SERIES, postgres.queryLong("replicas",
                    "SELECT sum(value_count) FROM meterline_window WHERE resolution_ms = 10000"));
            assertEquals(2, postgres.queryLong("replicas", "SELECT count(DISTINCT replica) FROM meterline_window"));
        } finally {
            a.close();
            b.close();
        }
    }

    static Map<String, String> settings(String url, String replica) {
        return Map.of("storage-url", url, "storage-user", "postgres", "storage-password", "", "replica-id", replica,
                "flush-interval", "200ms");
    }

    /** Waits until nothing is held in memory or pending: every accepted point is in the database. */
    static void awaitEverythingStored(TestServer server) throws Exception {
        long deadline = System.nanoTime() + 60_000_000_000L;
        JsonNode stats;
        do {
            stats = JSON.readTree(server.get("/api/v1/stats").body());
            if (stats.get("openWindows").asLong() == 0 && stats.get("pendingWindows").asLong() == 0) {
                return;
            }
            Thread.sleep(50);
        } while (System.nanoTime() < deadline);
        throw new AssertionError("windows still in memory after 60 s: " + stats);
    }

    private static void assertWindows(TestServer server, long base, Map<String, TreeMap<Long, Expected>> expected)
            throws Exception {
        JsonNode body = query(server, "/api/v1/aggregates?metric=req.time&from=" + base + "&to=" + (base + SPAN));
        assertEquals(SERIES, body.get("series").size(), body.toString());
        for (JsonNode series : body.get("series")) {
            String host = series.get("tags").get("host").asText();
            TreeMap<Long, Expected> want = expected.get(host);
            assertEquals(want.size(), series.get("windows").size(), host);
            for (JsonNode w : series.get("windows")) {
                assertSame(want.get(w.get("start").asLong()), w, host + " @" + w.get("start"));
            }
        }
    }

    private static void assertTotals(TestServer server, long base, Map<String, Expected> expected) throws Exception {
        JsonNode body = query(server, "/api/v1/aggregates?metric=req.time&from=" + base + "&to=" + (base + SPAN)
                + "&resolution=3m");
        assertEquals(SERIES, body.get("series").size(), body.toString());
        for (JsonNode series : body.get("series")) {
            String host = series.get("tags").get("host").asText();
            assertEquals(1, series.get("windows").size(), host);
            assertSame(expected.get(host), series.get("windows").get(0), host);
        }
    }

    private static void assertSame(Expected want, JsonNode w, String where) {
        assertEquals(want.count, w.get("count").asLong(), where + " count");
        assertEquals(want.sum, w.get("sum").asDouble(), 0.0, where + " sum");
        assertEquals(want.min, w.get("min").asDouble(), 0.0, where + " min");
        assertEquals(want.max, w.get("max").asDouble(), 0.0, where + " max");
        assertEquals(want.last, w.get("last").asDouble(), 0.0, where + " last");
    }

    static JsonNode query(TestServer server, String path) throws Exception {
        HttpResponse<String> res = server.get(path);
        assertEquals(200, res.statusCode(), res.body());
        return JSON.readTree(res.body());
    }
}
