package dev.meterline.query;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.meterline.AggregateResults;
import dev.meterline.LineClient;
import dev.meterline.Poll;
import dev.meterline.TestServer;
import dev.meterline.model.Window;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Stops and starts an in-process server on the same data dir while windows are in every state (stored, due and
 * still in memory, open), and again after more points went into the same windows: every query answers the same
 * before and after each restart.
 */
class RestartTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private long now;
    private long old;

    private List<String> queries() {
        String range = "&from=" + (old - 60_000) + "&to=" + (now + 600_000);
        return List.of(
                "/api/v1/aggregates?metric=restart.m" + range,
                "/api/v1/aggregates?metric=restart.m&resolution=1m&groupBy=region" + range,
                "/api/v1/aggregates?metric=restart.m&tag=region:eu&resolution=1h" + range,
                "/api/v1/aggregates?metric=restart.other" + range,
                "/api/v1/series?metric=restart.m",
                "/api/v1/series?metric=restart.m&limit=2&offset=1");
    }

    private Map<String, JsonNode> answers(TestServer server) throws Exception {
        Map<String, JsonNode> out = new LinkedHashMap<>();
        for (String q : queries()) {
            HttpResponse<String> res = server.get(q);
            assertEquals(200, res.statusCode(), q + " → " + res.body());
            out.put(q, JSON.readTree(res.body()));
        }
        // Metrics: the series counts (active series differ by design: a restarted server has none in memory).
        for (JsonNode m : JSON.readTree(server.get("/api/v1/metrics").body()).get("metrics")) {
            out.put("series of " + m.get("metric").asText(), m.get("series"));
        }
        return out;
    }

    private static void send(TestServer server, String lines, long expectAccepted) throws Exception {
        try (LineClient c = server.connect()) {
            c.send(lines);
            JsonNode ack = c.sync("s");
            assertEquals(expectAccepted, ack.get("accepted").asLong(), ack.toString());
        }
    }

    private static String points(String metric, String host, String region, long from, int n, long step,
                                 double value) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < n; i++) {
            sb.append("{\"metric\":\"").append(metric).append("\",\"value\":").append(value + (i % 9) * 0.25)
                    .append(",\"timestamp\":").append(from + i * step).append(",\"tags\":{\"host\":\"").append(host)
                    .append("\",\"region\":\"").append(region).append("\"}}\n");
        }
        return sb.toString();
    }

    private static void waitUntilFlushed(TestServer server, long atLeast) throws Exception {
        Predicate<JsonNode> flushed = s -> s.get("flushedWindows").asLong() >= atLeast
                && s.get("pendingWindows").asLong() == 0;
        JsonNode s = Poll.until(() -> JSON.readTree(server.get("/api/v1/stats").body()), flushed,
                Duration.ofSeconds(10));
        assertTrue(flushed.test(s), "not flushed in time: " + s);
    }

    @Test
    void queriesAnswerTheSameBeforeAndAfterEachRestart() throws Exception {
        // The servers' clock stands still 0.3 s past a due moment (a window's end plus the 5 s lateness, ≡ 5 s
        // modulo the 10 s window), so no window becomes due while the answers are compared across restarts: a
        // window that did would answer complete:false before and complete:true after, a difference of timing.
        now = Window.startOf(System.currentTimeMillis() - 10_000, 10_000) + 5_300;
        LongSupplier clock = () -> now;
        old = Window.startOf(now - 5 * 60_000, 60_000);
        Map<String, JsonNode> before;
        try (TestServer first = TestServer.start(dir, Map.of(), null, clock)) {
            // Two minutes of old points (due: the flush loop stores them)…
            send(first, points("restart.m", "a", "eu", old, 240, 500, 1)
                    + points("restart.m", "b", "eu", old + 7, 240, 500, 10)
                    + points("restart.m", "c", "us", old + 3, 120, 1000, 100), 600);
            waitUntilFlushed(first, 1);
            // …then, between flushes, late points into stored windows, a new series in old windows (due, but in
            // memory until the next tick), and points into open windows; and at once the answers.
            long t = now;
            send(first, points("restart.m", "a", "eu", old + 250, 20, 1000, 5)
                    + points("restart.m", "f", "us", old + 30_000, 5, 1000, 2)
                    + points("restart.m", "d", "us", t - 2_000, 10, 100, 7)
                    + points("restart.other", "a", "eu", t - 1_000, 5, 10, 3), 40);
            before = answers(first);
            JsonNode stats = JSON.readTree(first.get("/api/v1/stats").body());
            assertTrue(stats.get("openWindows").asLong() > 0, "some windows are still in memory: " + stats);
        }
        assertOpenWindowsIncomplete(before);

        Map<String, JsonNode> afterFirstRestart;
        try (TestServer second = TestServer.start(dir, Map.of(), null, clock)) {
            afterFirstRestart = answers(second);
            assertEquals(before, afterFirstRestart);
            // More points into the same windows, stored and open, and a new series.
            long t2 = now;
            send(second, points("restart.m", "b", "eu", old + 11, 30, 2000, 20)
                    + points("restart.m", "d", "us", t2 - 1_500, 10, 100, 8)
                    + points("restart.m", "e", "us", t2, 3, 1, 9), 43);
            before = answers(second);
            assertFalse(before.equals(afterFirstRestart), "the new points show");
        }
        try (TestServer third = TestServer.start(dir, Map.of(), null, clock)) {
            assertEquals(before, answers(third));
        }
        AggregateResults all = AggregateResults.parse(before.get(queries().get(0)).toString());
        assertEquals(Map.of("host=a,region=eu", 260L, "host=b,region=eu", 270L, "host=c,region=us", 120L,
                "host=d,region=us", 20L, "host=e,region=us", 3L, "host=f,region=us", 5L), all.countBySeries());
    }

    /** Windows that were open at the stop are flushed early: they answer complete:false. */
    private void assertOpenWindowsIncomplete(Map<String, JsonNode> answers) throws Exception {
        AggregateResults r = AggregateResults.parse(answers.get(queries().get(3)).toString());
        for (JsonNode w : r.series().get("host=a,region=eu").values()) {
            assertFalse(w.get("complete").asBoolean(), w.toString());
        }
    }
}
