package dev.meterline.process;

import com.fasterxml.jackson.databind.JsonNode;
import dev.meterline.AggregateResults;
import dev.meterline.LineClient;
import dev.meterline.Poll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The core promise end to end, on the built jar as a real process: stream points, SIGTERM while a connection is
 * still open, watch the drain, and check that a restarted server on the same data dir answers the same aggregates.
 */
class ProcessLifecycleIT {

    private static final long WINDOW = 10_000;
    private static final long LATENESS = 5_000;
    private static final int SERIES = 20;
    private static final int POINTS = 20_000;
    private static final int LATE_POINTS = 50;

    @TempDir
    Path dir;

    @Test
    void sigtermDrainsEveryAcceptedPointAndARestartAnswersTheSame() throws Exception {
        long now = System.currentTimeMillis();
        long base = now - 90_000;
        // Expected totals per series ("host=hN"); values are multiples of 0.25, so every sum is exact in a double.
        Map<String, Long> expectedCount = new TreeMap<>();
        Map<String, Double> expectedSum = new TreeMap<>();
        StringBuilder payload = new StringBuilder(POINTS * 90);
        for (int i = 0; i < POINTS; i++) {
            String host = "h" + (i % SERIES);
            double value = (i % 97) * 0.25;
            long ts = base + (long) i * 90_000 / POINTS; // spread over the last 90 s: closed and open windows
            payload.append("{\"metric\":\"life.test\",\"value\":").append(value).append(",\"timestamp\":").append(ts)
                    .append(",\"tags\":{\"host\":\"").append(host).append("\"}}\n");
            expectedCount.merge("host=" + host, 1L, Long::sum);
            expectedSum.merge("host=" + host, value, Double::sum);
        }
        String range = "&from=" + (base - 60_000) + "&to=" + (now + 600_000);

        AggregateResults before;
        long sigtermAt;
        long exitedBy;
        long acceptedTotal;
        try (ServerProcess first = ServerProcess.start("first", dir, "--shutdown-timeout=10s",
                "--stats-interval=0s")) {
            try (LineClient client = new LineClient("127.0.0.1", first.tcpPort())) {
                client.send(payload.toString());
                JsonNode ack = client.sync("all");
                assertEquals(POINTS, ack.get("accepted").asLong(), ack.toString());
                assertEquals(0, ack.get("rejected").asLong(), ack.toString());
            }
            // Let the flush loop store the windows that are due, so the answer below mixes stored and open windows.
            JsonNode stats = Poll.until(() -> first.getJson("/api/v1/stats"),
                    st -> st.get("flushedWindows").asLong() > 0 && st.get("pendingWindows").asLong() == 0,
                    Duration.ofSeconds(10));
            assertTrue(stats.get("flushedWindows").asLong() > 0, "the flush loop stored windows: " + stats);
            before = AggregateResults.parse(first.get("/api/v1/aggregates?metric=life.test" + range).body());
            assertEquals(expectedCount, before.countBySeries(), "counts before the restart");
            assertEquals(expectedSum, before.sumBySeries(), "sums before the restart");

            // One connection stays open across the SIGTERM: the drain waits for it (up to 60 % of 10 s).
            try (LineClient lingering = new LineClient("127.0.0.1", first.tcpPort())) {
                lingering.send("{\"metric\":\"life.test\",\"value\":1,\"tags\":{\"host\":\"late-sender\"}}\n");
                assertEquals(1, lingering.sync("hello").get("accepted").asLong());

                sigtermAt = System.currentTimeMillis();
                first.terminate();
                HttpResponse<String> ready = pollReadyzUntil503(first, Duration.ofSeconds(2));
                assertEquals(503, ready.statusCode(), "/readyz after SIGTERM: " + ready.body());
                assertTrue(ready.body().contains("\"status\":\"draining\""), ready.body());
                // Health stays 200 while draining: the process is still serving, queries too.
                assertEquals(200, first.get("/healthz").statusCode());
                assertEquals(200, first.get("/api/v1/aggregates?metric=life.test" + range).statusCode());
                // New HTTP ingest is refused while draining.
                HttpResponse<String> post = first.post("/api/v1/points",
                        "{\"metric\":\"life.test\",\"value\":1,\"tags\":{\"host\":\"refused\"}}\n");
                assertEquals(503, post.statusCode(), post.body());
                assertTrue(post.body().contains("shutting down"), post.body());

                // The open connection is still read while draining; what it sends and gets acknowledged is kept.
                StringBuilder more = new StringBuilder();
                for (int i = 0; i < LATE_POINTS; i++) {
                    more.append("{\"metric\":\"life.test\",\"value\":2,\"tags\":{\"host\":\"late-sender\"}}\n");
                }
                lingering.send(more.toString());
                JsonNode ack = lingering.sync("during-drain");
                assertEquals(1 + LATE_POINTS, ack.get("accepted").asLong(), ack.toString());
                assertTrue(first.alive(), "the drain waits for the open connection");
                // Half-close: the server answers what is left, then closes; the drain ends with it.
                lingering.shutdownOutput();
                assertNull(lingering.readReply(), "the server closes the connection after the half-close");
            }
            expectedCount.put("host=late-sender", 1L + LATE_POINTS);
            expectedSum.put("host=late-sender", 1.0 + 2.0 * LATE_POINTS);
            acceptedTotal = POINTS + 1 + LATE_POINTS;

            int exit = first.waitFor(Duration.ofSeconds(30));
            exitedBy = System.currentTimeMillis();
            assertEquals(0, exit, "exit status after SIGTERM");
            // The connection closed long before the drain deadline (6 s), so the drain ended with it.
            String drained = first.line("drain connections done in");
            assertNotNull(drained, "the drain is logged");
            long drainMs = Long.parseLong(drained.replaceAll(".*done in (\\d+) ms.*", "$1"));
            assertTrue(drainMs < 6_000, "the drain waited for the deadline: " + drained);
            String finalStats = first.line("final stats");
            assertNotNull(finalStats, "the final stats line is printed");
            assertEquals(acceptedTotal, ServerProcess.stat(finalStats, "accepted"), finalStats);
            assertEquals(acceptedTotal, ServerProcess.stat(finalStats, "received"), finalStats);
            assertEquals(0, ServerProcess.stat(finalStats, "rejected"), finalStats);
            assertEquals(0, ServerProcess.stat(finalStats, "dropped"), finalStats);
            assertEquals(0, ServerProcess.stat(finalStats, "openWindows"), finalStats);
            assertEquals(0, ServerProcess.stat(finalStats, "pendingWindows"), finalStats);
            assertNotNull(first.line("final flush of"), "the final flush is logged");
        }

        try (ServerProcess second = ServerProcess.start("second", dir, "--stats-interval=0s")) {
            AggregateResults after = AggregateResults.parse(
                    second.get("/api/v1/aggregates?metric=life.test" + range).body());
            assertEquals(expectedCount, after.countBySeries(), "counts after the restart");
            assertEquals(expectedSum, after.sumBySeries(), "sums after the restart");
            assertEquals(acceptedTotal, after.totalCount());

            // Window by window, the answer is the one the first server gave (plus the points sent while draining).
            for (Map.Entry<String, TreeMap<Long, JsonNode>> s : before.series().entrySet()) {
                TreeMap<Long, JsonNode> afterWindows = after.series().get(s.getKey());
                assertEquals(s.getValue().keySet(), afterWindows.keySet(), "windows of " + s.getKey());
                for (JsonNode w : s.getValue().values()) {
                    JsonNode a = afterWindows.get(w.get("start").asLong());
                    for (String field : new String[]{"count", "sum", "min", "max", "mean", "last", "firstTimestamp",
                            "lastTimestamp", "late"}) {
                        assertEquals(w.get(field), a.get(field), field + " of " + s.getKey() + " " + w);
                    }
                    for (String q : new String[]{"p50", "p90", "p99"}) {
                        double x = w.get(q).asDouble();
                        assertEquals(x, a.get(q).asDouble(), Math.abs(x) * 0.01 + 1e-9, q + " of " + s.getKey());
                    }
                }
            }
            // Windows still open at the shutdown were flushed early: they come back as complete:false; windows
            // that had closed before the SIGTERM are complete.
            int early = 0;
            int complete = 0;
            for (Map.Entry<String, TreeMap<Long, JsonNode>> s : after.series().entrySet()) {
                for (JsonNode w : s.getValue().values()) {
                    long due = w.get("end").asLong() + LATENESS;
                    boolean isComplete = w.get("complete").asBoolean();
                    if (due > exitedBy) {
                        assertFalse(isComplete, "open at shutdown, so incomplete: " + s.getKey() + " " + w);
                        early++;
                    } else if (due <= sigtermAt - 2_000) {
                        assertTrue(isComplete, "closed before the SIGTERM: " + s.getKey() + " " + w);
                        complete++;
                    }
                }
            }
            assertTrue(early > 0, "some windows were open at the shutdown");
            assertTrue(complete > 0, "some windows had closed before the shutdown");
            assertEquals(WINDOW, after.body().get("resolution").asLong());

            JsonNode stats = second.getJson("/api/v1/stats");
            assertEquals(0, stats.get("accepted").asLong(), "the restarted server took no new points");
        }
    }

    /** Polls {@code /readyz} every 10 ms until it answers 503 or {@code within} passes; returns the last answer. */
    static HttpResponse<String> pollReadyzUntil503(ServerProcess server, Duration within) throws Exception {
        return Poll.until(() -> server.get("/readyz"), r -> r.statusCode() == 503, within);
    }
}
