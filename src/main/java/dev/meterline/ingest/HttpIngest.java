package dev.meterline.ingest;

import dev.meterline.config.Durations;
import dev.meterline.config.IngestConfig;
import dev.meterline.config.Overflow;
import dev.meterline.http.EventLoops;
import dev.meterline.http.ExactPath;
import dev.meterline.http.JsonResponses;
import dev.meterline.http.Routes;
import dev.meterline.model.Batch;
import dev.meterline.model.Reject;
import dev.meterline.telemetry.PipelineMetrics;
import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;
import reactor.netty.http.server.HttpServerRequest;
import reactor.netty.http.server.HttpServerResponse;
import reactor.netty.http.server.HttpServerRoutes;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Executor;
import java.util.function.LongSupplier;
import java.util.zip.GZIPInputStream;

/**
 * {@code POST /api/v1/points}: the same NDJSON as TCP in a request body (optionally gzip), answered with the
 * accepted and rejected counts and the first {@value #MAX_ERRORS} errors.
 */
public final class HttpIngest implements Routes {

    static final int MAX_ERRORS = 100;
    private static final int CHUNK = 64 * 1024;
    /** Seconds a client is asked to wait while ingest is paused for storage (a flush retry runs in that time). */
    static final int PAUSED_RETRY_AFTER_SECONDS = 5;

    private final IngestConfig config;
    private final IngestCodec codec;
    private final IngestBuffer buffer;
    private final IngestHub hub;
    private final PipelineMetrics metrics;
    private final LongSupplier clock;

    public HttpIngest(IngestConfig config, IngestCodec codec, IngestBuffer buffer, IngestHub hub,
                      PipelineMetrics metrics, LongSupplier clock) {
        this.config = config;
        this.codec = codec;
        this.buffer = buffer;
        this.hub = hub;
        this.metrics = metrics;
        this.clock = clock;
    }

    @Override
    public void register(HttpServerRoutes routes) {
        routes.route(ExactPath.post("/api/v1/points"), this::handle);
    }

    /** Handles one POST of points. */
    Mono<Void> handle(HttpServerRequest req, HttpServerResponse res) {
        String encoding = req.requestHeaders().get(HttpHeaderNames.CONTENT_ENCODING, "identity").trim()
                .toLowerCase(Locale.ROOT);
        boolean gzip = encoding.equals("gzip") || encoding.equals("x-gzip");
        if (!gzip && !encoding.equals("identity")) {
            return error(res, HttpResponseStatus.UNSUPPORTED_MEDIA_TYPE,
                    "Content-Encoding: " + encoding + " (expected: identity or gzip)");
        }
        long declared = req.requestHeaders().getInt(HttpHeaderNames.CONTENT_LENGTH, -1);
        if (declared > config.maxBodyBytes()) {
            return tooLarge(res);
        }
        if (hub.closed()) {
            return error(res, HttpResponseStatus.SERVICE_UNAVAILABLE, "shutting down");
        }
        if (buffer.paused()) {
            res.header(HttpHeaderNames.RETRY_AFTER, String.valueOf(PAUSED_RETRY_AFTER_SECONDS));
            return error(res, HttpResponseStatus.SERVICE_UNAVAILABLE,
                    "ingest paused: windows waiting for storage or the write-ahead log are at their bound; retry later");
        }
        HttpReplies replies = new HttpReplies();
        Executor loop = EventLoops.of(req);
        IngestSession session = new IngestSession(codec, buffer, metrics, clock, replies, loop);
        BodyLimit limit = new BodyLimit(config.maxBodyBytes());
        Flux<byte[]> chunks = gzip ? gunzip(req, limit) : plain(req, limit);
        Flux<Batch> batches = chunks
                .concatMap(chunk -> admitAll(session.decode(chunk, 0, chunk.length), loop), 0)
                .onErrorResume(BodyTooLarge.class, e -> {
                    replies.tooLarge = true;
                    return Flux.empty();
                })
                .onErrorResume(BadGzip.class, e -> {
                    replies.badGzip = e.getMessage();
                    return Flux.empty();
                })
                // A reset, a timeout or a framing error ends this request's input; never the pipeline.
                .onErrorResume(e -> {
                    replies.incomplete = true;
                    return Flux.empty();
                })
                .concatWith(Flux.defer(() -> {
                    if (replies.tooLarge || replies.incomplete) {
                        // The limit, the request timeout or a reset cut the body: the line it left half-read was not
                        // sent that way, so it is dropped rather than answered as invalid (as on TCP).
                        session.discardPartialLine();
                    }
                    return admitAll(session.finish(), loop);
                }));
        if (!hub.attach(session, batches)) {
            return error(res, HttpResponseStatus.SERVICE_UNAVAILABLE, "shutting down");
        }
        // Answered on the event loop, not the pipeline thread that completed the session: see
        // EventLoops (a keep-alive connection could otherwise stop reading). Not after a request
        // timeout: the connection is being closed then, and the 408 must be written before the close runs there.
        return session.done().then(Mono.defer(() -> replies.incomplete ? respond(res, replies)
                : Mono.defer(() -> respond(res, replies)).subscribeOn(Schedulers.fromExecutor(loop))));
    }

    private Flux<Batch> admitAll(List<Batch> batches, Executor loop) {
        return Flux.fromIterable(batches).concatMap(b -> buffer.admit(b, loop), 0);
    }

    private static Flux<byte[]> plain(HttpServerRequest req, BodyLimit limit) {
        return req.receive().map(buf -> limit.copy(buf));
    }

