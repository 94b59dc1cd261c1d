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
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A PromQL selector asked again reads the open windows its first query had the shards publish, on a real server:
 * the answer is the same as the shards' and sees every point acknowledged before it. The windows are kept open past
 * their end by a long lateness, so that an instant query at the server's time reads them while they are open.
 */
class PromViewsTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;
    private TestServer server;

    @AfterEach
    void stop() {
        if (server != null) {
            server.stop();
        }
    }

    private void send(long ts, String host, int count) throws Exception {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < count; i++) {
            sb.append("{\"metric\":\"svc.req\",\"value\":1,\"timestamp\":").append(ts + i)
                    .append(",\"tags\":{\"host\":\"").append(host).append("\",\"svc.name\":\"api\"}}\n");
        }
        try (LineClient client = server.connect()) {
            client.send(sb.toString());
            assertEquals(count, client.sync("s").get("accepted").asLong());
        }
    }

    /** The value of an instant query's one series, or "none". */
    private String count(String selector) throws Exception {
        String q = URLEncoder.encode("sum(sum_over_time(" + selector + "[1m]))", StandardCharsets.UTF_8);
        JsonNode body = JSON.readTree(server.get("/prometheus/api/v1/query?query=" + q).body());
        assertEquals("success", body.get("status").asText(), body.toString());
        JsonNode result = body.get("data").get("result");
        return result.isEmpty() ? "none" : result.get(0).get("value").get(1).asText();
    }

    private long viewReads() throws Exception {
        Matcher m = Pattern.compile("(?m)^meterline_query_view_reads_total (\\S+)$")
                .matcher(server.get("/metrics").body());
        return m.find() ? (long) Double.parseDouble(m.group(1)) : -1;
    }

    @Test
    void aSelectorAskedAgainIsReadFromPublishedWindowsAndSeesNewPoints() throws Exception {
        server = TestServer.start(dir, Map.of("lateness", "10m"));
        long ended = Window.startOf(System.currentTimeMillis(), 10_000) - 20_000;
        send(ended, "a", 3);
        send(ended, "b", 5);
        String selector = "svc_req_count{host=\"a\",svc_name=~\"a.*\"}";

        long before = viewReads();
        assertEquals("3", count(selector), "the first query asks the shards");
        assertEquals(before, viewReads());
        assertEquals("3", count(selector));
        assertEquals(before + 1, viewReads(), "asked again, read from the published windows");

        send(ended + 100, "a", 4);
        send(ended + 100, "b", 1);
        assertEquals("7", count(selector), "the published windows hold every acknowledged point");
        assertEquals(before + 2, viewReads());
        assertEquals("6", count("svc_req_count{host=\"b\"}"), "another selector is another view");
        assertEquals(before + 2, viewReads());
        assertEquals("13", count("svc_req_count"));
    }
}
