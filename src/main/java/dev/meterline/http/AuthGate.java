package dev.meterline.http;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import reactor.netty.http.server.HttpServerRequest;
import reactor.netty.http.server.HttpServerRoutes;

import java.util.Set;
import java.util.function.Predicate;

import static java.util.Objects.requireNonNull;

/**
 * The first route when tokens are configured: every request to a closed path without an accepted bearer token is
 * answered 401 here, before any feature's route sees it.
 */
public final class AuthGate implements Routes {

    private final Predicate<String> acceptsToken;
    private final Set<String> openPaths;
    private final Runnable refused;

    /**
     * @param acceptsToken whether a bearer token (null when the request has none) is accepted
     * @param openPaths    paths served without a token, each starting with {@code /}
     * @param refused      called once per refused request (a counter)
     */
    public AuthGate(Predicate<String> acceptsToken, Set<String> openPaths, Runnable refused) {
        this.acceptsToken = requireNonNull(acceptsToken, "acceptsToken");
        this.openPaths = Set.copyOf(openPaths);
        this.refused = requireNonNull(refused, "refused");
    }

    @Override
    public void register(HttpServerRoutes routes) {
        routes.route(req -> !openPaths.contains("/" + req.path()) && !acceptsToken.test(bearer(req)),
                (req, res) -> {
                    refused.run();
                    res.header(HttpHeaderNames.WWW_AUTHENTICATE, "Bearer");
                    return JsonResponses.error(res, HttpResponseStatus.UNAUTHORIZED, "missing or invalid bearer token");
                });
    }

    /** The token of an {@code Authorization: Bearer …} header, or null. */
    public static String bearer(HttpServerRequest req) {
        return bearer(req.requestHeaders().get(HttpHeaderNames.AUTHORIZATION));
    }

    /** The token of an {@code Authorization} header value of the bearer scheme, or null. */
    public static String bearer(String header) {
        if (header == null || header.length() < 7 || !header.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return null;
        }
        return header.substring(7).trim();
    }
}
