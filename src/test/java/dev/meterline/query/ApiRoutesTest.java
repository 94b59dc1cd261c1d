package dev.meterline.query;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.meterline.LineClient;
import dev.meterline.Poll;
import dev.meterline.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The rest of the HTTP API on a real server: metrics, series (paginated), cardinality, stats, health, readiness,
 * the Prometheus scrape and unknown routes.
 */
class ApiRoutesTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path dir;
    private static TestServer server;

    @BeforeAll
    static void start() {
        server = TestServer.start(dir, Map.of("max-series", "5000"));
    }

    @AfterAll
    static void stop() {
        server.stop();
    }

    private static JsonNode getJson(String path, int status) throws Exception {
        HttpResponse<String> res = server.get(path);
        assertEquals(status, res.statusCode(), path + " → " + res.body());
        assertEquals("application/json", res.headers().firstValue("content-type").orElse(""), path);
        return JSON.readTree(res.body());
    }

    /** Sends lines on a new connection and waits until they are aggregated. */
    private static JsonNode send(String lines) throws Exception {
        try (LineClient c = server.connect()) {
            c.send(lines);
            return c.sync("sent");
        }
    }

    private static String point(String metric, String tags) {
        return "{\"metric\":\"" + metric + "\",\"value\":1,\"tags\":{" + tags + "}}\n";
    }

    @Test
    void healthAndReadiness() throws Exception {
        assertEquals("ok", getJson("/healthz", 200).get("status").asText());
        JsonNode ready = getJson("/readyz", 200);
        assertEquals("ready", ready.get("status").asText());
        assertEquals(0, ready.get("flushFailures").asLong());
        assertTrue(ready.has("pendingWindows"));
    }

    @Test
    void unknownRoutesAre404Json() throws Exception {
        JsonNode body = getJson("/api/v1/nope?x=1", 404);
        assertTrue(body.get("error").asText().contains("/api/v1/nope"), body.toString());
        getJson("/index.php", 404); // "/" is the built-in page (PageRoutesTest)
        // A known path with another method is no route either.
        HttpResponse<String> post = server.post("/api/v1/aggregates", new byte[0]);
        assertEquals(404, post.statusCode(), post.body());
        assertTrue(JSON.readTree(post.body()).has("error"));
    }

    @Test
    void metricsListsKnownMetricsWithSeriesCounts() throws Exception {
        long old = System.currentTimeMillis() - 600_000;
        StringBuilder sb = new StringBuilder();
        for (int h = 0; h < 3; h++) {
            sb.append("{\"metric\":\"routes.stored\",\"value\":1,\"timestamp\":").append(old)
                    .append(",\"tags\":{\"host\":\"h").append(h).append("\"}}\n");
        }
        send(sb.toString());
        // The windows are due: once flushed, the series are known from storage only.
        waitFor(() -> metric("routes.stored") != null && metric("routes.stored").get("activeSeries").asLong() == 0);
        JsonNode stored = metric("routes.stored");
        assertEquals(3, stored.get("series").asLong(), stored.toString());

        // New points now: h0 again (known) and h9 (new) are active; the count is the union.
        send(point("routes.stored", "\"host\":\"h0\"") + point("routes.stored", "\"host\":\"h9\"")
                + point("routes.active", "\"host\":\"x\""));
        JsonNode both = metric("routes.stored");
        assertEquals(4, both.get("series").asLong(), both.toString());
        assertEquals(2, both.get("activeSeries").asLong(), both.toString());
        JsonNode active = metric("routes.active");
        assertEquals(1, active.get("series").asLong(), active.toString());
        assertEquals(1, active.get("activeSeries").asLong(), active.toString());

        List<String> names = new ArrayList<>();
        getJson("/api/v1/metrics", 200).get("metrics").forEach(m -> names.add(m.get("metric").asText()));
        assertEquals(new ArrayList<>(new TreeSet<>(names)), names, "sorted by name, each once");
    }

    private static JsonNode metric(String name) throws Exception {
        for (JsonNode m : getJson("/api/v1/metrics", 200).get("metrics")) {
            if (m.get("metric").asText().equals(name)) {
                return m;
            }
        }
        return null;
    }

    @Test
    void seriesArePaginated() throws Exception {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 25; i++) {
            sb.append(point("routes.paged", "\"host\":\"h" + (char) ('a' + i) + "\",\"zone\":\"z\""));
        }
        send(sb.toString());
        List<String> seen = new ArrayList<>();
        Integer offset = 0;
        int pages = 0;
        while (offset != null) {
            JsonNode page = getJson("/api/v1/series?metric=routes.paged&limit=10&offset=" + offset, 200);
            assertEquals("routes.paged", page.get("metric").asText());
            assertEquals(25, page.get("total").asInt());
            assertEquals(offset.intValue(), page.get("offset").asInt());
            for (JsonNode s : page.get("series")) {
                assertEquals("z", s.get("tags").get("zone").asText());
                seen.add(s.get("tags").get("host").asText());
            }
            offset = page.get("nextOffset").isNull() ? null : page.get("nextOffset").asInt();
            pages++;
        }
        assertEquals(3, pages);
        assertEquals(25, seen.size());
        assertEquals(new ArrayList<>(new TreeSet<>(seen)), seen, "sorted, no repeats across pages");

        JsonNode dflt = getJson("/api/v1/series?metric=routes.paged", 200);
        assertEquals(25, dflt.get("series").size(), "default page of 100 holds all");
        assertTrue(dflt.get("nextOffset").isNull());
        assertEquals(0, getJson("/api/v1/series?metric=routes.paged&offset=25", 200).get("series").size());
        assertEquals(0, getJson("/api/v1/series?metric=routes.none", 200).get("total").asInt());

        for (String[] bad : new String[][]{{"", "metric"}, {"metric=routes.paged&limit=0", "limit"},
                {"metric=routes.paged&limit=1001", "limit"}, {"metric=routes.paged&limit=ten", "limit"},
                {"metric=routes.paged&offset=-1", "offset"}, {"metric=", "metric"}}) {
            String error = getJson("/api/v1/series?" + bad[0], 400).get("error").asText();
            assertTrue(error.startsWith(bad[1] + ":"), bad[0] + " → " + error);
        }
    }

    @Test
    void cardinalityShowsTheExplodedTagKeyFirst() throws Exception {
        StringBuilder sb = new StringBuilder();
        for (int u = 0; u < 60; u++) {
            sb.append(point("routes.exploded", "\"host\":\"h" + (u % 2) + "\",\"user\":\"u" + u
                    + "\",\"region\":\"eu\""));
        }
        send(sb.toString());
        JsonNode one = getJson("/api/v1/cardinality?metric=routes.exploded", 200);
        assertEquals(5000, one.get("limit").asLong());
        assertTrue(one.get("activeSeries").asLong() >= 60, one.toString());
        assertEquals(0, one.get("refused").asLong());
        assertEquals(1, one.get("metrics").size(), one.toString());
        assertEquals("routes.exploded", one.get("metrics").get(0).get("metric").asText());
        assertEquals(60, one.get("metrics").get(0).get("activeSeries").asLong());
        JsonNode keys = one.get("tagKeys");
        assertEquals(3, keys.size(), keys.toString());
        assertEquals("user", keys.get(0).get("key").asText(), "the exploded key first: " + keys);
        assertEquals(60, keys.get(0).get("distinctValues").asInt());
        assertEquals("host", keys.get(1).get("key").asText());
        assertEquals(2, keys.get(1).get("distinctValues").asInt());
        assertEquals("region", keys.get(2).get("key").asText());
        assertEquals(1, keys.get(2).get("distinctValues").asInt());

        JsonNode all = getJson("/api/v1/cardinality", 200);
        assertFalse(all.has("tagKeys"), "tag keys only for one metric");
        long previous = Long.MAX_VALUE;
        long sum = 0;
        for (JsonNode m : all.get("metrics")) {
            long n = m.get("activeSeries").asLong();
            assertTrue(n <= previous, "most series first: " + all);
            previous = n;
            sum += n;
        }
        assertEquals(all.get("activeSeries").asLong(), sum, all.toString());
    }

    @Test
    void cardinalityCountsPointsRefusedByTheSeriesLimit(@TempDir Path own) throws Exception {
        try (TestServer small = TestServer.start(own, Map.of("max-series", "50"))) {
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < 60; i++) {
                sb.append(point("routes.limit", "\"id\":\"" + i + "\""));
            }
            JsonNode ack;
            try (LineClient c = small.connect()) {
                c.send(sb.toString());
                ack = c.sync("limit");
            }
            assertEquals(50, ack.get("accepted").asLong(), ack.toString());
            assertEquals(10, ack.get("rejected").asLong(), ack.toString());
            JsonNode card = JSON.readTree(small.get("/api/v1/cardinality?metric=routes.limit").body());
            assertEquals(50, card.get("limit").asLong(), card.toString());
            assertEquals(50, card.get("activeSeries").asLong(), card.toString());
            assertEquals(10, card.get("refused").asLong(), card.toString());
            assertEquals("id", card.get("tagKeys").get(0).get("key").asText(), card.toString());
            JsonNode stats = JSON.readTree(small.get("/api/v1/stats").body());
            assertEquals(10, stats.get("rejectedByReason").get("series_limit").asLong(), stats.toString());
        }
    }

    @Test
    void statsAddUp() throws Exception {
        send(point("routes.stats", "\"a\":\"b\"") + "{\"metric\":\"routes.stats\"}\nnot json\n\n"
                + point("routes.stats", "\"a\":\"c\""));
        JsonNode s = getJson("/api/v1/stats", 200);
        assertEquals(s.get("received").asLong(),
                s.get("accepted").asLong() + s.get("rejected").asLong() + s.get("dropped").asLong(), s.toString());
        assertTrue(s.get("rejected").asLong() >= 2, s.toString());
        long byReason = 0;
        for (JsonNode n : s.get("rejectedByReason")) {
            byReason += n.asLong();
        }
        assertEquals(s.get("rejected").asLong(), byReason, s.toString());
        assertEquals("ready", s.get("state").asText());
        for (String field : new String[]{"late", "flushedWindows", "flushFailures", "flushTicksSkipped",
                "repliesDropped", "connectionsRefused", "errors", "bufferDepth", "bufferPeak", "bufferWaiting",
                "bufferCapacity", "activeSeries", "seriesLimit", "openWindows", "pendingWindows",
                "aggregationGroups", "connections", "droppedByReason"}) {
            assertTrue(s.has(field), field + " in " + s);
        }
        assertTrue(s.get("bufferPeak").asLong() <= s.get("bufferCapacity").asLong());
    }

    @Test
    void prometheusScrapeHasOwnAndJvmMetersAndNoClientData() throws Exception {
        send(point("routes.scrape", "\"secret\":\"tag-value-7\""));
        HttpResponse<String> res = server.get("/metrics");
        assertEquals(200, res.statusCode());
        assertTrue(res.headers().firstValue("content-type").orElse("").startsWith("text/plain"));
        String text = res.body();
        for (String meter : new String[]{"meterline_points_received_total", "meterline_points_accepted_total",
                "meterline_points_rejected_total{reason=\"invalid_json\"}", "meterline_points_dropped_total",
                "meterline_points_late_total", "meterline_windows_flushed_total", "meterline_flush_failures_total",
                "meterline_flush_duration_seconds", "meterline_buffer_points", "meterline_buffer_capacity",
                "meterline_series_active", "meterline_series_limit", "meterline_series_lingering",
                "meterline_windows_open",
                "meterline_windows_pending", "meterline_connections_active", "jvm_memory_used_bytes",
                "jvm_threads_live_threads", "jvm_classes_loaded_classes", "process_cpu_usage",
                "process_uptime_seconds", "netty_allocator_memory_used"}) {
            assertTrue(text.contains(meter), meter + " missing from /metrics");
        }
        assertFalse(text.contains("routes.scrape") || text.contains("routes_scrape") || text.contains("tag-value-7"),
                "no client data in the meters");

        // Requests to random paths (and with random query strings) add no time series.
        Set<String> before = seriesOf(server.get("/metrics").body());
        for (int i = 0; i < 40; i++) {
            server.get("/random-" + i + "/x?y=" + i);
            server.get("/api/v1/aggregates?metric=m" + i + "&tag=k" + i + ":v");
            server.post("/api/v1/random-" + i, ("{\"metric\":\"p" + i + "\",\"value\":1}\n")
                    .getBytes(StandardCharsets.UTF_8));
        }
        Set<String> after = seriesOf(server.get("/metrics").body());
        Set<String> added = new HashSet<>(after);
        added.removeAll(before);
        added.removeIf(s -> s.startsWith("jvm_gc") || s.startsWith("jvm_memory")); // GC may run meanwhile
        assertEquals(Set.of(), added, "series added by random requests");
        assertFalse(String.join("\n", after).contains("random-"));
    }

    @Test
    void keepAliveConnectionSurvivesAnswersFromPipelineThreads() throws Exception {
        // Aggregates and ingest answers are computed off the event loop; a keep-alive request right after one of
        // them, answered at once, used to leave the connection unread (the client timed out).
        for (int i = 0; i < 150; i++) {
            assertEquals(200, server.get("/api/v1/aggregates?metric=routes.keepalive").statusCode());
            assertEquals(404, server.get("/nope-" + i).statusCode());
            assertEquals(200, server.post("/api/v1/points", point("routes.keepalive", "\"i\":\"1\"")
                    .getBytes(StandardCharsets.UTF_8)).statusCode());
            assertEquals(200, server.get("/healthz").statusCode());
            assertEquals(200, server.get("/api/v1/series?metric=routes.keepalive").statusCode());
            assertEquals(200, server.get("/readyz").statusCode());
        }
    }

    /** The time series of a scrape: every sample line without its value. */
    private static Set<String> seriesOf(String scrape) {
        Set<String> out = new HashSet<>();
        for (String line : scrape.split("\n")) {
            if (!line.isEmpty() && !line.startsWith("#")) {
                out.add(line.substring(0, line.lastIndexOf(' ')));
            }
        }
        return out;
    }

    @Test
    void statsAndScrapeReadTheSameCounters() throws Exception {
        send(point("routes.same", "\"a\":\"b\""));
        JsonNode s = getJson("/api/v1/stats", 200);
        String text = server.get("/metrics").body();
        JsonNode s2 = getJson("/api/v1/stats", 200);
        double accepted = sample(text, "meterline_points_accepted_total");
        assertTrue(accepted >= s.get("accepted").asLong() && accepted <= s2.get("accepted").asLong(),
                accepted + " between " + s.get("accepted") + " and " + s2.get("accepted"));
        assertEquals(5000, sample(text, "meterline_series_limit"));
    }

    private static double sample(String scrape, String name) {
        for (String line : scrape.split("\n")) {
            if (line.startsWith(name + " ") || line.startsWith(name + "{")) {
                return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        throw new AssertionError(name + " not in the scrape");
    }

    /** Polls {@code check} for up to 10 s. */
    private static void waitFor(Check check) throws Exception {
        assertTrue(Poll.until(check::ok, ok -> ok, Duration.ofSeconds(10)), "condition not met in time");
    }

    private interface Check {
        boolean ok() throws Exception;
    }
}
