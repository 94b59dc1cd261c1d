package dev.meterline.http;

import dev.meterline.lifecycle.Readiness;
import dev.meterline.lifecycle.ReadinessCheck;
import io.netty.handler.codec.http.HttpResponseStatus;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The admin routes, the gate and the 404, mounted on a real server without a pipeline behind them. */
class HttpEdgeTest {

    private final HttpClient client = HttpClient.newHttpClient();
    private DisposableServer server;

    @AfterEach
    void stop() {
        if (server != null) {
            server.disposeNow(Duration.ofSeconds(5));
        }
    }

    private void start(Routes gate, List<Routes> groups) {
        server = HttpServer.create().host("127.0.0.1").port(0).route(HttpEdge.routes(gate, groups))
                .bindNow(Duration.ofSeconds(10));
    }

    private HttpResponse<String> get(String path, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path))
                .timeout(Duration.ofSeconds(10));
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void readinessFollowsTheCheckAndTheRestIsAnswered() throws Exception {
        AtomicReference<ReadinessCheck> check = new AtomicReference<>(
                new ReadinessCheck(Readiness.State.STARTING, false, null, 0, false, false, 0, 10, 0));
        start(null, List.of(new AdminRoutes(check::get, () -> "# metrics\n")));

        HttpResponse<String> starting = get("/readyz");
        assertEquals(503, starting.statusCode());
        assertEquals("{\"status\":\"starting\",\"flushFailures\":0,\"pendingWindows\":0,\"spooledWindows\":0,\"walBytes\":0}",
                starting.body());

        check.set(new ReadinessCheck(Readiness.State.READY, true, "down \"hard\"", 2, false, false, 4, 10, 1));
        HttpResponse<String> degraded = get("/readyz");
        assertEquals(200, degraded.statusCode());
        assertEquals("{\"status\":\"degraded\",\"reason\":\"storage unreachable: down \\\"hard\\\"; 2 windows spooled"
                + " to disk\",\"flushFailures\":1,\"pendingWindows\":4,\"spooledWindows\":2,\"walBytes\":0}", degraded.body());

        assertEquals("{\"status\":\"ok\"}", get("/healthz").body());
        assertEquals("# metrics\n", get("/metrics").body());
        HttpResponse<String> missing = get("/nowhere?x=1");
        assertEquals(404, missing.statusCode());
        assertEquals("{\"error\":\"no route for GET /nowhere\"}", missing.body());
    }

    @Test
    void theGateComesFirstAndTheGroupsInOrder() throws Exception {
        AtomicInteger refused = new AtomicInteger();
        Routes gate = new AuthGate("secret"::equals, Set.of("/healthz"), refused::incrementAndGet);
        Routes first = routes -> routes.get("/x", (req, res) -> JsonResponses.raw(res, HttpResponseStatus.OK, "1"));
        Routes second = routes -> routes.get("/x", (req, res) -> JsonResponses.raw(res, HttpResponseStatus.OK, "2"));
        start(gate, List.of(new AdminRoutes(() -> null, () -> ""), first, second));

        HttpResponse<String> denied = get("/x");
        assertEquals(401, denied.statusCode());
        assertEquals("Bearer", denied.headers().firstValue("WWW-Authenticate").orElseThrow());
        assertEquals("{\"error\":\"missing or invalid bearer token\"}", denied.body());
        assertEquals(401, get("/nowhere", "Authorization", "Bearer wrong").statusCode());
        assertEquals(2, refused.get());

        assertEquals(200, get("/healthz").statusCode());
        assertEquals("1", get("/x", "Authorization", "bearer secret").body());
        assertEquals(404, get("/nowhere", "Authorization", "Bearer secret").statusCode());
        assertEquals(2, refused.get());
    }

    @Test
    void readinessBodyTellsTheLogAndTheRemoteWriteReceiver() {
        ReadinessCheck paused = new ReadinessCheck(Readiness.State.READY, false, null, 0, false, false, 0, 10, 0,
                true, 20_000, 16_384, "receiver answered 503: \"busy\"", true);
        assertEquals("{\"status\":\"degraded\",\"reason\":\"ingest paused: the write-ahead log holds 20000 bytes, at"
                + " its bound (METERLINE_WAL_MAX_BYTES 16384)\",\"flushFailures\":0,\"pendingWindows\":0,"
                + "\"spooledWindows\":0,\"walBytes\":20000,\"remoteWrite\":\"receiver answered 503: \\\"busy\\\"\"}",
                AdminRoutes.body(paused));
        ReadinessCheck exporting = new ReadinessCheck(Readiness.State.READY, false, null, 0, false, false, 0, 10, 0,
                false, 35, 16_384, null, true);
        assertEquals("{\"status\":\"ready\",\"flushFailures\":0,\"pendingWindows\":0,\"spooledWindows\":0,"
                + "\"walBytes\":35,\"remoteWrite\":\"ok\"}", AdminRoutes.body(exporting));
    }

    @Test
    void bearerTokens() {
        assertEquals("t", AuthGate.bearer("Bearer t"));
        assertEquals("t", AuthGate.bearer("bEARER  t "));
        assertEquals(null, AuthGate.bearer("Basic dTpw"));
        assertEquals(null, AuthGate.bearer((String) null));
    }
}
