package dev.meterline.promql;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.meterline.TestServer;
import dev.meterline.config.StoreConfig;
import dev.meterline.config.Tier;
import dev.meterline.model.Aggregate;
import dev.meterline.model.PrometheusNames;
import dev.meterline.model.SeriesKey;
import dev.meterline.model.Window;
import dev.meterline.store.Store;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Selectors over stored windows of many series on a real server: each answers with exactly the series whose labels
 * pass it, with their stored values, as computed here from the windows written, and as the same selector spelt so
 * that it names no value (a regular expression that is not a plain literal) answers. The labels come from tag keys
 * of their own name, from keys that sanitise alike ({@code host.name}, {@code host_name}: {@code host_name} and
 * {@code host_name_2}) and from a reserved key ({@code le}: {@code tag_le}).
 */
class StoredSelectorTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String METRIC = "disk.used";
    private static final int SERIES = 2_000;
    private static final long W = 10_000;

    @TempDir
    static Path dir;
    private static TestServer server;
    private static long base;
    /** Each written series with the sum of its windows' counts. */
    private static final Map<SeriesKey, Long> counts = new LinkedHashMap<>();

    @BeforeAll
    static void storeThenStart() {
        base = Window.startOf(System.currentTimeMillis() - 30 * 60_000, 60_000);
        List<Window> windows = new ArrayList<>();
        for (int i = 0; i < SERIES; i++) {
            String h = "h" + i % 47;
            Map<String, String> tags = switch (i % 5) {
                case 0 -> Map.of("host", h, "dc", "d" + i % 3);
                case 1 -> Map.of("host.name", h, "dc", "d" + i % 3);
                case 2 -> Map.of("host.name", "x" + i % 47, "host_name", h);
                case 3 -> Map.of("le", h, "host", "x" + i % 47);
                default -> Map.of("note", h);
            };
            Map<String, String> unique = new LinkedHashMap<>(tags);
            unique.put("id", "i" + i);
            SeriesKey key = SeriesKey.of(METRIC, unique);
            long total = 0;
            for (int w = 0; w < 3; w++) {
                Aggregate a = new Aggregate();
                int n = 1 + (i + w) % 4;
                for (int k = 0; k < n; k++) {
                    a.accept(i + k, base + w * W + k);
                }
                total += n;
                windows.add(new Window(key, base + w * W, W, a, true, 1));
            }
            counts.put(key, total);
        }
        StoreConfig config = new StoreConfig(dir, "", "", "", Tier.parseList("10s:24h,1m:30d,1h:1y"), "loader");
        try (Store store = Store.connect(config)) {
            store.write(windows);
        }
        server = TestServer.start(dir, Map.of("replica-id", "server"));
    }

    @AfterAll
    static void stop() {
        server.stop();
    }

    /** The answer to {@code sum_over_time(disk_used_count{matchers}[1m])} over the stored windows, label set to sum. */
    private static Map<String, String> answer(String matchers) throws Exception {
        String q = "sum_over_time(disk_used_count{" + matchers + "}[1m])";
        HttpResponse<String> res = server.get("/prometheus/api/v1/query?query="
                + URLEncoder.encode(q, StandardCharsets.UTF_8) + "&time=" + PromTime.seconds(base + 3 * W));
        assertEquals(200, res.statusCode(), res.body());
        Map<String, String> out = new TreeMap<>();
        for (JsonNode r : JSON.readTree(res.body()).get("data").get("result")) {
            out.put(JSON.writeValueAsString(new TreeMap<>(JSON.convertValue(r.get("metric"), Map.class))),
                    r.get("value").get(1).asText());
        }
        return out;
    }

    /** What the answer must be: the written series whose labels pass {@code labels}, with their summed counts. */
    private static Map<String, String> expected(Predicate<Map<String, String>> labels) throws Exception {
        Map<String, String> out = new TreeMap<>();
        for (Map.Entry<SeriesKey, Long> e : counts.entrySet()) {
            Map<String, String> l = PrometheusNames.labels(e.getKey(), false);
            if (labels.test(l)) {
                // sum_over_time drops the name.
                out.put(JSON.writeValueAsString(new TreeMap<>(l)), Long.toString(e.getValue()));
            }
        }
        return out;
    }

    private static void check(String matchers, String unnarrowed, Predicate<Map<String, String>> labels)
            throws Exception {
        Map<String, String> want = expected(labels);
        assertTrue(!want.isEmpty(), matchers);
        assertEquals(want, answer(matchers), matchers);
        assertEquals(want, answer(unnarrowed), unnarrowed);
    }

    private static boolean in(String value, String... values) {
        return value != null && List.of(values).contains(value);
    }

    @Test
    void aLabelOfItsOwnKey() throws Exception {
        check("host=\"h7\"", "host=~\"h(7)\"", l -> "h7".equals(l.get("host")));
        check("host=~\"h7|h8|x9\"", "host=~\"h7|h8|x(9)\"", l -> in(l.get("host"), "h7", "h8", "x9"));
        check("host=~\"(h7|h8|x9)\"", "host=~\"h7|h8|x(9)\"", l -> in(l.get("host"), "h7", "h8", "x9"));
        check("host=\"h7\", dc=\"d1\"", "host=~\"h(7)\", dc=~\"d(1)\"",
                l -> "h7".equals(l.get("host")) && "d1".equals(l.get("dc")));
    }

    @Test
    void labelsOfKeysThatSanitiseAlike() throws Exception {
        check("host_name=\"h7\"", "host_name=~\"h(7)\"", l -> "h7".equals(l.get("host_name")));
        check("host_name=\"x7\"", "host_name=~\"x(7)\"", l -> "x7".equals(l.get("host_name")));
        check("host_name_2=~\"(?:h7|h9)\"", "host_name_2=~\"h7|h(9)\"",
                l -> in(l.get("host_name_2"), "h7", "h9"));
        check("host_name=\"h7\", dc=\"d1\"", "host_name=~\"h(7)\", dc=~\"d(1)\"",
                l -> "h7".equals(l.get("host_name")) && "d1".equals(l.get("dc")));
    }

    @Test
    void aLabelOfAReservedKey() throws Exception {
        check("tag_le=\"h7\"", "tag_le=~\"h(7)\"", l -> "h7".equals(l.get("tag_le")));
    }

    @Test
    void matchersThatAnEmptyValuePasses() throws Exception {
        check("host=\"\", note=~\"h1|h2\"", "host=~\"()\", note=~\"h1|h(2)\"",
                l -> !l.containsKey("host") && in(l.get("note"), "h1", "h2"));
        check("host_name=\"\", id=~\"i1.*\"", "host_name=~\"()\", id=~\"(i1.*)\"",
                l -> !l.containsKey("host_name") && l.get("id").startsWith("i1"));
        check("host!=\"h7\", dc=\"d2\"", "host!~\"h(7)\", dc=~\"d(2)\"",
                l -> !"h7".equals(l.get("host")) && "d2".equals(l.get("dc")));
    }
}
