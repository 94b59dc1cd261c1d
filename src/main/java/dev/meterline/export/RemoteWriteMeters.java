package dev.meterline.export;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/** The meters of remote write: samples sent, failed (retried) and rejected by reason, requests, lag. */
final class RemoteWriteMeters {

    /** Why samples failed and will be sent again. */
    enum FailReason {
        SERVER_ERROR, TOO_MANY_REQUESTS, UNREACHABLE;

        static FailReason of(int status) {
            return status == 0 ? UNREACHABLE : status == 429 ? TOO_MANY_REQUESTS : SERVER_ERROR;
        }

        String tag() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /** Why the receiver refused samples for good (a 4xx other than 429); they are skipped. */
    enum RejectReason {
        BAD_REQUEST, UNAUTHORIZED, FORBIDDEN, NOT_FOUND, PAYLOAD_TOO_LARGE, UNSUPPORTED_MEDIA_TYPE, OTHER;

        static RejectReason of(int status) {
            return switch (status) {
                case 400 -> BAD_REQUEST;
                case 401 -> UNAUTHORIZED;
                case 403 -> FORBIDDEN;
                case 404 -> NOT_FOUND;
                case 413 -> PAYLOAD_TOO_LARGE;
                case 415 -> UNSUPPORTED_MEDIA_TYPE;
                default -> OTHER;
            };
        }

        String tag() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    final Counter sent;
    private final Map<FailReason, Counter> failed = new EnumMap<>(FailReason.class);
    private final Map<RejectReason, Counter> rejected = new EnumMap<>(RejectReason.class);
    final Counter corrections;
    private final Timer requestsSent;
    private final Timer requestsRetried;
    private final Timer requestsRejected;
    final AtomicLong lagMillis = new AtomicLong();
    final AtomicLong lagWindows = new AtomicLong();
    final AtomicLong leader = new AtomicLong();
    final AtomicLong inFlight = new AtomicLong();

    RemoteWriteMeters(MeterRegistry registry) {
        sent = Counter.builder("meterline.remote.write.samples.sent")
                .description("samples the receiver accepted").register(registry);
        for (FailReason r : FailReason.values()) {
            failed.put(r, Counter.builder("meterline.remote.write.samples.failed").tag("reason", r.tag())
                    .description("samples of requests that failed and are retried").register(registry));
        }
        for (RejectReason r : RejectReason.values()) {
            rejected.put(r, Counter.builder("meterline.remote.write.samples.rejected").tag("reason", r.tag())
                    .description("samples the receiver refused for good (4xx), skipped").register(registry));
        }
        corrections = Counter.builder("meterline.remote.write.corrections.unsent")
                .description("partial windows stored after their window was sent; receivers keep the first value")
                .register(registry);
        requestsSent = timer(registry, "sent");
        requestsRetried = timer(registry, "retried");
        requestsRejected = timer(registry, "rejected");
        Gauge.builder("meterline.remote.write.lag", lagMillis, v -> v.get() / 1000.0).baseUnit("seconds")
                .description("how far the export is behind the newest window it may send").register(registry);
        Gauge.builder("meterline.remote.write.lag.windows", lagWindows, AtomicLong::get)
                .description("export slices waiting to be sent").register(registry);
        Gauge.builder("meterline.remote.write.requests.in.flight", inFlight, AtomicLong::get)
                .description("remote write requests sent and not yet answered, at most remote-write-concurrency")
                .register(registry);
        Gauge.builder("meterline.remote.write.leader", leader, AtomicLong::get)
                .description("1 while this replica is the one exporting, else 0").register(registry);
    }

    private static Timer timer(MeterRegistry registry, String outcome) {
        return Timer.builder("meterline.remote.write.requests").tag("outcome", outcome)
                .description("remote write requests and their duration").register(registry);
    }

    void request(RemoteWriteClient.Reply reply, long nanos) {
        Timer t = reply.ok() ? requestsSent : reply.retryable() ? requestsRetried : requestsRejected;
        t.record(nanos, TimeUnit.NANOSECONDS);
    }

    void failed(int status, int samples) {
        failed.get(FailReason.of(status)).increment(samples);
    }

    void rejected(int status, int samples) {
        rejected.get(RejectReason.of(status)).increment(samples);
    }
}
