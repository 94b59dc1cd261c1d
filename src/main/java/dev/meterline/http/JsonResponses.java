package dev.meterline.http;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import reactor.core.publisher.Mono;
import reactor.netty.http.server.HttpServerResponse;

import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/**
 * The one way an HTTP route answers: a JSON body with its status, and the error body {@code {"error":"…"}}.
 *
 * <p>A body is sent as the UTF-8 bytes of its text, encoded by {@link String#getBytes} (for ASCII text a copy, cheap
 * even before the JIT has compiled the caller) rather than by the transport's per-character encoder, and handed to
 * the response as one buffer rather than as a publisher of one.
 */
public final class JsonResponses {

    private static final JsonFactory JSON = new JsonFactory();

    private JsonResponses() {
    }

    /** Writes a JSON body onto a generator. */
    @FunctionalInterface
    public interface Body {
        void write(JsonGenerator g) throws IOException;
    }

    /** Answers with the JSON the body writes. */
    public static Mono<Void> json(HttpServerResponse res, HttpResponseStatus status, Body body) {
        StringWriter w = new StringWriter(256);
        try (JsonGenerator g = JSON.createGenerator(w)) {
            body.write(g);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return raw(res, status, w.toString());
    }

    /** Answers with JSON text already encoded. */
    public static Mono<Void> raw(HttpServerResponse res, HttpResponseStatus status, String json) {
        return res.status(status).header(HttpHeaderNames.CONTENT_TYPE, "application/json")
                .sendObject(Unpooled.wrappedBuffer(json.getBytes(StandardCharsets.UTF_8))).then();
    }

    /** The error body every route uses: {@code {"error":"message"}}. */
    public static Mono<Void> error(HttpServerResponse res, HttpResponseStatus status, String message) {
        return json(res, status, g -> {
            g.writeStartObject();
            g.writeStringField("error", message);
            g.writeEndObject();
        });
    }
}
