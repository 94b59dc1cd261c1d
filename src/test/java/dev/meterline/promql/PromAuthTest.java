package dev.meterline.promql;

import dev.meterline.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** With authentication on, every /prometheus route wants a bearer token, by GET and by form POST. */
class PromAuthTest {

    private static final String TOKEN = "grafana-token-0123456789abcdef";

    @TempDir
    static Path dir;
    private static TestServer server;
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @BeforeAll
    static void start() throws Exception {
        Path tokens = Files.writeString(dir.resolve("tokens"), TOKEN + "\n");
        server = TestServer.start(dir.resolve("data"), Map.of("auth-tokens-file", tokens.toString()));
    }

    @AfterAll
    static void stop() {
        server.stop();
    }

    private static int status(String method, String path, String token) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.pipeline().httpPort()
                        + "/prometheus/api/v1" + path)).timeout(Duration.ofSeconds(30));
        if (method.equals("POST")) {
            b.POST(HttpRequest.BodyPublishers.ofString("query=1%2B1&time=4"))
                    .header("Content-Type", "application/x-www-form-urlencoded");
        }
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString()).statusCode();
    }

    @Test
    void everyRouteNeedsAToken() throws Exception {
        for (String path : new String[]{"/query?query=1", "/query_range?query=1&start=0&end=1&step=1", "/labels",
                "/label/__name__/values", "/series?match[]=up", "/metadata", "/status/buildinfo",
                "/query_exemplars"}) {
            assertEquals(401, status("GET", path, null), path);
            assertEquals(401, status("GET", path, "wrong-token-0123456789abcdef"), path);
            assertEquals(200, status("GET", path, TOKEN), path);
        }
        assertEquals(401, status("POST", "/query", null));
        assertEquals(200, status("POST", "/query", TOKEN));
    }
}
