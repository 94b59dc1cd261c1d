package dev.meterline.http;

import io.netty.handler.codec.http.HttpResponseStatus;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.reactivestreams.Publisher;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;
import reactor.netty.http.server.HttpServerRequest;
import reactor.netty.http.server.HttpServerResponse;
import reactor.netty.http.server.HttpServerRoutes;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.function.BiFunction;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** {@link ExactPath} routes a request exactly when reactor-netty's template for the same path does. */
class ExactPathTest {

    private DisposableServer exact;
    private DisposableServer template;

    @AfterEach
    void stop() {
        for (DisposableServer s : new DisposableServer[]{exact, template}) {
            if (s != null) {
                s.disposeNow(Duration.ofSeconds(5));
            }
        }
    }

    @Test
    void matchesWhatTheTemplateMatches() throws Exception {
        exact = start(routes -> routes.route(ExactPath.get("/api/v1/x"), answer(HttpResponseStatus.OK))
                .route(ExactPath.post("/api/v1/x"), answer(HttpResponseStatus.CREATED)));
        template = start(routes -> routes.get("/api/v1/x", answer(HttpResponseStatus.OK))
                .post("/api/v1/x", answer(HttpResponseStatus.CREATED)));
        String[][] requests = {
                {"GET", "/api/v1/x", "hit"},
                {"GET", "/api/v1/x?metric=a&tag=b:c", "hit"},
                {"GET", "/api/v1/x?a=b?c", "none"}, // the template takes the path up to the last '?'
                {"GET", "/api/v1/x/?a=1", "none"},
                {"GET", "/api/v1/x/", "none"},
                {"GET", "/api/v1/xy", "none"},
                {"GET", "/api/v1", "none"},
                {"GET", "//api/v1/x", "none"},
                {"GET", "/api/v1/x#top", "none"},
                {"GET", "http://example.com:8080/api/v1/x?a=1", "hit"},
                {"GET", "http://example.com/api/v1/y", "none"},
                {"GET", "http://[::1]:8080/api/v1/x", "hit"},
                {"GET", "http://example.com", "none"},
                {"GET", "http://example.com?a=/api/v1/x", "none"},
                {"HEAD", "/api/v1/x", "none"},
                {"POST", "/api/v1/x?a=1", "posted"},
                {"PUT", "/api/v1/x", "none"},
        };
        for (String[] r : requests) {
            assertEquals(r[2], ask(template, r[0], r[1]), "template, " + r[0] + " " + r[1]);
            assertEquals(r[2], ask(exact, r[0], r[1]), "exact path, " + r[0] + " " + r[1]);
        }
    }

    @Test
    void takesOnlyLiteralPaths() {
        for (String path : new String[]{"api", "/api/{name}", "/api/**", "/a.b", "/a?b=1", "/a b"}) {
            assertThrows(IllegalArgumentException.class, () -> ExactPath.get(path), path);
        }
    }

    private static DisposableServer start(Consumer<HttpServerRoutes> routes) {
        return HttpServer.create().host("127.0.0.1").port(0)
                .route(r -> {
                    routes.accept(r);
                    r.route(req -> true, answer(HttpResponseStatus.NOT_FOUND));
                })
                .bindNow(Duration.ofSeconds(10));
    }

    private static BiFunction<HttpServerRequest, HttpServerResponse, Publisher<Void>> answer(HttpResponseStatus s) {
        return (req, res) -> JsonResponses.raw(res, s, "{}");
    }

    /** Which route answered one request sent as written, on a connection of its own (told by the status). */
    private static String ask(DisposableServer server, String method, String target) throws Exception {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), server.port())) {
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            out.write((method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n"
                    + "Connection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = s.getInputStream();
            StringBuilder statusLine = new StringBuilder();
            for (int c = in.read(); c >= 0 && c != '\r'; c = in.read()) {
                statusLine.append((char) c);
            }
            return switch (statusLine.substring(9, 12)) {
                case "200" -> "hit";
                case "201" -> "posted";
                case "404" -> "none";
                default -> statusLine.toString();
            };
        }
    }
}
