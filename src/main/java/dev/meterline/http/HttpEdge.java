package dev.meterline.http;

import dev.meterline.config.IngestConfig;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.ssl.SslContext;
import reactor.netty.http.HttpProtocol;
import reactor.netty.http.server.HttpServer;
import reactor.netty.http.server.HttpServerRoutes;
import reactor.netty.resources.LoopResources;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * The HTTP server and the one place its routes are put together: the open groups first (served without a token),
 * then the authentication gate (when there is one), then each feature's route group in the order given, then the
 * 404 for every other path.
 */
public final class HttpEdge {

    /** Longest HTTP request line (method, URI, version), in bytes; longer is refused with 414. */
    public static final int MAX_INITIAL_LINE = 8192;
    /** Largest HTTP header block, in bytes; larger is refused with 431. */
    public static final int MAX_HEADERS = 16384;

    private HttpEdge() {
    }

    /**
     * Every route of the server, as the server and the tests mount them.
     *
     * @param gate   the authentication gate, or null when no tokens are configured
     * @param groups the route groups, in the order they are tried
     */
    public static Consumer<HttpServerRoutes> routes(Routes gate, List<Routes> groups) {
        return routes(List.of(), gate, groups);
    }

    /**
     * As above, with route groups served before the gate, to anyone: only groups that hold no data belong there.
     *
     * @param open   the groups tried before the gate
     * @param gate   the authentication gate, or null when no tokens are configured
     * @param groups the route groups behind the gate, in the order they are tried
     */
    public static Consumer<HttpServerRoutes> routes(List<Routes> open, Routes gate, List<Routes> groups) {
        List<Routes> all = new ArrayList<>(open.size() + groups.size() + 2);
        all.addAll(open);
        if (gate != null) {
            all.add(gate);
        }
        all.addAll(groups);
        all.add(HttpEdge::notFound);
        List<Routes> ordered = List.copyOf(all);
        return routes -> ordered.forEach(r -> r.register(routes));
    }

    private static void notFound(HttpServerRoutes routes) {
        routes.route(req -> true, (req, res) -> JsonResponses.error(res, HttpResponseStatus.NOT_FOUND,
                "no route for " + req.method() + " " + req.fullPath()));
    }

    /**
     * The HTTP/1.1 server on the ingest bind address and HTTP port, on {@code loops}, TLS when a context is given,
     * not yet bound.
     */
    public static HttpServer server(IngestConfig config, SslContext tls, Duration handshakeTimeout,
                                    LoopResources loops, Consumer<HttpServerRoutes> routes) {
        HttpServer http = HttpServer.create();
        if (tls != null) {
            http = http.secure(spec -> spec.sslContext(tls).handshakeTimeout(handshakeTimeout));
        }
        return http.host(config.bind())
                .port(config.httpPort())
                .runOn(loops)
                .protocol(HttpProtocol.HTTP11)
                .httpRequestDecoder(spec -> spec.maxInitialLineLength(MAX_INITIAL_LINE).maxHeaderSize(MAX_HEADERS))
                .idleTimeout(config.idleTimeout())
                .readTimeout(config.requestTimeout())
                .requestTimeout(config.requestTimeout())
                .route(routes);
    }
}
