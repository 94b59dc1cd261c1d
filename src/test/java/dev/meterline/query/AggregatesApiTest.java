package dev.meterline.query;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.meterline.AggregateResults;
import dev.meterline.LineClient;
import dev.meterline.Poll;
import dev.meterline.TestServer;
import dev.meterline.model.Window;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code GET /api/v1/aggregates} against a real server, compared with aggregates computed here from the very points
 * that were sent: exact count, sum, min, max, mean and last, quantiles within 1 % of the exact ones, tag filters,
 * groupBy, time ranges, coarser resolutions and every bad parameter.
 */
class AggregatesApiTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long WINDOW = 10_000;
    private static final long LATENESS = 5_000;
    private static final String METRIC = "api.cpu";

    /** One sent point. */
    record P(Map<String, String> tags, long ts, double value) {
    }

    private static final List<P> points = new ArrayList<>();
    /** A minute-aligned start, 20 minutes ago: every window of the data is closed (and soon stored). */
    private static long base;

    @TempDir
    static Path dir;
    private static TestServer server;
    private static JsonNode firstAnswer;

    @BeforeAll
    static void start() throws Exception {
        server = TestServer.start(dir, Map.of());
        base = Window.startOf(System.currentTimeMillis() - 20 * 60_000, 60_000);
        List<Map<String, String>> series = List.of(
                Map.of("host", "a", "region", "eu"),
                Map.of("host", "b", "region", "eu"),
                Map.of("host", "c", "region", "us"),
                Map.of("region", "us"));
        // Two minutes of points, 5 per second per series, irregular values (multiples of 0.5: exact sums);
        // no two points of a series share a timestamp, so "last" is well defined.
        for (int s = 0; s < series.size(); s++) {
            for (int i = 0; i < 600; i++) {
                long ts = base + i * 200L + s;
                double value = ((i * 37 + s * 11) % 101) * 0.5 + s * 100 - (i % 7 == 0 ? 150 : 0);
                points.add(new P(series.get(s), ts, value));
            }
        }
        // A wide-ranging distribution in one window, for quantile accuracy.
        for (int i = 0; i < 2_000; i++) {
            double value = Math.pow(10, -3 + 9.0 * ((i * 7919L) % 2000) / 2000.0);
            points.add(new P(Map.of("kind", "wide"), base + i, value));
        }
        StringBuilder sb = new StringBuilder();
        for (P p : points) {
            String metric = p.tags.containsKey("kind") ? "api.wide" : METRIC;
            sb.append("{\"metric\":\"").append(metric).append("\",\"value\":").append(p.value)
                    .append(",\"timestamp\":").append(p.ts).append(",\"tags\":")
                    .append(JSON.writeValueAsString(p.tags)).append("}\n");
        }
        try (LineClient client = server.connect()) {
            client.send(sb.toString());
            JsonNode ack = client.sync("loaded");
            assertEquals(points.size(), ack.get("accepted").asLong(), ack.toString());
        }
        // Right after the sync the windows are (almost always) still in memory, until the next flush tick.
        firstAnswer = get("metric=" + METRIC + all());
    }

    @AfterAll
    static void stop() {
        server.stop();
    }

    private static JsonNode get(String query) throws Exception {
        HttpResponse<String> res = server.get("/api/v1/aggregates?" + query);
        assertEquals(200, res.statusCode(), query + " → " + res.body());
        assertEquals("application/json", res.headers().firstValue("content-type").orElse(""));
        return JSON.readTree(res.body());
    }

    private static String range(long from, long to) {
        return "&from=" + from + "&to=" + to;
    }

    private static String all() {
        return range(base, base + 120_000);
    }

    private static String key(Map<String, String> tags) {
        StringBuilder sb = new StringBuilder();
        new TreeMap<>(tags).forEach((k, v) -> sb.append(sb.length() == 0 ? "" : ",").append(k).append('=').append(v));
        return sb.toString();
    }

    /**
     * The expected answer from the sent points: group key → bucket start → values in time order, for points of
     * {@code metric}'s series matching {@code filter}, grouped by {@code group}, in buckets of {@code resolution}.
     */
    private static Map<String, TreeMap<Long, List<P>>> expected(Predicate<Map<String, String>> filter,
                                                                 Function<Map<String, String>, String> group,
                                                                 long resolution, long from, long to) {
        Map<String, TreeMap<Long, List<P>>> out = new TreeMap<>();
        for (P p : points) {
            if (p.tags.containsKey("kind") || !filter.test(p.tags)) {
                continue;
            }
            long bucket = Window.startOf(p.ts, resolution);
            if (Window.startOf(p.ts, WINDOW) < from || Window.startOf(p.ts, WINDOW) >= to) {
                continue;
            }
            out.computeIfAbsent(group.apply(p.tags), g -> new TreeMap<>())
                    .computeIfAbsent(bucket, b -> new ArrayList<>()).add(p);
        }
        return out;
    }

    /** Checks every field of every window of {@code body} against {@code expected}. */
    private static void assertMatches(Map<String, TreeMap<Long, List<P>>> expected, JsonNode body, long resolution) {
        AggregateResults actual;
        try {
            actual = AggregateResults.parse(body.toString());
        } catch (Exception e) {
            throw new AssertionError(e);
        }
        assertEquals(resolution, body.get("resolution").asLong());
        assertEquals(expected.keySet(), actual.series().keySet(), "series");
        for (Map.Entry<String, TreeMap<Long, List<P>>> g : expected.entrySet()) {
            TreeMap<Long, JsonNode> windows = actual.series().get(g.getKey());
            assertEquals(g.getValue().keySet(), windows.keySet(), "windows of " + g.getKey());
            for (Map.Entry<Long, List<P>> b : g.getValue().entrySet()) {
                assertWindow(g.getKey(), b.getKey(), resolution, b.getValue(), windows.get(b.getKey()));
            }
        }
    }

    private static void assertWindow(String group, long start, long resolution, List<P> ps, JsonNode w) {
        String where = group + " @" + (start - base) + ": " + w;
        double[] values = ps.stream().mapToDouble(P::value).toArray();
        double sum = 0;
        for (double v : values) {
            sum += v;
        }
        P last = ps.stream().max((x, y) -> Long.compare(x.ts, y.ts)).orElseThrow();
        assertEquals(start, w.get("start").asLong(), where);
        assertEquals(start + resolution, w.get("end").asLong(), where);
        assertEquals(values.length, w.get("count").asLong(), where);
        assertEquals(sum, w.get("sum").asDouble(), 0.0, where);
        assertEquals(Arrays.stream(values).min().orElseThrow(), w.get("min").asDouble(), 0.0, where);
        assertEquals(Arrays.stream(values).max().orElseThrow(), w.get("max").asDouble(), 0.0, where);
        assertEquals(sum / values.length, w.get("mean").asDouble(), Math.abs(sum / values.length) * 1e-12, where);
        assertEquals(last.value, w.get("last").asDouble(), 0.0, where);
        assertEquals(ps.stream().mapToLong(P::ts).min().orElseThrow(), w.get("firstTimestamp").asLong(), where);
        assertEquals(last.ts, w.get("lastTimestamp").asLong(), where);
        // Backfilled points count as late when a flush tick closed their window between two socket reads: how
        // many depends on timing, never more than the window holds.
        long late = w.get("late").asLong();
        assertTrue(late >= 0 && late <= values.length, where);
        // A coarse window is complete only once its own end plus the lateness has passed (an hour may still run).
        boolean ended = start + resolution + LATENESS <= System.currentTimeMillis();
        assertEquals(ended, w.get("complete").asBoolean(), where);
        assertQuantiles(values, w, where);
    }

    /** p50, p90, p99 within 1 % (relative) of the exact lower quantile, the value of rank ⌊q·(n−1)⌋. */
    private static void assertQuantiles(double[] values, JsonNode w, String where) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        for (double q : new double[]{0.5, 0.9, 0.99}) {
            double exact = sorted[(int) Math.floor(q * (sorted.length - 1))];
            double got = w.get("p" + Math.round(q * 100)).asDouble();
            assertEquals(exact, got, Math.abs(exact) * 0.01 + 1e-12, "p" + Math.round(q * 100) + " of " + where);
        }
    }

    @Test
    void everyWindowOfEverySeriesIsExactFromMemoryAndFromStorage() throws Exception {
        Map<String, TreeMap<Long, List<P>>> expected = expected(t -> true, AggregatesApiTest::key, WINDOW, base,
                base + 120_000);
        assertMatches(expected, firstAnswer, WINDOW);
        waitUntilStored();
        JsonNode body = get("metric=" + METRIC + all());
        assertEquals(METRIC, body.get("metric").asText());
        assertMatches(expected, body, WINDOW);
        assertEquals(4, body.get("series").size());
        assertEquals(12, body.get("series").get(0).get("windows").size());
    }

    /** Waits until the flush loop has written every window of the data. */
    static void waitUntilStored() throws Exception {
        // 4 series × 12 windows of api.cpu, 1 window of api.wide (other tests only add open windows).
        Predicate<JsonNode> stored = s -> s.get("pendingWindows").asLong() == 0 && s.get("flushedWindows").asLong() >= 49;
        JsonNode stats = Poll.until(() -> JSON.readTree(server.get("/api/v1/stats").body()), stored,
                Duration.ofSeconds(10));
        assertTrue(stored.test(stats), "windows not stored in time: " + stats);
    }

    @Test
    void quantilesOfAWideDistributionAreWithinOnePercent() throws Exception {
        JsonNode body = get("metric=api.wide" + all());
        JsonNode w = body.get("series").get(0).get("windows").get(0);
        double[] values = points.stream().filter(p -> p.tags.containsKey("kind")).mapToDouble(P::value).toArray();
        assertEquals(values.length, w.get("count").asLong());
        assertQuantiles(values, w, "api.wide");
    }

    @Test
    void tagFiltersMatchAnyValueOfAKeyAndEveryKey() throws Exception {
        assertMatches(expected(t -> "eu".equals(t.get("region")), AggregatesApiTest::key, WINDOW, base, base + 120_000),
                get("metric=" + METRIC + "&tag=region:eu" + all()), WINDOW);
        // A repeated key matches any of its values.
        assertMatches(expected(t -> t.containsKey("host") && Set.of("a", "c").contains(t.get("host")), AggregatesApiTest::key, WINDOW, base,
                base + 120_000), get("metric=" + METRIC + "&tag=host:a&tag=host:c" + all()), WINDOW);
        // Several keys must all match.
        assertMatches(expected(t -> "us".equals(t.get("region")) && "c".equals(t.get("host")), AggregatesApiTest::key,
                WINDOW, base, base + 120_000), get("metric=" + METRIC + "&tag=region:us&tag=host:c" + all()), WINDOW);
        assertEquals(0, get("metric=" + METRIC + "&tag=region:eu&tag=host:c" + all()).get("series").size());
        // A series without the key does not match a filter on it.
        assertEquals(0, get("metric=" + METRIC + "&tag=host:" + all()).get("series").size());
        // A value containing a colon: only the first colon separates key and value.
        assertEquals(0, get("metric=" + METRIC + "&tag=" + URLEncoder.encode("host:a:b", StandardCharsets.UTF_8)
                + all()).get("series").size());
        assertEquals(0, get("metric=nope" + all()).get("series").size());
    }

    @Test
    void groupByMergesSeriesSharingTheTagValues() throws Exception {
        Function<Map<String, String>, String> byRegion = t -> "region=" + t.get("region");
        assertMatches(expected(t -> true, byRegion, WINDOW, base, base + 120_000),
                get("metric=" + METRIC + "&groupBy=region" + all()), WINDOW);
        // A series without the tag is grouped under no value.
        Function<Map<String, String>, String> byHost = t -> t.containsKey("host") ? "host=" + t.get("host") : "";
        assertMatches(expected(t -> true, byHost, WINDOW, base, base + 120_000),
                get("metric=" + METRIC + "&groupBy=host" + all()), WINDOW);
        // Repeated and comma-separated groupBy keys are the same thing.
        JsonNode repeated = get("metric=" + METRIC + "&groupBy=region&groupBy=host" + all());
        JsonNode commas = get("metric=" + METRIC + "&groupBy=" + URLEncoder.encode("region,host", StandardCharsets.UTF_8)
                + all());
        assertEquals(repeated, commas);
        assertMatches(expected(t -> true, AggregatesApiTest::key, WINDOW, base, base + 120_000), repeated, WINDOW);
        // Filters and groupBy together, at a coarser resolution.
        assertMatches(expected(t -> "eu".equals(t.get("region")), byRegion, 60_000, base, base + 120_000),
                get("metric=" + METRIC + "&tag=region:eu&groupBy=region&resolution=1m" + all()), 60_000);
    }

    @Test
    void fromAndToSelectWindowStartsAsEpochMillisOrRfc3339() throws Exception {
        long from = base + 30_000;
        long to = base + 60_000;
        JsonNode millis = get("metric=" + METRIC + range(from, to));
        assertMatches(expected(t -> true, AggregatesApiTest::key, WINDOW, from, to), millis, WINDOW);
        assertEquals(3, millis.get("series").get(0).get("windows").size());
        String rfcUtc = "&from=" + Instant.ofEpochMilli(from) + "&to=" + Instant.ofEpochMilli(to);
        assertEquals(millis, get("metric=" + METRIC + rfcUtc));
        String rfcOffset = "&from=" + URLEncoder.encode(Instant.ofEpochMilli(from).atOffset(ZoneOffset.ofHours(2))
                .toString(), StandardCharsets.UTF_8) + "&to=" + URLEncoder.encode(
                Instant.ofEpochMilli(to).atOffset(ZoneOffset.ofHoursMinutes(-5, -30)).toString(), StandardCharsets.UTF_8);
        assertEquals(millis, get("metric=" + METRIC + rfcOffset));
        // A window is in the range when its start is: `to` is exclusive, and a `from` inside a window rounds down
        // to that window's start.
        assertEquals(millis, get("metric=" + METRIC + range(from + 5_000, to)));
        assertEquals(4, get("metric=" + METRIC + range(from, to + 1)).get("series").get(0).get("windows").size(),
                "to = a window start + 1 takes that window too");
        // Without from, the default range is the last hour: the data (20 minutes old) is in it.
        assertEquals(4, get("metric=" + METRIC).get("series").size());
        // Windows older than the range are not returned.
        assertEquals(0, get("metric=" + METRIC + range(base - 600_000, base)).get("series").size());
    }

    @Test
    void coarserResolutionMergesWindows() throws Exception {
        for (String[] r : new String[][]{{"20s", "20000"}, {"30s", "30000"}, {"1m", "60000"}, {"2m", "120000"},
                {"1h", "3600000"}}) {
            long resolution = Long.parseLong(r[1]);
            long from = Window.startOf(base, resolution);
            JsonNode body = get("metric=" + METRIC + "&resolution=" + r[0] + range(from, base + 120_000));
            assertMatches(expected(t -> true, AggregatesApiTest::key, resolution, base, base + 120_000), body,
                    resolution);
        }
        JsonNode minutes = get("metric=" + METRIC + "&resolution=1m" + all());
        assertEquals(2, minutes.get("series").get(0).get("windows").size());
    }

    @ParameterizedTest(name = "[{index}] {0} → 400 naming {1}")
    @CsvSource(delimiter = '|', value = {
            "''                                   | metric",
            "metric=                              | metric",
            "metric=a&metric=b                    | metric",
            "metric=m&tag=nocolon                 | tag",
            "metric=m&tag=:v                      | tag",
            "metric=m&from=yesterday              | from",
            "metric=m&from=1&from=2               | from",
            "metric=m&to=soon                     | to",
            "metric=m&from=2000&to=1000           | to",
            "metric=m&from=1000&to=1000           | to",
            "metric=m&from=2026-13-01T00:00:00Z   | from",
            "metric=m&to=2026-01-01T00:00:00      | to",
            "metric=m&resolution=15s              | resolution",
            "metric=m&resolution=5s               | resolution",
            "metric=m&resolution=fast             | resolution",
            "metric=m&resolution=0s               | resolution",
            "metric=m&resolution=-10s             | resolution",
            "metric=m&resolution=10s&resolution=1m | resolution",
    })
    void badParameterIs400NamingIt(String query, String parameter) throws Exception {
        HttpResponse<String> res = server.get("/api/v1/aggregates?" + query);
        assertEquals(400, res.statusCode(), query + " → " + res.body());
        assertEquals("application/json", res.headers().firstValue("content-type").orElse(""));
        String error = JSON.readTree(res.body()).get("error").asText();
        assertTrue(error.startsWith(parameter + ":"), query + " → " + error);
    }

    /**
     * A value of minus zero, in every form a number can take, is zero with a positive sign in an open window and
     * after the window is stored (SQLite gives back a whole-numbered real as an integer, which has no sign).
     */
    @Test
    void minusZeroIsZeroOpenAndStored() throws Exception {
        long flushed = JSON.readTree(server.get("/api/v1/stats").body()).get("flushedWindows").asLong();
        long now = System.currentTimeMillis();
        StringBuilder lines = new StringBuilder();
        for (String zero : List.of("-0", "-0.0", "-0e3", "-0.000E-2")) {
            lines.append("{\"metric\":\"api.zero\",\"value\":").append(zero).append(",\"tags\":{\"at\":\"now\"}}\n");
            lines.append("{\"metric\":\"api.zero\",\"value\":").append(zero).append(",\"timestamp\":").append(base)
                    .append(",\"tags\":{\"at\":\"then\"}}\n");
        }
        try (LineClient client = server.connect()) {
            client.send(lines.toString());
            assertEquals(8, client.sync("zeros").get("accepted").asLong());
        }
        assertPositiveZeros(get("metric=api.zero&tag=at:now" + range(now - 60_000, now + 60_000)));
        Predicate<JsonNode> stored = s -> s.get("pendingWindows").asLong() == 0
                && s.get("flushedWindows").asLong() > flushed;
        JsonNode stats = Poll.until(() -> JSON.readTree(server.get("/api/v1/stats").body()), stored,
                Duration.ofSeconds(10));
        assertTrue(stored.test(stats), "window not stored in time: " + stats);
        assertPositiveZeros(get("metric=api.zero&tag=at:then" + range(base, base + WINDOW)));
    }

    private static void assertPositiveZeros(JsonNode body) {
        JsonNode w = body.get("series").get(0).get("windows").get(0);
        assertEquals(4, w.get("count").asLong(), w.toString());
        for (String field : List.of("sum", "min", "max", "last", "mean", "p50", "p99")) {
            assertEquals(0L, Double.doubleToRawLongBits(w.get(field).asDouble()), field + " in " + w);
        }
    }

    @Test
    void openWindowsAreIncomplete() throws Exception {
        long now = System.currentTimeMillis();
        try (LineClient client = server.connect()) {
            client.send("{\"metric\":\"api.open\",\"value\":3}\n{\"metric\":\"api.open\",\"value\":5}\n");
            client.sync("open");
        }
        JsonNode w = get("metric=api.open" + range(now - 60_000, now + 60_000)).get("series").get(0).get("windows")
                .get(0);
        assertEquals(2, w.get("count").asLong());
        assertEquals(8.0, w.get("sum").asDouble());
        assertFalse(w.get("complete").asBoolean(), w.toString());
    }
}
