package dev.meterline.ingest;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.meterline.AggregateResults;
import dev.meterline.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.zip.GZIPOutputStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code POST /api/v1/points} on a real server: plain and gzip bodies, the error list, and the size and encoding rules. */
class HttpIngestTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String NDJSON = "application/x-ndjson";
    /** A small body limit (one inflate chunk), so the limit tests need small bodies only. */
    private static final int MAX_BODY = 65_536;

    @TempDir
    static Path dir;
    private static TestServer server;

    @BeforeAll
    static void start() {
        server = TestServer.start(dir, Map.of("max-body-bytes", String.valueOf(MAX_BODY)));
    }

    @AfterAll
    static void stop() {
        server.stop();
    }

    private static String point(String metric, double value, long ts, String host) {
        return "{\"metric\":\"" + metric + "\",\"value\":" + value + ",\"timestamp\":" + ts + ",\"tags\":{\"host\":\""
                + host + "\"}}\n";
    }

    private static JsonNode json(HttpResponse<String> res) throws IOException {
        assertEquals("application/json", res.headers().firstValue("content-type").orElse(""), res.body());
        return JSON.readTree(res.body());
    }

    private static byte[] gzip(String text) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(bytes)) {
            gz.write(text.getBytes(StandardCharsets.UTF_8));
        }
        return bytes.toByteArray();
    }

    private static AggregateResults aggregates(String metric, long ts) throws Exception {
        HttpResponse<String> res = server.get("/api/v1/aggregates?metric=" + metric + "&from=" + (ts - 60_000)
                + "&to=" + (ts + 60_000) + "&resolution=1m");
        assertEquals(200, res.statusCode(), res.body());
        return AggregateResults.parse(res.body());
    }

    @Test
    void plainBodyIsAggregatedBeforeTheAnswer() throws Exception {
        long ts = System.currentTimeMillis() - 600_000;
        String body = point("http.plain", 1.5, ts, "a")
                + "{\"metric\":\"http.plain\",\"value\":NaN}\n"
                + "\n"
                + point("http.plain", 2.5, ts + 1, "a")
                + "{\"metric\":\"http.plain\",\"value\":4,\"timestamp\":" + (ts + 2) + ",\"tags\":{\"host\":\"b\"}}";
        HttpResponse<String> res = server.post("/api/v1/points", body.getBytes(StandardCharsets.UTF_8),
                "Content-Type", NDJSON);
        assertEquals(200, res.statusCode(), res.body());
        JsonNode answer = json(res);
        assertEquals(3, answer.get("accepted").asLong(), res.body());
        assertEquals(1, answer.get("rejected").asLong(), res.body());
        assertEquals(1, answer.get("errors").size(), res.body());
        assertEquals(2, answer.get("errors").get(0).get("line").asInt(), res.body());
        assertEquals("value must be a finite number", answer.get("errors").get(0).get("error").asText());
        assertTrue(!answer.has("dropped"), "no dropped count under the block policy: " + res.body());

        // The answer came once every line was aggregated, so a query sees them at once.
        AggregateResults agg = aggregates("http.plain", ts);
        assertEquals(Map.of("host=a", 2L, "host=b", 1L), agg.countBySeries());
        assertEquals(Map.of("host=a", 4.0, "host=b", 4.0), agg.sumBySeries());
    }

    @Test
    void gzipBodyGivesTheSameAnswerAsPlain() throws Exception {
        long ts = System.currentTimeMillis() - 600_000;
        StringBuilder body = new StringBuilder();
        for (int i = 0; i < 500; i++) {
            body.append(i % 50 == 7 ? "{\"metric\":\"http.gzip\"}\n" : point("http.gzip", i, ts + i, "g" + (i % 3)));
        }
        HttpResponse<String> plain = server.post("/api/v1/points", body.toString().getBytes(StandardCharsets.UTF_8));
        HttpResponse<String> gz = server.post("/api/v1/points", gzip(body.toString()), "Content-Encoding", "gzip",
                "Content-Type", NDJSON);
        assertEquals(200, plain.statusCode(), plain.body());
        assertEquals(200, gz.statusCode(), gz.body());
        assertEquals(json(plain), json(gz));
        JsonNode answer = json(gz);
        assertEquals(490, answer.get("accepted").asLong());
        assertEquals(10, answer.get("rejected").asLong());
        for (int k = 0; k < 10; k++) {
            assertEquals(k * 50 + 8, answer.get("errors").get(k).get("line").asInt(), gz.body());
            assertEquals("value is required", answer.get("errors").get(k).get("error").asText());
        }
        assertEquals(2 * 490, aggregates("http.gzip", ts).totalCount());
    }

    @Test
    void errorsAreListedInLineOrderAndCappedAtOneHundred() throws Exception {
        long ts = System.currentTimeMillis() - 600_000;
        StringBuilder body = new StringBuilder();
        int lines = 0;
        for (int i = 0; i < 150; i++) {
            body.append(point("http.errors", 1, ts + i, "x"));
            body.append("{\"metric\":\"http.errors\",\"value\":\"bad\"}\n");
            lines += 2;
        }
        HttpResponse<String> res = server.post("/api/v1/points", gzip(body.toString()), "Content-Encoding", "gzip");
        assertEquals(200, res.statusCode(), res.body());
        JsonNode answer = json(res);
        assertEquals(150, answer.get("accepted").asLong());
        assertEquals(150, answer.get("rejected").asLong());
        JsonNode errors = answer.get("errors");
        assertEquals(100, errors.size(), "at most the first 100 errors are listed");
        for (int k = 0; k < 100; k++) {
            assertEquals(2 * (k + 1), errors.get(k).get("line").asInt(), "error " + k);
        }
        assertEquals(300, lines);
    }

    @Test
    void declaredBodyOverTheLimitIs413AndNothingIsRead() throws Exception {
        long ts = System.currentTimeMillis() - 600_000;
        StringBuilder body = new StringBuilder();
        while (body.length() <= MAX_BODY) {
            body.append(point("http.toolarge", 1, ts, "x"));
        }
        HttpResponse<String> res = server.post("/api/v1/points", body.toString().getBytes(StandardCharsets.UTF_8));
        assertEquals(413, res.statusCode(), res.body());
        assertTrue(json(res).get("error").asText().contains(String.valueOf(MAX_BODY)), res.body());
        assertEquals(0, aggregates("http.toolarge", ts).totalCount());
    }

    @Test
    void bodyWithoutLengthPassingTheLimitProcessesTheLinesBefore() throws Exception {
        long ts = System.currentTimeMillis() - 600_000;
        StringBuilder body = new StringBuilder();
        while (body.length() <= 3 * MAX_BODY) {
            body.append(point("http.chunked", 1, ts, "x"));
        }
        byte[] bytes = body.toString().getBytes(StandardCharsets.UTF_8);
        HttpRequest req = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.pipeline().httpPort()
                        + "/api/v1/points"))
                .timeout(Duration.ofSeconds(30))
                .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(bytes)))
                .build();
        HttpResponse<String> res = HttpClient.newHttpClient().send(req, HttpResponse.BodyHandlers.ofString());
        assertEquals(413, res.statusCode(), res.body());
        JsonNode answer = json(res);
        long accepted = answer.get("accepted").asLong();
        assertTrue(accepted > 0 && accepted * point("http.chunked", 1, ts, "x").length() <= MAX_BODY, res.body());
        assertEquals(accepted, aggregates("http.chunked", ts).totalCount(), "the lines before the limit were kept");
    }

    @Test
    void gzipInflatingPastTheLimitIs413() throws Exception {
        long ts = System.currentTimeMillis() - 600_000;
        StringBuilder body = new StringBuilder();
        while (body.length() <= 10 * MAX_BODY) {
            body.append(point("http.bomb", 1, ts, "x"));
        }
        byte[] compressed = gzip(body.toString());
        assertTrue(compressed.length < MAX_BODY, "compresses below the limit");
        HttpResponse<String> res = server.post("/api/v1/points", compressed, "Content-Encoding", "gzip");
        assertEquals(413, res.statusCode(), res.body());
        JsonNode answer = json(res);
        assertTrue(answer.get("error").asText().contains(String.valueOf(MAX_BODY)), res.body());
        long accepted = answer.get("accepted").asLong();
        assertTrue(accepted * point("http.bomb", 1, ts, "x").length() <= MAX_BODY, res.body());
        assertEquals(accepted, aggregates("http.bomb", ts).totalCount());
    }

    @Test
    void unsupportedEncodingIs415() throws Exception {
        HttpResponse<String> res = server.post("/api/v1/points",
                point("http.br", 1, System.currentTimeMillis(), "x").getBytes(StandardCharsets.UTF_8),
                "Content-Encoding", "br");
        assertEquals(415, res.statusCode(), res.body());
        assertTrue(json(res).get("error").asText().contains("br"), res.body());
    }

    @Test
    void badGzipIs400() throws Exception {
        long ts = System.currentTimeMillis() - 600_000;
        byte[] notGzip = point("http.badgzip", 1, ts, "x").getBytes(StandardCharsets.UTF_8);
        HttpResponse<String> res = server.post("/api/v1/points", notGzip, "Content-Encoding", "gzip");
        assertEquals(400, res.statusCode(), res.body());
        assertTrue(json(res).get("error").asText().startsWith("body is not valid gzip"), res.body());

        // A valid gzip header with a truncated stream is no better.
        byte[] good = gzip(point("http.badgzip", 1, ts, "x").repeat(20));
        byte[] truncated = java.util.Arrays.copyOf(good, good.length - 12);
        res = server.post("/api/v1/points", truncated, "Content-Encoding", "gzip");
        assertEquals(400, res.statusCode(), res.body());
        assertTrue(json(res).get("error").asText().startsWith("body is not valid gzip"), res.body());
    }

    @Test
    void emptyBodyIsAnEmptyAnswer() throws Exception {
        HttpResponse<String> res = server.post("/api/v1/points", new byte[0]);
        assertEquals(200, res.statusCode(), res.body());
        JsonNode answer = json(res);
        assertEquals(0, answer.get("accepted").asLong());
        assertEquals(0, answer.get("rejected").asLong());
        assertEquals(0, answer.get("errors").size());
    }
}
