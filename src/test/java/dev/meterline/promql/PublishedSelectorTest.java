package dev.meterline.promql;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.meterline.LineClient;
import dev.meterline.TestServer;
import dev.meterline.model.Window;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A selector whose matchers are values of labels of their own keys reads as {@code /api/v1/aggregates} does, so that
 * asked again it is answered from the open windows the shards publish; one with any other matcher is published under
 * its matchers. On a real server whose clock stands still, so that the windows stay open.
 */
class PublishedSelectorTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long W = 10_000;

    @TempDir
    Path dir;
    private TestServer server;
    private final long now = Window.startOf(System.currentTimeMillis(), W) + 5_000;

    @AfterEach
    void stop() {
        if (server != null) {
            server.stop();
        }
    }

    private void start() throws Exception {
        server = TestServer.start(dir, Map.of(), null, () -> now);
        StringBuilder sb = new StringBuilder();
        String[] tags = {"{\"host\":\"a\"}", "{\"host\":\"a\",\"dc\":\"eu\"}", "{\"host\":\"b\"}",
                "{\"host.name\":\"a\"}", "{\"host_name\":\"a\",\"host.name\":\"b\"}"};
        for (int s = 0; s < tags.length; s++) {
            for (int i = 0; i <= s; i++) {
                sb.append("{\"metric\":\"web.hits\",\"value\":1,\"timestamp\":").append(now - 1_000 + i)
                        .append(",\"tags\":").append(tags[s]).append("}\n");
            }
        }
        try (LineClient client = server.connect()) {
            client.send(sb.toString());
            JsonNode ack = client.sync("loaded");
            assertEquals(15, ack.get("accepted").asLong(), ack.toString());
        }
    }

    /** {@code web_hits_count{matchers}} at the open window's end: label set to count. */
    private Map<String, String> answer(String matchers) throws Exception {
        String q = "web_hits_count{" + matchers + "}";
        HttpResponse<String> res = server.get("/prometheus/api/v1/query?query="
                + URLEncoder.encode(q, StandardCharsets.UTF_8) + "&time="
                + PromTime.seconds(Window.startOf(now, W) + W));
        assertEquals(200, res.statusCode(), res.body());
        Map<String, String> out = new TreeMap<>();
        for (JsonNode r : JSON.readTree(res.body()).get("data").get("result")) {
            out.put(new TreeMap<>(JSON.convertValue(r.get("metric"), Map.class)).toString(),
                    r.get("value").get(1).asText());
        }
        return out;
    }

    private double viewReads() throws Exception {
        HttpResponse<String> res = server.get("/metrics");
        for (String line : res.body().split("\n")) {
            if (line.startsWith("meterline_query_view_reads_total")) {
                return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        throw new AssertionError("no meterline_query_view_reads_total in " + res.body());
    }

    @Test
    void valuesOfLabelsOfTheirOwnKeysAreAnsweredFromThePublishedWindowsWhenAskedAgain() throws Exception {
        start();
        Map<String, String> hostA = Map.of(
                "{__name__=web_hits_count, host=a}", "1",
                "{__name__=web_hits_count, dc=eu, host=a}", "2");
        double before = viewReads();
        assertEquals(hostA, answer("host=\"a\""));
        assertEquals(before, viewReads(), "the first query asks the shards");
        assertEquals(hostA, answer("host=\"a\""));
        assertEquals(before + 1, viewReads(), "asked again, the published windows answer");
        assertEquals(Map.of("{__name__=web_hits_count, dc=eu, host=a}", "2"), answer("host=~\"a|b\", dc=\"eu\""));
        assertEquals(Map.of("{__name__=web_hits_count, dc=eu, host=a}", "2"), answer("host=~\"a|b\", dc=\"eu\""));
        assertEquals(before + 2, viewReads());
    }

    /**
     * A selector that needs its test, its labels coming from other keys or its matchers leaving no value, is
     * published under its matchers: asked again, its own published windows answer, and another selector, even of the
     * same values, is another view.
     */
    @Test
    void otherSelectorsArePublishedUnderTheirMatchers() throws Exception {
        start();
        Map<String, String> hostNameA = Map.of("{__name__=web_hits_count, host_name=a}", "4");
        Map<String, String> hostName2A = Map.of("{__name__=web_hits_count, host_name=b, host_name_2=a}", "5");
        double before = viewReads();
        assertEquals(hostNameA, answer("host_name=\"a\""));
        assertEquals(before, viewReads(), "the first query asks the shards");
        assertEquals(hostNameA, answer("host_name=\"a\""));
        assertEquals(before + 1, viewReads(), "asked again, the windows published under its matchers answer");
        assertEquals(hostNameA, answer("host_name=~\"a\""));
        assertEquals(before + 1, viewReads(), "other matchers are another view");
        assertEquals(hostName2A, answer("host_name_2=\"a\""));
        assertEquals(hostName2A, answer("host_name_2=\"a\""));
        assertEquals(Map.of("{__name__=web_hits_count, host=b}", "3"), answer("host=\"b\", dc=\"\""));
        assertEquals(Map.of("{__name__=web_hits_count, host=b}", "3"), answer("host=\"b\", dc=\"\""));
        assertEquals(Map.of(), answer("host=\"a\", host=\"b\""));
        assertEquals(Map.of(), answer("host=\"a\", host=\"b\""));
        assertEquals(before + 4, viewReads());
    }
}
