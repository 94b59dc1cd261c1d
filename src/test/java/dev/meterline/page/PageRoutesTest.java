package dev.meterline.page;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.meterline.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The page's files over real HTTP: types, cache headers, ETags, HEAD, no way out of the file list, open under auth. */
class PageRoutesTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private static final String TOKEN = "page-routes-token-0123456789abcdef";

    @TempDir
    static Path dir;
    private static TestServer server;
    private static TestServer secured;

    @BeforeAll
    static void start() throws Exception {
        server = TestServer.start(dir.resolve("data"), Map.of());
        Path tokens = dir.resolve("tokens");
        Files.writeString(tokens, TOKEN + "\n");
        secured = TestServer.start(dir.resolve("secured"), Map.of("auth-tokens-file", tokens.toString()));
    }

    @AfterAll
    static void stop() {
        secured.stop();
        server.stop();
    }

    private static HttpResponse<String> send(TestServer s, String method, String path, String... headers)
            throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.pipeline().httpPort() + path))
                .timeout(Duration.ofSeconds(30)).method(method, HttpRequest.BodyPublishers.noBody());
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static String header(HttpResponse<?> r, String name) {
        return r.headers().firstValue(name).orElse(null);
    }

    @Test
    void thePageIsHtmlRevalidatedOnEveryUseAndConfinedToItsOwnHost() throws Exception {
        for (String path : List.of("/", "/?metric=cpu.usage&range=6h")) {
            HttpResponse<String> r = send(server, "GET", path);
            assertEquals(200, r.statusCode(), path);
            assertEquals("text/html; charset=utf-8", header(r, "content-type"));
            assertEquals("no-cache", header(r, "cache-control"));
            assertEquals("nosniff", header(r, "x-content-type-options"));
            assertTrue(header(r, "content-security-policy").contains("default-src 'self'"));
            assertTrue(header(r, "content-security-policy").contains("connect-src 'self'"));
            assertTrue(r.body().contains("<title>Meterline</title>"), r.body());
        }
    }

    @Test
    void everyFileThePageNamesIsServedWithItsType() throws Exception {
        String html = send(server, "GET", "/").body();
        Matcher m = Pattern.compile("(?:src|href)=\"(/page/[^\"]+)\"").matcher(html);
        List<String> files = new ArrayList<>();
        while (m.find()) {
            files.add(m.group(1));
        }
        assertTrue(files.size() >= 5, "files named by the page: " + files);
        for (String f : files) {
            HttpResponse<String> r = send(server, "GET", f);
            assertEquals(200, r.statusCode(), f);
            String type = f.endsWith(".js") ? "text/javascript; charset=utf-8"
                    : f.endsWith(".css") ? "text/css; charset=utf-8" : "text/plain; charset=utf-8";
            assertEquals(type, header(r, "content-type"), f);
            assertEquals(f.contains("/uplot/") ? PageRoutes.IMMUTABLE : PageRoutes.REVALIDATE,
                    header(r, "cache-control"), f);
            assertTrue(header(r, "etag").startsWith("\""), f);
            assertTrue(!r.body().isEmpty(), f);
        }
    }

    @Test
    void headAnswersTheHeadersOfGetWithoutTheBody() throws Exception {
        HttpResponse<String> get = send(server, "GET", "/page/app.js");
        HttpResponse<String> head = send(server, "HEAD", "/page/app.js");
        assertEquals(200, head.statusCode());
        assertEquals("", head.body());
        assertEquals(String.valueOf(get.body().getBytes(StandardCharsets.UTF_8).length), header(head, "content-length"));
        assertEquals(header(get, "etag"), header(head, "etag"));
        assertEquals(header(get, "content-type"), header(head, "content-type"));
    }

    @Test
    void aKnownEtagIsAnswered304WithoutABody() throws Exception {
        String etag = header(send(server, "GET", "/"), "etag");
        HttpResponse<String> r = send(server, "GET", "/", "If-None-Match", etag);
        assertEquals(304, r.statusCode());
        assertEquals("", r.body());
        assertEquals(200, send(server, "GET", "/", "If-None-Match", "\"other\"").statusCode());
    }

    /** The request line is written as is, so no client tidies the path up before the server sees it. */
    private static String raw(String target) throws Exception {
        try (Socket s = new Socket("127.0.0.1", server.pipeline().httpPort())) {
            s.setSoTimeout(30_000);
            OutputStream out = s.getOutputStream();
            out.write(("GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = s.getInputStream();
            ByteArrayOutputStream all = new ByteArrayOutputStream();
            in.transferTo(all);
            return all.toString(StandardCharsets.UTF_8);
        }
    }

    @Test
    void nothingOutsideThePageFilesCanBeReached() throws Exception {
        for (String target : List.of("/page/../pom.xml", "/page/../../../../etc/passwd", "/page/%2e%2e/%2e%2e/etc/passwd",
                "/page/..%2f..%2fdev/meterline/Pipeline.class", "/page/", "/page", "/page/app.js/",
                "/page/logback.xml", "/page//app.js", "/page/uplot/1.6.30/../../app.js",
                "/page/uplot/1.6.30/uPlot.cjs.js", "/page/META-INF/MANIFEST.MF")) {
            String answer = raw(target);
            assertTrue(answer.startsWith("HTTP/1.1 404 "), target + " -> " + answer);
            assertTrue(!answer.contains("root:") && !answer.contains("<project") && !answer.contains("<configuration"),
                    target + " -> " + answer);
        }
        assertTrue(raw("/page/app.js").startsWith("HTTP/1.1 200 "));
    }

    @Test
    void otherMethodsAreNotPageRoutes() throws Exception {
        HttpResponse<String> r = send(server, "POST", "/");
        assertEquals(404, r.statusCode());
        assertEquals("no route for POST /", JSON.readTree(r.body()).get("error").asText());
    }

    @Test
    void withAuthenticationThePageIsOpenAndItsDataIsNot() throws Exception {
        assertEquals(200, send(secured, "GET", "/").statusCode());
        assertEquals(200, send(secured, "GET", "/page/app.js").statusCode());
        assertEquals(200, send(secured, "HEAD", "/page/uplot/" + PageRoutes.UPLOT_VERSION + "/uPlot.iife.min.js")
                .statusCode());
        assertEquals(404, send(secured, "GET", "/page/nothing.js").statusCode());
        assertEquals(401, send(secured, "GET", "/api/v1/stats").statusCode());
        assertEquals(401, send(secured, "GET", "/api/v1/metrics").statusCode());
        assertEquals(200, send(secured, "GET", "/api/v1/stats", "Authorization", "Bearer " + TOKEN).statusCode());
    }

    @Test
    void statsNameTheWindowAndTheFlushLag() throws Exception {
        JsonNode stats = JSON.readTree(send(server, "GET", "/api/v1/stats").body());
        assertEquals(10_000, stats.get("windowMs").asLong());
        assertEquals(0, stats.get("flushLagMs").asLong(), "nothing waits for storage");
    }
}