    /** Collects the compressed body (bounded), then inflates it chunk by chunk, bounding the inflated size too. */
    private static Flux<byte[]> gunzip(HttpServerRequest req, BodyLimit limit) {
        BodyLimit compressedLimit = new BodyLimit(limit.max);
        return req.receive()
                .reduce(new ByteArrayOutputStream(), (acc, buf) -> {
                    byte[] b = compressedLimit.copy(buf);
                    acc.write(b, 0, b.length);
                    return acc;
                })
                .flatMapMany(acc -> Flux.using(
                        () -> new GZIPInputStream(new ByteArrayInputStream(acc.toByteArray()), CHUNK),
                        in -> Flux.<byte[]>generate(sink -> {
                            byte[] chunk = readChunk(in);
                            if (chunk == null) {
                                sink.complete();
                            } else {
                                limit.count(chunk.length);
                                sink.next(chunk);
                            }
                        }),
                        in -> {
                            try {
                                in.close();
                            } catch (IOException ignored) {
                                // in-memory stream
                            }
                        }))
                .onErrorMap(UncheckedIOException.class, e -> new BadGzip(e.getCause().getMessage()))
                .onErrorMap(IOException.class, e -> new BadGzip(e.getMessage()));
    }

    private static byte[] readChunk(InputStream in) {
        try {
            byte[] chunk = new byte[CHUNK];
            int n = in.readNBytes(chunk, 0, CHUNK);
            if (n <= 0) {
                return null;
            }
            return n == CHUNK ? chunk : java.util.Arrays.copyOf(chunk, n);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private Mono<Void> respond(HttpServerResponse res, HttpReplies r) {
        IngestSession.Totals t = r.totals;
        HttpResponseStatus status = HttpResponseStatus.OK;
        StringBuilder sb = new StringBuilder(256);
        sb.append('{');
        if (r.badGzip != null) {
            status = HttpResponseStatus.BAD_REQUEST;
            sb.append("\"error\":");
            IngestCodec.quote(sb, "body is not valid gzip: " + r.badGzip);
            sb.append(',');
        } else if (r.incomplete) {
            status = HttpResponseStatus.REQUEST_TIMEOUT;
            sb.append("\"error\":\"body not received within ").append(Durations.format(config.requestTimeout()))
                    .append("; lines before were processed\",");
        } else if (r.tooLarge) {
            status = HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE;
            sb.append("\"error\":\"body exceeds ").append(config.maxBodyBytes())
                    .append(" bytes; lines before the limit were processed\",");
        } else if (t.dropped() > 0) {
            status = HttpResponseStatus.TOO_MANY_REQUESTS;
            res.header(HttpHeaderNames.RETRY_AFTER, "1");
            sb.append("\"error\":\"overloaded\",");
        }
        sb.append("\"accepted\":").append(t.accepted()).append(",\"rejected\":").append(t.rejected());
        if (config.overflow() == Overflow.DROP) {
            sb.append(",\"dropped\":").append(t.dropped());
        }
        sb.append(",\"errors\":[");
        for (int i = 0; i < r.errors.size(); i++) {
            Reject e = r.errors.get(i);
            if (i > 0) {
                sb.append(',');
            }
            sb.append("{\"line\":").append(e.line()).append(",\"error\":");
            IngestCodec.quote(sb, e.message());
            sb.append('}');
        }
        sb.append("]}");
        return res.status(status).header(HttpHeaderNames.CONTENT_TYPE, "application/json")
                .sendString(Mono.just(sb.toString())).then();
    }

    private Mono<Void> tooLarge(HttpServerResponse res) {
        return error(res, HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE,
                "body exceeds " + config.maxBodyBytes() + " bytes");
    }

    private static Mono<Void> error(HttpServerResponse res, HttpResponseStatus status, String message) {
        return JsonResponses.error(res, status, message);
    }

    /** Collects the outcome of one request. */
    private static final class HttpReplies implements IngestSession.Replies {
        final List<Reject> errors = new ArrayList<>();
        volatile IngestSession.Totals totals = new IngestSession.Totals(0, 0, 0);
        volatile boolean tooLarge;
        volatile boolean incomplete;
        volatile String badGzip;

        @Override
        public void completed(Batch batch, List<Reject> rejects, boolean overloadBurstStart,
                              IngestSession.Totals t) {
            for (Reject r : rejects) {
                if (errors.size() >= MAX_ERRORS) {
                    break;
                }
                errors.add(r);
            }
        }

        @Override
        public void finished(IngestSession.Totals t) {
            totals = t;
        }
    }

    /** Counts body bytes and fails the body once it passes the limit. */
    private static final class BodyLimit {
        final long max;
        long seen;

        BodyLimit(long max) {
            this.max = max;
        }

        void count(int n) {
            seen += n;
            if (seen > max) {
                throw new BodyTooLarge();
            }
        }

        byte[] copy(ByteBuf buf) {
            count(buf.readableBytes());
            byte[] b = new byte[buf.readableBytes()];
            buf.getBytes(buf.readerIndex(), b);
            return b;
        }
    }

    private static final class BodyTooLarge extends RuntimeException {
        private static final long serialVersionUID = 1L;

        BodyTooLarge() {
            super("body too large", null, false, false);
        }
    }

    private static final class BadGzip extends RuntimeException {
        private static final long serialVersionUID = 1L;

        BadGzip(String message) {
            super(message, null, false, false);
        }
    }
}
