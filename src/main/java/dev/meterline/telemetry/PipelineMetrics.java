package dev.meterline.telemetry;

import dev.meterline.model.DropReason;
import dev.meterline.model.RejectReason;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

import static dev.meterline.telemetry.MeterNames.*;
import static java.util.Objects.requireNonNull;

/**
 * Meterline's own meters: one place that names them, registers them on an injected registry, and reads them back
 * for {@code /api/v1/stats} and the stats log line. Tags come from enums only, never from user data.
 */
public final class PipelineMetrics {


    private final MeterRegistry registry;
    private final Counter received;
    private final Counter accepted;
    private final Map<RejectReason, Counter> rejected = new EnumMap<>(RejectReason.class);
    private final Map<DropReason, Counter> dropped = new EnumMap<>(DropReason.class);
    private final Counter late;
    private final Counter windowsFlushed;
    private final Counter flushFailures;
    private final Counter ticksSkipped;
    private final Counter repliesDropped;
    private final Map<ConnectionRefusal, Counter> connectionsRefused = new EnumMap<>(ConnectionRefusal.class);
    private final Map<ConnectionClose, Counter> connectionsClosed = new EnumMap<>(ConnectionClose.class);
    private final Map<Transport, Counter> authFailures = new EnumMap<>(Transport.class);
    private final Counter internalErrors;
    private final Timer flushDuration;
    private final Map<String, Supplier<Number>> levels = new LinkedHashMap<>();

    public PipelineMetrics(MeterRegistry registry) {
        this.registry = requireNonNull(registry, "registry");
        received = counter(POINTS_RECEIVED, "lines carrying a point, good or bad");
        accepted = counter(POINTS_ACCEPTED, "points aggregated");
        for (RejectReason r : RejectReason.values()) {
            rejected.put(r, Counter.builder(POINTS_REJECTED).description("points rejected, by reason")
                    .tag("reason", r.tag()).register(registry));
        }
        for (DropReason r : DropReason.values()) {
            dropped.put(r, Counter.builder(POINTS_DROPPED).description("points dropped, by reason")
                    .tag("reason", r.tag()).register(registry));
        }
        late = counter(POINTS_LATE, "points merged into a window after it was first flushed");
        windowsFlushed = counter(WINDOWS_FLUSHED, "partial windows written to storage");
        flushFailures = counter(FLUSH_FAILURES, "failed flush attempts (each is retried)");
        ticksSkipped = counter(FLUSH_TICKS_SKIPPED, "flush ticks skipped because a flush was still running");
        repliesDropped = counter(REPLIES_DROPPED, "error or sync replies dropped for a client that does not read");
        for (ConnectionRefusal r : ConnectionRefusal.values()) {
            connectionsRefused.put(r, Counter.builder(CONNECTIONS_REFUSED)
                    .description("TCP connections refused at once, by reason").tag("reason", r.tag()).register(registry));
        }
        for (Transport t : Transport.values()) {
            authFailures.put(t, Counter.builder(AUTH_FAILURES)
                    .description("requests or connections refused for a missing or wrong token").tag("transport", t.tag())
                    .register(registry));
        }
        for (ConnectionClose r : ConnectionClose.values()) {
            connectionsClosed.put(r, Counter.builder(CONNECTIONS_CLOSED)
                    .description("TCP connections closed by the server, by reason").tag("reason", r.tag())
                    .register(registry));
        }
        internalErrors = counter(ERRORS, "unexpected exceptions caught inside a stage");
        flushDuration = Timer.builder(FLUSH_DURATION).description("time to write one flush batch")
                .register(registry);
    }

    private Counter counter(String name, String description) {
        return Counter.builder(name).description(description).register(registry);
    }

    /** Registers a level (queue depth, active series…) as a gauge and as a field of the stats snapshot. */
    public void level(String statsName, String meterName, String description, Supplier<Number> value) {
        levels.put(statsName, value);
        Gauge.builder(meterName, value, v -> v.get().doubleValue()).description(description).strongReference(true)
                .register(registry);
    }

