package dev.meterline.http;

import com.fasterxml.jackson.core.io.JsonStringEncoder;
import dev.meterline.lifecycle.ReadinessCheck;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import reactor.core.publisher.Mono;
import reactor.netty.http.server.HttpServerResponse;
import reactor.netty.http.server.HttpServerRoutes;

import java.util.function.Supplier;

import static java.util.Objects.requireNonNull;

/** The operator's routes: {@code /healthz}, {@code /readyz} with its body, and the Prometheus {@code /metrics}. */
public final class AdminRoutes implements Routes {

    private final Supplier<ReadinessCheck> readiness;
    private final Supplier<String> scrape;

    /**
     * @param readiness the current readiness, read per request
     * @param scrape    the Prometheus text exposition of the registry
     */
    public AdminRoutes(Supplier<ReadinessCheck> readiness, Supplier<String> scrape) {
        this.readiness = requireNonNull(readiness, "readiness");
        this.scrape = requireNonNull(scrape, "scrape");
    }

    @Override
    public void register(HttpServerRoutes routes) {
        routes.route(ExactPath.get("/healthz"),
                        (req, res) -> JsonResponses.raw(res, HttpResponseStatus.OK, "{\"status\":\"ok\"}"))
                .route(ExactPath.get("/readyz"), (req, res) -> readyz(res, readiness.get()))
                .route(ExactPath.get("/metrics"), (req, res) -> res
                        .header(HttpHeaderNames.CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")
                        .sendString(Mono.fromSupplier(scrape)).then());
    }

    /** 200 while ready (also degraded), 503 otherwise; the body names the status, the reason and the backlog. */
    static Mono<Void> readyz(HttpServerResponse res, ReadinessCheck check) {
        return JsonResponses.raw(res, check.ready() ? HttpResponseStatus.OK : HttpResponseStatus.SERVICE_UNAVAILABLE,
                body(check));
    }

    static String body(ReadinessCheck check) {
        StringBuilder body = new StringBuilder(256).append("{\"status\":\"").append(check.status()).append('"');
        String reason = check.reason();
        if (reason != null) {
            body.append(",\"reason\":\"").append(JsonStringEncoder.getInstance().quoteAsString(reason)).append('"');
        }
        body.append(",\"flushFailures\":").append(check.flushFailures())
                .append(",\"pendingWindows\":").append(check.pendingWindows())
                .append(",\"spooledWindows\":").append(check.spooledWindows())
                .append(",\"walBytes\":").append(check.walBytes());
        if (check.remoteWriteOn()) {
            // Ingest does not depend on the receiver: readiness stays as it is and the body tells.
            body.append(",\"remoteWrite\":\"").append(check.remoteWriteProblem() == null ? "ok"
                    : new String(JsonStringEncoder.getInstance().quoteAsString(check.remoteWriteProblem())))
                    .append('"');
        }
        return body.append('}').toString();
    }
}
