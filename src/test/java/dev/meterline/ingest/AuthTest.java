package dev.meterline.ingest;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.meterline.LineClient;
import dev.meterline.TestServer;
import dev.meterline.config.Config;
import dev.meterline.config.ConfigException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Token authentication over real sockets, for TCP ingest and HTTP: no token, a wrong token, a valid token. */
class AuthTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String TOKEN = "s3cret-token-for-tests-0123456789";
    private static final String POINT = "{\"metric\":\"secure\",\"value\":1}\n";

    @TempDir
    static Path dir;
    private static TestServer server;
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @BeforeAll
    static void start() throws Exception {
        Path tokens = dir.resolve("tokens");
        Files.writeString(tokens, "# clients\n" + TOKEN + "\nanother-token-abcdefghijkl\n");
        server = TestServer.start(dir.resolve("data"), Map.of("auth-tokens-file", tokens.toString()));
    }

    @AfterAll
    static void stop() {
        server.stop();
    }

    private static HttpResponse<String> send(String method, String path, String body, String authorization)
            throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.pipeline().httpPort() + path))
                .timeout(Duration.ofSeconds(30))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body));
        if (authorization != null) {
            b.header("Authorization", authorization);
        }
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void httpWithoutTokenIs401() throws Exception {
        HttpResponse<String> r = send("POST", "/api/v1/points", POINT, null);
        assertEquals(401, r.statusCode());
        assertEquals("missing or invalid bearer token", JSON.readTree(r.body()).get("error").asText());
        assertEquals("Bearer", r.headers().firstValue("WWW-Authenticate").orElse(null));
        assertEquals(401, send("GET", "/api/v1/aggregates?metric=secure", null, null).statusCode());
    }

    @Test
    void httpWithWrongTokenIs401() throws Exception {
        assertEquals(401, send("POST", "/api/v1/points", POINT, "Bearer " + TOKEN + "x").statusCode());
        assertEquals(401, send("GET", "/api/v1/stats", null, "Basic " + TOKEN).statusCode());
    }

    @Test
    void httpWithValidTokenIsServed() throws Exception {
        HttpResponse<String> r = send("POST", "/api/v1/points", POINT, "Bearer " + TOKEN);
        assertEquals(200, r.statusCode(), r.body());
        assertEquals(1, JSON.readTree(r.body()).get("accepted").asLong());
        assertEquals(200, send("GET", "/api/v1/aggregates?metric=secure", null, "bearer " + TOKEN).statusCode());
    }

    @Test
    void healthReadinessAndMetricsStayOpen() throws Exception {
        assertEquals(200, send("GET", "/healthz", null, null).statusCode());
        assertEquals(200, send("GET", "/readyz", null, null).statusCode());
        HttpResponse<String> metrics = send("GET", "/metrics", null, null);
        assertEquals(200, metrics.statusCode());
        assertFalse(metrics.body().contains(TOKEN), "the token never shows in meters");
    }

    @Test
    void tcpWithoutAuthLineIsToldAndClosed() throws Exception {
        try (LineClient c = server.connect()) {
            c.send(POINT + "{\"sync\":\"1\"}\n");
            JsonNode reply = c.readReply();
            assertEquals("authentication failed: the first line must be {\"auth\":\"<token>\"}", reply.get("error").asText());
            assertNull(c.readReply(), "then the server closes");
        }
    }

    @Test
    void tcpWithWrongTokenIsToldAndClosed() throws Exception {
        try (LineClient c = server.connect()) {
            c.send("{\"auth\":\"" + TOKEN.substring(1) + "\"}\n" + POINT);
            JsonNode reply = c.readReply();
            assertTrue(reply.get("error").asText().startsWith("authentication failed"), reply.toString());
            assertNull(c.readReply());
        }
    }

    @Test
    void tcpWithValidTokenIngests() throws Exception {
        try (LineClient c = server.connect()) {
            c.send("{\"auth\":\"" + TOKEN + "\"}\r\n" + POINT + "{\"metric\":\"secure\",\"value\":\"x\"}\n");
            JsonNode ack = c.sync("in");
            assertEquals(1, ack.get("accepted").asLong());
            assertEquals(1, ack.get("rejected").asLong());
            assertEquals(2, c.errors().get(0).get("line").asInt(), "line numbers start after the auth line");
        }
    }

    @Test
    void aTokenFileWithoutTokensIsAConfigurationError() throws Exception {
        Path empty = Files.writeString(dir.resolve("empty"), "# nothing\n", StandardCharsets.UTF_8);
        ConfigException e = assertThrows(ConfigException.class,
                () -> Config.from(Map.of("auth-tokens-file", empty.toString())));
        assertTrue(e.getMessage().startsWith("METERLINE_AUTH_TOKENS_FILE / --auth-tokens-file: "), e.getMessage());
        Path shortToken = Files.writeString(dir.resolve("short"), "abc\n", StandardCharsets.UTF_8);
        ConfigException e2 = assertThrows(ConfigException.class,
                () -> Config.from(Map.of("auth-tokens-file", shortToken.toString())));
        assertFalse(e2.getMessage().contains("abc"), "a token never shows in an error: " + e2.getMessage());
    }
}
