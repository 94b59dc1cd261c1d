package dev.meterline.http;

import io.netty.handler.codec.http.HttpMethod;
import reactor.netty.http.server.HttpServerRequest;

import java.util.function.Predicate;

import static java.util.Objects.requireNonNull;

/**
 * A route's test for one method and one literal path, the same test as reactor-netty's {@code routes.get(path, …)}
 * without its regular expression: the request's path (the URI up to its last {@code ?}) is compared as a string.
 * Every request tries the routes in order until one matches, so each route before the right one costs every request
 * its test; a regular expression run per route and request is most of the routing's cost while it runs interpreted.
 */
public final class ExactPath implements Predicate<HttpServerRequest> {

    private final HttpMethod method;
    private final String path;

    private ExactPath(HttpMethod method, String path) {
        this.method = method;
        this.path = path;
    }

    /** GET of {@code path}, a literal path starting with {@code /} (no template variables, no wildcards). */
    public static ExactPath get(String path) {
        return new ExactPath(HttpMethod.GET, literal(path));
    }

    /** POST of {@code path}, a literal path starting with {@code /}. */
    public static ExactPath post(String path) {
        return new ExactPath(HttpMethod.POST, literal(path));
    }

    private static String literal(String path) {
        requireNonNull(path, "path");
        // Only characters that stand for themselves in reactor-netty's template, so both tests agree.
        if (!path.startsWith("/") || !path.matches("[A-Za-z0-9/_-]*")) {
            throw new IllegalArgumentException("path: '" + path + "' (expected: a literal path starting with /)");
        }
        return path;
    }

    @Override
    public boolean test(HttpServerRequest req) {
        if (!method.equals(req.method())) {
            return false;
        }
        String uri = req.uri();
        if (!uri.startsWith("/")) {
            uri = pathOfAbsolute(uri);
        }
        int query = uri.lastIndexOf('?');
        int end = query < 0 ? uri.length() : query;
        return end == path.length() && uri.startsWith(path);
    }

    /**
     * The path of an absolute URI ({@code http://host:port/path?query}, as a proxy sends it): what follows the scheme
     * and the authority, from the first {@code /} or {@code ?}; {@code /} when nothing does.
     */
    static String pathOfAbsolute(String uri) {
        int scheme = uri.indexOf("://");
        int from = scheme < 0 ? 0 : scheme + 3;
        for (int i = from; i < uri.length(); i++) {
            char c = uri.charAt(i);
            if (c == '/' || c == '?') {
                return uri.substring(i);
            }
        }
        return "/";
    }

    @Override
    public String toString() {
        return method + " " + path;
    }
}
