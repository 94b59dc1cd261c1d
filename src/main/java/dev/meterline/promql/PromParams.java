package dev.meterline.promql;

import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.QueryStringDecoder;
import reactor.core.publisher.Mono;
import reactor.netty.http.server.HttpServerRequest;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** The parameters of an API request, from its query string and a POST's form body, and the plain ones read out. */
final class PromParams {

    private PromParams() {
    }

    /** The query string's parameters, and for a POST those of its form body too (the body's first). */
    static Mono<Map<String, List<String>>> of(HttpServerRequest req, long maxBodyBytes) {
        Map<String, List<String>> fromUri = new QueryStringDecoder(req.uri()).parameters();
        if (req.method() != HttpMethod.POST) {
            return Mono.just(fromUri);
        }
        String type = req.requestHeaders().get(HttpHeaderNames.CONTENT_TYPE, "");
        return req.receive().reduceWith(ByteArrayOutputStream::new, (out, buf) -> append(out, buf, maxBodyBytes))
                .defaultIfEmpty(new ByteArrayOutputStream())
                .map(body -> {
                    if (body.size() > 0 && !type.toLowerCase(Locale.ROOT)
                            .startsWith("application/x-www-form-urlencoded")) {
                        throw PromException.badData("a POST body must be a form, Content-Type "
                                + "application/x-www-form-urlencoded (got: '" + type + "')");
                    }
                    Map<String, List<String>> all = new LinkedHashMap<>(new QueryStringDecoder(
                            body.toString(StandardCharsets.UTF_8), StandardCharsets.UTF_8, false).parameters());
                    fromUri.forEach((k, v) -> all.merge(k, v, (a, b) -> {
                        List<String> both = new ArrayList<>(a);
                        both.addAll(b);
                        return both;
                    }));
                    return all;
                });
    }

    private static ByteArrayOutputStream append(ByteArrayOutputStream out, ByteBuf buf, long maxBodyBytes) {
        if (out.size() + (long) buf.readableBytes() > maxBodyBytes) {
            throw PromException.badData("request body larger than " + maxBodyBytes
                    + " bytes (expected: at most --max-body-bytes)");
        }
        byte[] bytes = new byte[buf.readableBytes()];
        buf.readBytes(bytes);
        out.write(bytes, 0, bytes.length);
        return out;
    }

    /** The first value of parameter {@code name}, or null. */
    static String one(Map<String, List<String>> p, String name) {
        List<String> v = p.get(name);
        return v == null || v.isEmpty() ? null : v.get(0);
    }

    /** The first value of {@code start}, {@code end} or {@code step}, which must be given. */
    static String required(Map<String, List<String>> p, String name) {
        String v = one(p, name);
        if (v == null || v.isEmpty()) {
            throw PromException.badData("invalid parameter \"" + name + "\": cannot parse \"\" to a valid "
                    + (name.equals("step") ? "duration" : "timestamp"));
        }
        return v;
    }

    /** The {@code limit} parameter; absent or 0 means no limit. */
    static int limit(Map<String, List<String>> p) {
        String v = one(p, "limit");
        if (v == null || v.isEmpty()) {
            return Integer.MAX_VALUE;
        }
        try {
            int n = Integer.parseInt(v);
            if (n >= 0) {
                return n == 0 ? Integer.MAX_VALUE : n;
            }
        } catch (NumberFormatException ignored) {
            // reported below
        }
        throw PromException.badData("invalid parameter \"limit\": '" + v + "' (expected: a whole number >= 0)");
    }
}
