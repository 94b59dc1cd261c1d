package dev.meterline.export;

import dev.meterline.config.RemoteWriteConfig;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelOption;
import io.netty.handler.codec.http.HttpHeaderNames;
import reactor.core.publisher.Mono;
import reactor.netty.ByteBufFlux;
import reactor.netty.http.client.HttpClient;
import reactor.netty.resources.ConnectionProvider;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;

/**
 * Posts snappy-compressed {@code WriteRequest}s to the receiver with the remote write 1.0 headers, on Reactor Netty's
 * non-blocking client. A reply is never an error: a failure to connect or a timeout is a {@link Reply} of status 0.
 */
final class RemoteWriteClient implements AutoCloseable {

    /** Longest part of a receiver's message kept (logs, readiness). */
    static final int MAX_MESSAGE = 512;

    /** What the receiver answered; status 0 when no answer came, with the reason in {@code message}. */
    record Reply(int status, String retryAfter, String message) {

        boolean ok() {
            return status >= 200 && status < 300;
        }

        /** 5xx, 429, and no answer at all are retried; every other status is final. */
        boolean retryable() {
            return status == 0 || status == 429 || status >= 500;
        }
    }

    private final ConnectionProvider connections;
    private final HttpClient client;
    private final URI uri;
    private final Duration timeout;
    private final NoAnswer noAnswer;

    RemoteWriteClient(RemoteWriteConfig config, String userAgent) {
        // A java.net.URI, not the String: Reactor Netty's own URL pattern takes a one-digit port (":9") for part of
        // the host name and sends it to the DNS resolver.
        this.uri = URI.create(config.url());
        this.timeout = config.timeout();
        this.noAnswer = new NoAnswer(uri, timeout);
        this.connections = ConnectionProvider.builder("meterline-remote-write")
                .maxConnections(Math.max(2, config.concurrency())).pendingAcquireMaxCount(16).build();
        HttpClient c = HttpClient.create(connections)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE, timeout.toMillis()))
                .responseTimeout(timeout)
                .headers(h -> {
                    h.set(HttpHeaderNames.CONTENT_TYPE, "application/x-protobuf");
                    h.set(HttpHeaderNames.CONTENT_ENCODING, "snappy");
                    h.set(HttpHeaderNames.USER_AGENT, userAgent);
                    h.set("X-Prometheus-Remote-Write-Version", "0.1.0");
                    if (!config.bearerToken().isEmpty()) {
                        h.set(HttpHeaderNames.AUTHORIZATION, "Bearer " + config.bearerToken());
                    }
                    for (Map.Entry<String, String> e : config.headers().entrySet()) {
                        h.set(e.getKey(), e.getValue());
                    }
                });
        if ("https".equals(uri.getScheme())) {
            c = c.secure();
        }
        this.client = c;
    }

    /** Posts {@code body} (already compressed). */
    Mono<Reply> send(byte[] body) {
        return client.post()
                .uri(uri)
                .send(ByteBufFlux.fromInbound(Mono.fromSupplier(() -> Unpooled.wrappedBuffer(body))))
                .responseSingle((res, content) -> content.asString(StandardCharsets.UTF_8).defaultIfEmpty("")
                        .map(text -> new Reply(res.status().code(), res.responseHeaders().get("Retry-After"),
                                shorten(text))))
                .timeout(timeout.plusSeconds(1))
                .onErrorResume(e -> Mono.just(new Reply(0, null, shorten(noAnswer.describe(e)))));
    }

    static String shorten(String text) {
        String one = text.strip().replaceAll("\\s*\\R\\s*", " ");
        return one.length() <= MAX_MESSAGE ? one : one.substring(0, MAX_MESSAGE) + "…";
    }

    @Override
    public void close() {
        connections.disposeLater().block(Duration.ofSeconds(2));
    }
}