    /** As {@link #level}, for a duration: milliseconds in the stats, seconds (the base unit) on the meter. */
    public void levelMillis(String statsName, String meterName, String description, LongSupplier millis) {
        levels.put(statsName, millis::getAsLong);
        Gauge.builder(meterName, millis, v -> v.getAsLong() / 1000.0).description(description).baseUnit("seconds")
                .strongReference(true).register(registry);
    }

    public MeterRegistry registry() {
        return registry;
    }

    public void received(int n) {
        received.increment(n);
    }

    public void accepted(int n) {
        accepted.increment(n);
    }

    public void rejected(RejectReason reason) {
        rejected.get(reason).increment();
    }

    public void dropped(DropReason reason, int n) {
        dropped.get(reason).increment(n);
    }

    public void late(int n) {
        late.increment(n);
    }

    public void flushed(int windows, long nanos) {
        windowsFlushed.increment(windows);
        flushDuration.record(nanos, TimeUnit.NANOSECONDS);
    }

    public void flushFailed() {
        flushFailures.increment();
    }

    public void tickSkipped() {
        ticksSkipped.increment();
    }

    public void replyDropped() {
        repliesDropped.increment();
    }

    public void connectionRefused(ConnectionRefusal reason) {
        connectionsRefused.get(reason).increment();
    }

    public void authFailed(Transport transport) {
        authFailures.get(transport).increment();
    }

    public void connectionClosed(ConnectionClose reason) {
        connectionsClosed.get(reason).increment();
    }

    public void internalError() {
        internalErrors.increment();
    }

    public long flushFailures() {
        return (long) flushFailures.count();
    }

    /** The non-zero counts of counters by reason, by tag. */
    private static <E> Map<String, Long> byReason(Map<E, Counter> counters, Function<E, String> tag) {
        Map<String, Long> byReason = new LinkedHashMap<>();
        for (Map.Entry<E, Counter> e : counters.entrySet()) {
            long n = (long) e.getValue().count();
            if (n > 0) {
                byReason.put(tag.apply(e.getKey()), n);
            }
        }
        return byReason;
    }

    private static long total(Map<String, Long> byReason) {
        long total = 0;
        for (long n : byReason.values()) {
            total += n;
        }
        return total;
    }

    /** Every counter and level, by stats name, in a stable order. */
    public Map<String, Object> snapshot() {
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("received", (long) received.count());
        s.put("accepted", (long) accepted.count());
        Map<String, Long> rejectedBy = byReason(rejected, RejectReason::tag);
        s.put("rejected", total(rejectedBy));
        s.put("rejectedByReason", rejectedBy);
        Map<String, Long> droppedBy = byReason(dropped, DropReason::tag);
        s.put("dropped", total(droppedBy));
        s.put("droppedByReason", droppedBy);
        s.put("late", (long) late.count());
        s.put("flushedWindows", (long) windowsFlushed.count());
        s.put("flushFailures", (long) flushFailures.count());
        s.put("flushTicksSkipped", (long) ticksSkipped.count());
        s.put("repliesDropped", (long) repliesDropped.count());
        Map<String, Long> refusedBy = byReason(connectionsRefused, ConnectionRefusal::tag);
        s.put("connectionsRefusedByReason", refusedBy);
        s.put("connectionsRefused", total(refusedBy));
        Map<String, Long> closedBy = byReason(connectionsClosed, ConnectionClose::tag);
        s.put("connectionsClosedByReason", closedBy);
        s.put("connectionsClosed", total(closedBy));
        Map<String, Long> authBy = byReason(authFailures, Transport::tag);
        s.put("authFailuresByTransport", authBy);
        s.put("authFailures", total(authBy));
        s.put("errors", (long) internalErrors.count());
        for (Map.Entry<String, Supplier<Number>> e : levels.entrySet()) {
            s.put(e.getKey(), e.getValue().get().longValue());
        }
        return s;
    }
}
