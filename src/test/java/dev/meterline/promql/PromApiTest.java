package dev.meterline.promql;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.meterline.LineClient;
import dev.meterline.TestServer;
import dev.meterline.model.Aggregate;
import dev.meterline.model.Window;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Prometheus API on a real server, replaying the requests Grafana's Prometheus data source makes (form POSTs,
 * {@code match[]}, float times) and comparing answers with values computed here from the points sent.
 */
class PromApiTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String FORM = "application/x-www-form-urlencoded";

    /** One sent point. */
    record P(String metric, Map<String, String> tags, long ts, double value) {
        long windowEnd() {
            return Window.startOf(ts, 10_000) + 10_000;
        }
    }

    @TempDir
    static Path dir;
    private static TestServer server;
    private static final List<P> points = new ArrayList<>();
    private static long base;

    @BeforeAll
    static void start() throws Exception {
        server = TestServer.start(dir, Map.of("prometheus-max-series", "5"));
        base = Window.startOf(System.currentTimeMillis() - 20 * 60_000, 60_000);
        List<Map<String, String>> tags = List.of(Map.of("host", "a", "region", "eu"),
                Map.of("host", "b", "region", "us"));
        for (int s = 0; s < tags.size(); s++) {
            for (int i = 0; i < 600; i++) {
                points.add(new P("web.latency", tags.get(s), base + i * 200L + s, (i * 37 + s * 11) % 101 + 0.25));
            }
        }
        points.add(new P("web_latency", Map.of("host", "a"), base + 5, 7));
        for (int s = 0; s < 6; s++) {
            points.add(new P("many", Map.of("n", "s" + s), base + 5, s));
        }
        StringBuilder sb = new StringBuilder();
        for (P p : points) {
            sb.append("{\"metric\":\"").append(p.metric()).append("\",\"value\":").append(p.value())
                    .append(",\"timestamp\":").append(p.ts()).append(",\"tags\":")
                    .append(JSON.writeValueAsString(p.tags())).append("}\n");
        }
        try (LineClient client = server.connect()) {
            client.send(sb.toString());
            JsonNode ack = client.sync("loaded");
            assertEquals(points.size(), ack.get("accepted").asLong(), ack.toString());
        }
    }

    @AfterAll
    static void stop() {
        server.stop();
    }

    private static HttpResponse<String> post(String path, String form) throws Exception {
        return server.post("/prometheus/api/v1" + path, form.getBytes(StandardCharsets.UTF_8), "Content-Type", FORM);
    }

    private static HttpResponse<String> get(String pathAndQuery) throws Exception {
        return server.get("/prometheus/api/v1" + pathAndQuery);
    }

    private static JsonNode ok(HttpResponse<String> res) throws Exception {
        assertEquals(200, res.statusCode(), res.body());
        assertEquals("application/json", res.headers().firstValue("content-type").orElse(""));
        JsonNode body = JSON.readTree(res.body());
        assertEquals("success", body.get("status").asText());
        return body.get("data");
    }

    private static void error(HttpResponse<String> res, int status, String type, String message) throws Exception {
        assertEquals(status, res.statusCode(), res.body());
        JsonNode body = JSON.readTree(res.body());
        assertEquals("error", body.get("status").asText());
        assertEquals(type, body.get("errorType").asText());
        assertTrue(body.get("error").asText().contains(message), body.get("error").asText());
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    private static String secs(long ms) {
        return PromTime.seconds(ms);
    }

    private static Aggregate sent(Predicate<P> which, long fromEnd, long toEnd) {
        Aggregate a = new Aggregate();
        for (P p : points) {
            if (which.test(p) && p.windowEnd() > fromEnd && p.windowEnd() <= toEnd) {
                a.accept(p.value(), p.ts());
            }
        }
        return a;
    }

    @Test
    void saveAndTestIsOnePlusOneAtFour() throws Exception {
        HttpResponse<String> res = post("/query", "query=1%2B1&time=4");
        assertEquals(200, res.statusCode());
        assertEquals("{\"status\":\"success\",\"data\":{\"resultType\":\"scalar\",\"result\":[4,\"2\"]}}", res.body());
        assertEquals(res.body(), get("/query?query=1%2B1&time=4").body(), "GET answers as POST");
    }

    @Test
    void buildInfoHasNoFeatures() throws Exception {
        JsonNode data = ok(get("/status/buildinfo"));
        assertFalse(data.has("features"), data.toString());
        assertTrue(data.get("version").asText().matches("\\d+\\.\\d+\\.\\d+"));
    }

    @Test
    void pickersListLabelsNamesAndSeries() throws Exception {
        Set<String> labels = strings(ok(get("/labels")));
        assertTrue(labels.containsAll(List.of("__name__", "host", "region", "quantile", "le", "meterline_metric")),
                labels.toString());
        Set<String> postLabels = strings(ok(post("/labels", "start=" + secs(base) + "&end=" + secs(base + 60_000))));
        assertEquals(labels, postLabels);
        Set<String> names = strings(ok(get("/label/__name__/values")));
        assertTrue(names.containsAll(List.of("web_latency", "web_latency_count", "web_latency_sum", "web_latency_min",
                "web_latency_max", "web_latency_mean", "web_latency_last", "web_latency_bucket", "many_count")),
                names.toString());
        assertEquals(names, strings(ok(get("/label/__name__/values?match[]=" + enc("{__name__=~\".+\"}")))));
        assertEquals(Set.of("a", "b"), strings(ok(get("/label/host/values?match[]=" + enc("web_latency_count")
                + "&start=" + secs(base) + "&end=" + secs(base + 60_000)))));
        assertEquals(Set.of("0.5", "0.9", "0.99"), strings(ok(get("/label/quantile/values"))));
        JsonNode series = ok(get("/series?match[]=" + enc("web_latency_count{host=\"a\"}") + "&start="
                + secs(base) + "&end=" + secs(base + 120_000)));
        Set<String> metricLabels = new HashSet<>();
        for (JsonNode s : series) {
            assertEquals("web_latency_count", s.get("__name__").asText());
            assertEquals("a", s.get("host").asText());
            metricLabels.add(s.get("meterline_metric").asText());
        }
        assertEquals(Set.of("web.latency", "web_latency"), metricLabels, "colliding names kept apart");
        error(get("/series"), 400, "bad_data", "no match[] parameter provided");
        error(get("/series?match[]=" + enc("sum(x)")), 400, "bad_data", "series selector");
        JsonNode meta = ok(get("/metadata"));
        assertEquals("summary", meta.get("web_latency").get(0).get("type").asText());
        assertEquals("gauge", meta.get("web_latency_max").get(0).get("type").asText());
        assertFalse(meta.get("web_latency").get(0).get("help").asText().isEmpty());
        assertEquals(0, ok(get("/query_exemplars?query=web_latency_count&start=0&end=1")).size());
    }

    private static Set<String> strings(JsonNode array) {
        Set<String> out = new HashSet<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }

    @Test
    void rangeQueryAsAPanelPostsIt() throws Exception {
        long step = 60_000;
        long start = base + step;
        long end = base + 3 * step;
        String counts = "sum by (region) (web_latency_count{meterline_metric=\"web.latency\"})";
        JsonNode data = ok(post("/query_range", "query=" + enc(counts)
                + "&start=" + secs(start) + "&end=" + secs(end) + "&step=60"));
        assertEquals("matrix", data.get("resultType").asText());
        int seen = 0;
        for (JsonNode s : data.get("result")) {
            String region = s.get("metric").get("region").asText();
            assertEquals(1, s.get("metric").size());
            for (JsonNode point : s.get("values")) {
                long t = Math.round(point.get(0).asDouble() * 1000);
                Aggregate want = sent(p -> p.metric().equals("web.latency") && region.equals(p.tags().get("region")),
                        t - step, t);
                assertEquals(PromTime.value(want.count()), point.get(1).asText(), region + " at " + t);
                seen++;
            }
        }
        assertEquals(4, seen, data.toString());

        String quantile = "histogram_quantile(0.99, sum(web_latency_bucket{meterline_metric=\"web.latency\"}))";
        JsonNode p99 = ok(post("/query_range", "query=" + enc(quantile)
                + "&start=" + secs(start) + "&end=" + secs(start) + "&step=1m"));
        JsonNode point = p99.get("result").get(0).get("values").get(0);
        Aggregate all = sent(p -> p.metric().equals("web.latency"), start - step, start);
        assertEquals(PromTime.value(all.valueAtQuantile(0.99)), point.get(1).asText());
    }

    @Test
    void instantQueryWithRfc3339Time() throws Exception {
        long t = base + 30_000;
        String rfc = Instant.ofEpochMilli(t).toString();
        JsonNode data = ok(get("/query?query=" + enc("web_latency_sum{host=\"b\"}") + "&time=" + enc(rfc)));
        assertEquals("vector", data.get("resultType").asText());
        JsonNode s = data.get("result").get(0);
        assertEquals("web_latency_sum", s.get("metric").get("__name__").asText());
        assertEquals(secs(t), s.get("value").get(0).asText());
        double want = sent(p -> p.metric().equals("web.latency") && "b".equals(p.tags().get("host")), t - 10_000, t)
                .sum();
        assertEquals(PromTime.value(want), s.get("value").get(1).asText());
    }

    @Test
    void errorsAsPrometheusReportsThem() throws Exception {
        error(post("/query", "query=" + enc("sum(rate(x[5m])")), 400, "bad_data",
                "invalid parameter \"query\": 1:16: parse error: unexpected end of input");
        error(post("/query", "query=" + enc("rate(x[5m:1m])")), 400, "bad_data", "a subquery is not supported");
        error(post("/query", ""), 400, "bad_data", "invalid parameter \"query\"");
        error(post("/query_range", "query=1&start=10&end=20"), 400, "bad_data", "invalid parameter \"step\"");
        error(post("/query_range", "query=1&start=x&end=20&step=1"), 400, "bad_data",
                "invalid parameter \"start\": cannot parse \"x\" to a valid timestamp");
        error(post("/query_range", "query=1&start=20&end=10&step=1"), 400, "bad_data",
                "end timestamp must not be before start time");
        error(post("/query_range", "query=1&start=0&end=11000&step=1"), 400, "bad_data",
                "exceeded maximum resolution of 11000 points per timeseries");
        error(post("/query", "query=many_count&time=" + secs(base + 10_000)), 422, "execution",
                "more than 5 series");
        error(post("/query", "query=" + enc("x{a=~\"" + "y".repeat(1025) + "\"}")), 400, "bad_data",
                "--prometheus-max-regex-length");
        error(post("/query", "query=%zz"), 400, "bad_data", "invalid request");
        error(server.post("/prometheus/api/v1/query", "{\"query\":\"1\"}".getBytes(StandardCharsets.UTF_8),
                "Content-Type", "application/json"), 400, "bad_data", "application/x-www-form-urlencoded");
    }
}
