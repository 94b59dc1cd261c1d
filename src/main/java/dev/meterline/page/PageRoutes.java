package dev.meterline.page;

import dev.meterline.http.JsonResponses;
import dev.meterline.http.Routes;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.QueryStringDecoder;
import reactor.core.publisher.Mono;
import reactor.netty.http.server.HttpServerRequest;
import reactor.netty.http.server.HttpServerResponse;
import reactor.netty.http.server.HttpServerRoutes;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The built-in page: {@code GET /} and its files under {@code /page/}, read once from the jar and served with their
 * content type, an ETag and a cache policy, by GET and HEAD. Only the files named here exist; any other path under
 * {@code /page/} is a 404, so no request can reach another resource of the jar or the file system.
 */
public final class PageRoutes implements Routes {

    /** The uPlot webjar's version; its files are served under a path that names it, so they can be cached for good. */
    static final String UPLOT_VERSION = "1.6.30";
    static final String PREFIX = "/page/";
    /** Page files: revalidated on every use (the same names serve the next release). */
    static final String REVALIDATE = "no-cache";
    /** Files whose path names their version never change. */
    static final String IMMUTABLE = "public, max-age=31536000, immutable";
    /**
     * The page loads only its own files and talks only to this server; inline style attributes are allowed for the
     * chart library, which positions its parts with them.
     */
    static final String CSP = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
            + "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'";

    private static final String HTML = "text/html; charset=utf-8";
    private static final String JS = "text/javascript; charset=utf-8";
    private static final String CSS = "text/css; charset=utf-8";

    private final Map<String, Asset> assets;

    /** Reads the page's files from the class path; fails at start, naming the file, when one is missing. */
    public PageRoutes() {
        Map<String, Asset> a = new LinkedHashMap<>();
        a.put("/", load("page/index.html", HTML, REVALIDATE));
        a.put(PREFIX + "app.js", load("page/app.js", JS, REVALIDATE));
        a.put(PREFIX + "page.css", load("page/page.css", CSS, REVALIDATE));
        String uplot = "META-INF/resources/webjars/uplot/" + UPLOT_VERSION + "/dist/";
        String served = PREFIX + "uplot/" + UPLOT_VERSION + "/";
        a.put(served + "uPlot.iife.min.js", load(uplot + "uPlot.iife.min.js", JS, IMMUTABLE));
        a.put(served + "uPlot.min.css", load(uplot + "uPlot.min.css", CSS, IMMUTABLE));
        a.put(served + "LICENSE", load("META-INF/resources/webjars/uplot/" + UPLOT_VERSION + "/LICENSE",
                "text/plain; charset=utf-8", IMMUTABLE));
        this.assets = Map.copyOf(a);
    }

    /**
     * Registers the page's routes. Registered before the token check, they are served without a token: the page holds
     * no data, and asks for a token before it reads any.
     */
    @Override
    public void register(HttpServerRoutes routes) {
        routes.route(req -> (req.method().equals(HttpMethod.GET) || req.method().equals(HttpMethod.HEAD))
                && isPageUri(req.uri()), this::serve);
    }

    /**
     * Whether the URI's path (up to a {@code ?} or {@code #}) is the page's: tested on the URI itself, as every request
     * is, so the API's requests are not parsed here.
     */
    static boolean isPageUri(String uri) {
        return uri.startsWith(PREFIX) || uri.equals("/") || uri.startsWith("/?") || uri.startsWith("/#");
    }

    private static String rawPath(HttpServerRequest req) {
        return new QueryStringDecoder(req.uri()).rawPath();
    }

    private Mono<Void> serve(HttpServerRequest req, HttpServerResponse res) {
        Asset a = assets.get(rawPath(req));
        if (a == null) {
            return JsonResponses.error(res, HttpResponseStatus.NOT_FOUND, "no page file " + rawPath(req));
        }
        res.header(HttpHeaderNames.CACHE_CONTROL, a.cacheControl())
                .header(HttpHeaderNames.ETAG, a.etag())
                .header("X-Content-Type-Options", "nosniff")
                .header("Referrer-Policy", "no-referrer");
        if (a.contentType().startsWith("text/html")) {
            res.header("Content-Security-Policy", CSP);
        }
        if (a.etag().equals(req.requestHeaders().get(HttpHeaderNames.IF_NONE_MATCH))) {
            return res.status(HttpResponseStatus.NOT_MODIFIED).send();
        }
        res.header(HttpHeaderNames.CONTENT_TYPE, a.contentType())
                .header(HttpHeaderNames.CONTENT_LENGTH, Integer.toString(a.body().length));
        if (req.method().equals(HttpMethod.HEAD)) {
            return res.send();
        }
        return res.send(Mono.fromSupplier(() -> Unpooled.wrappedBuffer(a.body()))).then();
    }

    private static Asset load(String resource, String contentType, String cacheControl) {
        try (InputStream in = PageRoutes.class.getClassLoader().getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("page file missing from the class path: " + resource);
            }
            byte[] body = in.readAllBytes();
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(body);
            String etag = "\"" + HexFormat.of().formatHex(digest, 0, 12) + "\"";
            return new Asset(body, contentType, cacheControl, etag);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read page file " + resource, e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** One served file. */
    private record Asset(byte[] body, String contentType, String cacheControl, String etag) {
    }
}
