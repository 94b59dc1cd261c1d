package dev.meterline.promql;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.meterline.LineClient;
import dev.meterline.Poll;
import dev.meterline.TestServer;
import dev.meterline.config.StoreConfig;
import dev.meterline.config.Tier;
import dev.meterline.model.Aggregate;
import dev.meterline.model.SeriesKey;
import dev.meterline.model.Window;
import dev.meterline.store.Store;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The listings on a real server whose series are in each of the three places: one only stored (written before the
 * server started), one only waiting to be stored (its window closed while the database is locked against writes) and
 * one only open. Each has a tag key the others lack, so each listing shows it read every place, and exactly; then the
 * waiting series is stored and the listings stay the same. The server lists at most two series per request.
 */
class ListingTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long W = 10_000;

    @TempDir
    Path dir;

    private TestServer server;

    private JsonNode ok(String pathAndQuery) throws Exception {
        HttpResponse<String> res = server.get("/prometheus/api/v1" + pathAndQuery);
        assertEquals(200, res.statusCode(), res.body());
        return JSON.readTree(res.body());
    }

    private Set<String> strings(String pathAndQuery) throws Exception {
        JsonNode body = ok(pathAndQuery);
        assertFalse(body.has("warnings"), body.toString());
        Set<String> out = new HashSet<>();
        body.get("data").forEach(n -> out.add(n.asText()));
        assertEquals(body.get("data").size(), out.size(), "each once: " + body);
        return out;
    }

    private Set<Map<String, String>> series(String selector) throws Exception {
        JsonNode body = ok("/series?match[]=" + enc(selector));
        Set<Map<String, String>> out = new HashSet<>();
        for (JsonNode s : body.get("data")) {
            Map<String, String> labels = new TreeMap<>();
            s.fields().forEachRemaining(f -> labels.put(f.getKey(), f.getValue().asText()));
            out.add(labels);
        }
        assertEquals(body.get("data").size(), out.size(), "each once: " + body);
        return out;
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    private static Map<String, String> labels(String name, String... pairs) {
        Map<String, String> out = new TreeMap<>();
        out.put("__name__", name);
        for (int i = 0; i < pairs.length; i += 2) {
            out.put(pairs[i], pairs[i + 1]);
        }
        return out;
    }

    private static String line(String metric, Map<String, String> tags, long ts) throws Exception {
        return "{\"metric\":\"" + metric + "\",\"value\":1,\"timestamp\":" + ts + ",\"tags\":"
                + JSON.writeValueAsString(tags) + "}\n";
    }

    private double refused() throws Exception {
        String metrics = server.get("/metrics").body();
        for (String l : metrics.split("\n")) {
            if (l.startsWith("meterline_prometheus_listings_refused_total ")) {
                return Double.parseDouble(l.substring(l.indexOf(' ') + 1));
            }
        }
        throw new AssertionError("meterline_prometheus_listings_refused_total not in /metrics");
    }

    @Test
    void storedPendingAndOpenSeriesAreListedExactly() throws Exception {
        long base = Window.startOf(System.currentTimeMillis(), W);
        StoreConfig config = new StoreConfig(dir, "", "", "", Tier.parseList("10s:24h,1m:30d,1h:1y"), "loader");
        try (Store store = Store.connect(config)) {
            Aggregate a = new Aggregate();
            a.accept(3, base - 6 * W);
            store.write(List.of(new Window(SeriesKey.of("disk.used", Map.of("host", "stored", "zone", "z1")),
                    base - 6 * W, W, a, true, 1)));
        }
        AtomicLong now = new AtomicLong(base + 1_000);
        server = TestServer.start(dir, Map.of("replica-id", "server", "prometheus-max-listed-series", "2"), null,
                now::get);
        Connection lock = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("meterline.db"));
        try (TestServer running = server; lock; LineClient client = running.connect()) {
            try (Statement st = lock.createStatement()) {
                st.execute("BEGIN EXCLUSIVE");
            }
            client.send(line("disk.used", Map.of("host", "pending", "pod", "p1"), base + 500));
            client.sync("pending");
            now.set(base + W + 6_000);
            Poll.until(() -> JSON.readTree(server.get("/api/v1/stats").body()),
                    s -> s.get("pendingWindows").asLong() == 1, Duration.ofSeconds(30));
            client.send(line("disk.used", Map.of("host", "open", "rack", "r1"), base + W + 6_000));
            client.send(line("net.in", Map.of("host", "open"), base + W + 6_000));
            client.sync("open");
            JsonNode stats = JSON.readTree(server.get("/api/v1/stats").body());
            assertEquals(1, stats.get("pendingWindows").asLong(), stats.toString());
            assertEquals(2, stats.get("activeSeries").asLong(), stats.toString());

            checkListings();

            try (Statement st = lock.createStatement()) {
                st.execute("ROLLBACK");
            }
            Poll.until(() -> JSON.readTree(server.get("/api/v1/stats").body()),
                    s -> s.get("pendingWindows").asLong() == 0, Duration.ofSeconds(30));
            checkListings();
        }
    }

    private void checkListings() throws Exception {
        Set<String> disk = Set.of("disk_used", "disk_used_count", "disk_used_sum", "disk_used_min", "disk_used_max",
                "disk_used_mean", "disk_used_last", "disk_used_bucket");
        Set<String> names = new HashSet<>(disk);
        names.addAll(List.of("net_in", "net_in_count", "net_in_sum", "net_in_min", "net_in_max", "net_in_mean",
                "net_in_last", "net_in_bucket"));
        assertEquals(names, strings("/label/__name__/values"));
        assertEquals(disk, strings("/label/__name__/values?match[]=" + enc("{host=~\"stored|pending\"}")));
        assertEquals(Set.of("disk_used_count"), strings("/label/__name__/values?match[]="
                + enc("disk_used_count{pod=\"p1\"}")));

        assertEquals(Set.of("__name__", "quantile", "le", "host", "zone", "pod", "rack"), strings("/labels"));
        assertEquals(Set.of("__name__", "quantile", "le", "host", "zone", "pod", "rack"),
                strings("/labels?match[]=" + enc("{__name__=~\"disk_used.*\"}")));
        assertEquals(Set.of("__name__", "host", "pod"), strings("/labels?match[]=" + enc("disk_used_count{host=\"pending\"}")));
        assertEquals(Set.of("__name__", "host", "zone"), strings("/labels?match[]=" + enc("disk_used_sum{zone!=\"\"}")));
        assertEquals(Set.of("__name__", "host"), strings("/labels?match[]=" + enc("net_in_count")));

        assertEquals(Set.of("stored", "open"), strings("/label/host/values?match[]=" + enc("disk_used_count{pod=\"\"}")));
        assertEquals(Set.of("open"), strings("/label/host/values?match[]=" + enc("net_in_count")));
        assertEquals(Set.of("p1"), strings("/label/pod/values?match[]=" + enc("disk_used_count{host=\"pending\"}")
                + "&match[]=" + enc("net_in_count")));
        assertEquals(Set.of("0.5", "0.9", "0.99"), strings("/label/quantile/values?match[]="
                + enc("disk_used{host=\"stored\"}")));

        assertEquals(Set.of(labels("disk_used_count", "host", "open", "rack", "r1")),
                series("disk_used_count{host=\"open\"}"));
        assertEquals(Set.of(labels("disk_used_count", "host", "pending", "pod", "p1"),
                labels("disk_used_count", "host", "stored", "zone", "z1")), series("disk_used_count{rack=\"\"}"));
        assertEquals(Set.of(labels("disk_used_bucket", "host", "stored", "zone", "z1", "le", "+Inf")),
                series("disk_used_bucket{zone=\"z1\"}"));

        JsonNode cut = ok("/label/host/values?match[]=" + enc("disk_used_count{pod=\"\"}") + "&limit=1");
        assertEquals(1, cut.get("data").size(), cut.toString());
        assertEquals("results truncated due to limit", cut.get("warnings").get(0).asText());
        JsonNode all = ok("/label/host/values?match[]=" + enc("disk_used_count{pod=\"\"}") + "&limit=2");
        assertFalse(all.has("warnings"), all.toString());

        // Tag values are gathered where the series are and bounded in each place: one series in each passes.
        assertEquals(Set.of("stored", "pending", "open"), strings("/label/host/values?match[]="
                + enc("disk_used_count")));
        double before = refused();
        assertOver(server.get("/prometheus/api/v1/series?match[]=" + enc("{host=~\"stored|pending|open\"}")));
        assertEquals(before + 1, refused());
    }

    private static void assertOver(HttpResponse<String> over) throws Exception {
        assertEquals(422, over.statusCode(), over.body());
        JsonNode error = JSON.readTree(over.body());
        assertEquals("execution", error.get("errorType").asText());
        assertTrue(error.get("error").asText().contains("selects more than 2 series"), error.toString());
        assertTrue(error.get("error").asText().contains("--prometheus-max-listed-series"), error.toString());
    }

    /**
     * Past the bound in one place, tag values fail as other listings do, and so does a selector whose regular
     * expression runs out of steps; the values of fewer series answer.
     */
    @Test
    void tagValuesPastTheBoundInOnePlaceFail() throws Exception {
        long base = Window.startOf(System.currentTimeMillis(), W);
        server = TestServer.start(dir, Map.of("prometheus-max-listed-series", "2"), null, () -> base + 1_000);
        try (TestServer running = server; LineClient client = running.connect()) {
            for (String host : List.of("a", "b", "c")) {
                client.send(line("net.in", Map.of("host", host, "dc", host.equals("c") ? "d2" : "d1"), base + 500));
            }
            client.send(line("disk.io", Map.of("host", "x".repeat(30), "dc", "d3"), base + 500));
            client.sync("four");
            assertEquals(Set.of("a", "b"), strings("/label/host/values?match[]=" + enc("net_in_count{dc=\"d1\"}")));
            double before = refused();
            assertOver(server.get("/prometheus/api/v1/label/host/values"));
            assertOver(server.get("/prometheus/api/v1/label/dc/values?match[]=" + enc("{host=~\"a|b|c\"}")));
            assertEquals(before + 2, refused());

            HttpResponse<String> steps = server.get("/prometheus/api/v1/label/dc/values?match[]="
                    + enc("disk_io_count{host=~\"(.*x){12}y\"}"));
            assertEquals(422, steps.statusCode(), steps.body());
            assertTrue(steps.body().contains("steps"), steps.body());
        }
    }

    /** A tag's values among a metric's many open series, as a picker without a selector asks for them. */
    @Test
    void tagValuesOfAMetricWithManySeries() throws Exception {
        long base = Window.startOf(System.currentTimeMillis(), W);
        server = TestServer.start(dir, Map.of(), null, () -> base + 1_000);
        try (TestServer running = server; LineClient client = running.connect()) {
            StringBuilder lines = new StringBuilder();
            for (int i = 0; i < 3_000; i++) {
                Map<String, String> tags = i % 100 == 99 ? Map.of("host", "h" + i)
                        : Map.of("host", "h" + i, "region", "r" + i % 7);
                lines.append(line("big.m", tags, base + 500));
            }
            client.send(lines.toString());
            client.sync("big");
            Set<String> regions = Set.of("r0", "r1", "r2", "r3", "r4", "r5", "r6");
            assertEquals(regions, strings("/label/region/values"));
            assertEquals(regions, strings("/label/region/values?match[]=" + enc("big_m_count")));
            assertEquals(Set.of("r3"), strings("/label/region/values?match[]=" + enc("big_m_count{host=\"h3\"}")));
            assertEquals(3_000, strings("/label/host/values").size());
        }
    }
}
