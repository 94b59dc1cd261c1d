package dev.meterline.export;

import dev.meterline.config.RemoteWriteConfig;
import dev.meterline.model.Aggregate;
import dev.meterline.model.PrometheusNames;
import dev.meterline.model.SeriesKey;
import dev.meterline.store.ExportCursor;
import dev.meterline.store.ExportLock;
import dev.meterline.store.ExportPage;
import dev.meterline.store.ExportRow;
import dev.meterline.store.Store;
import dev.meterline.telemetry.RateLimitedLog;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;

import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.LongSupplier;

import static java.util.Objects.requireNonNull;

/**
 * Pushes every stored window to a Prometheus remote write receiver, once, in window order.
 *
 * <p>The export cursor lives in the store ({@link ExportCursor}): slices of the export resolution are read in start
 * order, each slice in series order in pages of about {@code batch-size} series windows, every partial of a series
 * (from every replica and every late correction stored so far) merged into one sample set. A slice is read once
 * its lateness and the configured delay have passed, and the cursor moves only after the receiver answered 2xx (or
 * refused the request for good with another 4xx, which is counted and skipped); 5xx, 429 and no answer are retried
 * with exponential backoff, honouring {@code Retry-After}. So nothing is lost while the receiver is down or this
 * process restarts: the backlog is whatever the store still holds.
 *
 * <p>With several replicas on one PostgreSQL only the holder of the store's {@link ExportLock} exports; another
 * replica takes over (from the shared cursor) when the holder's session ends. Blocking store calls run on this
 * exporter's own single thread; HTTP is non-blocking.
 */
public final class RemoteWriteExporter {

    private static final Logger log = LoggerFactory.getLogger(RemoteWriteExporter.class);
    private static final Duration FIRST_BACKOFF = Duration.ofMillis(100);
    /** The longest {@code Retry-After} honoured. */
    private static final Duration MAX_RETRY_AFTER = Duration.ofMinutes(10);
    /** How long a stop waits for the exporter's thread to release the lock. */
    private static final Duration STOP_WAIT = Duration.ofSeconds(10);

    private final RemoteWriteConfig config;
    private final Store store;
    private final long window;
    private final long resolution;
    private final long lateness;
    private final long holdBack;
    private final LongSupplier storedThrough;
    private final LongSupplier clock;
    private final String target;
    private final RemoteWriteMeters meters;
    private final RemoteWriteClient client;
    private final Scheduler scheduler;
    private final Duration poll;
    private final RateLimitedLog rejectLog = new RateLimitedLog(log, 10_000);
    private final RateLimitedLog failLog = new RateLimitedLog(log, 10_000);
    private final WriteRequestEncoder encoder = new WriteRequestEncoder(1 << 16);
    private final WindowSamples samples = new WindowSamples(encoder);
    private final SnappyBlock snappy = new SnappyBlock();

    private ExportLock lock;
    private volatile boolean leading;
    private ExportCursor cursor;
    /** The requests after those sent last, read while those were in flight; null when none were read. */
    private List<Request> readAhead;
    private long checkedId;
    private final Set<String> metrics = new HashSet<>();
    private Set<String> colliding = Set.of();
    private volatile String failure;
    private volatile String storeFailure;
    private volatile boolean stopped;
    private Disposable loop;

    /**
     * An exporter of {@code store}'s windows of {@code window} ms, which close {@code lateness} ms after their end;
     * {@code clock} gives epoch milliseconds, and {@code storedThrough} the time by which this replica stored every
     * window it closed. Everything runs on {@code scheduler}, which may block (it calls the store between its HTTP
     * requests): one thread, so that rounds never overlap. Its owner disposes it after {@link #stop}.
     */
    public RemoteWriteExporter(RemoteWriteConfig config, Store store, Duration window, Duration lateness,
                               MeterRegistry registry, LongSupplier clock, LongSupplier storedThrough,
                               Scheduler scheduler) {
        this.config = requireNonNull(config, "config");
        this.store = requireNonNull(store, "store");
        this.window = window.toMillis();
        this.resolution = config.resolutionMillis(window);
        this.lateness = lateness.toMillis();
        this.holdBack = this.lateness + config.delay().toMillis();
        this.storedThrough = requireNonNull(storedThrough, "storedThrough");
        this.clock = requireNonNull(clock, "clock");
        this.target = config.url();
        this.meters = new RemoteWriteMeters(requireNonNull(registry, "registry"));
        this.client = new RemoteWriteClient(config, userAgent());
        this.scheduler = requireNonNull(scheduler, "scheduler");
        this.poll = Duration.ofMillis(Math.max(50, Math.min(1000, this.resolution / 4)));
    }

    private static String userAgent() {
        String v = RemoteWriteExporter.class.getPackage().getImplementationVersion();
        return "Meterline/" + (v == null ? "dev" : v);
    }

    /** Starts exporting; returns at once. */
    public void start() {
        loop = Flux.interval(Duration.ZERO, poll, scheduler)
                .onBackpressureDrop()
                .concatMap(t -> round().doOnSuccess(v -> storeFailure = null).onErrorResume(e -> {
                    storeFailure = "store: " + e.getMessage();
                    // The lock may be gone with the connection: read the shared cursor again once it is held.
                    leading = false;
                    failLog.warn("remote write: a round failed, retrying in " + poll.toMillis() + " ms", e);
                    return Mono.empty();
                }), 0)
                .subscribe();
    }

    /**
     * Stops exporting: a request in flight is abandoned (its windows are sent again by the next exporter, with the
     * same values) and the lock is released.
     */
    public void stop() {
        stop(STOP_WAIT);
    }

    /**
     * As {@link #stop()}, waiting at most {@code wait} for the exporter's thread to release the lock: a store call in
     * progress there (a page read behind a long write) may hold it longer, and the stop goes on without it. A
     * PostgreSQL lock then ends with the store's connections; a lock in this process needs no release.
     */
    void stop(Duration wait) {
        stopped = true;
        if (loop != null) {
            loop.dispose();
        }
        try {
            Mono.fromRunnable(() -> {
                if (lock != null) {
                    lock.close();
                }
            }).subscribeOn(scheduler).onErrorResume(e -> Mono.empty()).block(wait);
        } catch (IllegalStateException e) {
            log.warn("remote write: {}: the export lock was not released within {} ms (the exporter's thread is busy"
                    + " with the store); stopping without it", target, wait.toMillis());
        }
        client.close();
    }

    /** Null while exports go through (or there is nothing to send); else what is wrong, for the readiness body. */
    public String problem() {
        String f = failure;
        return f != null ? f : storeFailure;
    }

    /** One round: take or keep the lock, then send every ready slice. */
    private Mono<Void> round() {
        return Mono.fromCallable(this::lead)
                .flatMap(lead -> lead ? exportOne().repeat().takeWhile(Boolean::booleanValue).then() : Mono.empty());
    }

    /** True while this process may export; on taking the lock, reads the shared cursor. */
    private boolean lead() {
        if (stopped) {
            return false;
        }
        if (lock == null) {
            store.prepareExport();
            lock = store.exportLock(target);
        }
        boolean held = lock.hold();
        if (held && !leading) {
            readAhead = null;
            cursor = store.exportCursor(target);
            if (cursor == null) {
                // A new receiver gets the windows that close from now on, not the store's history.
                cursor = ExportCursor.at(Math.floorDiv(clock.getAsLong() - holdBack, resolution) * resolution);
                store.advanceExportCursor(target, cursor);
            }
            metrics.addAll(store.metrics().keySet());
            colliding = PrometheusNames.colliding(metrics);
            checkedId = store.lastWrittenId();
            log.info("remote write to {}: exporting from {} ({} ms slices)", target,
                    DateTimeFormatter.ISO_INSTANT.format(java.time.Instant.ofEpochMilli(cursor.through())), resolution);
        }
        leading = held;
        meters.leader.set(held ? 1 : 0);
        if (!held) {
            // Another replica exports: its lag is the one that matters.
            meters.lagMillis.set(0);
            meters.lagWindows.set(0);
        }
        return held;
    }

    /** A request ready to send, and the cursor once it is through. */
    private record Request(byte[] body, int samples, ExportCursor at, ExportCursor next) {
    }

    /**
     * Sends the next pages of the oldest ready slice, up to {@code concurrency} requests at once; emits true when
     * something moved, false when nothing is ready. The pages of one slice hold distinct series, so requests in
     * flight together never carry two samples of one series, and the next pages go only once all of them were
     * answered: each series' samples still reach the receiver in time order. While pages are in flight, those after
     * them in the same slice are read and encoded, so that the store, the encoding and the receiver work at once;
     * the cursor moves past pages only once the receiver answered every one of them.
     */
    private Mono<Boolean> exportOne() {
        return Mono.fromCallable(this::next)
                .subscribeOn(scheduler)
                .flatMap(pages -> pages.isEmpty() ? Mono.just(true) : Mono.zip(deliverAll(pages),
                                readAhead(pages.get(pages.size() - 1).next))
                        .publishOn(scheduler)
                        .map(sentAndNext -> {
                            ExportCursor through = pages.get(pages.size() - 1).next;
                            store.advanceExportCursor(target, through);
                            cursor = through;
                            List<Request> ahead = sentAndNext.getT2();
                            readAhead = ahead.isEmpty() ? null : ahead;
                            return true;
                        }))
                .defaultIfEmpty(false);
    }

    /** Sends {@code pages} at once; empty when stopped before every one was answered. */
    private Mono<Integer> deliverAll(List<Request> pages) {
        return Flux.fromIterable(pages)
                .flatMap(r -> deliver(r, 0), pages.size())
                .count()
                .filter(answered -> answered == pages.size())
                .map(Long::intValue);
    }

    /**
     * The requests of the pages after {@code at} in its slice, read on the exporter's thread; none when the slice
     * holds no more (the cursor then moves as {@link #next} moves it) or the read failed (read again).
     */
    private Mono<List<Request>> readAhead(ExportCursor at) {
        return Mono.fromCallable(() -> stopped ? List.<Request>of() : pages(at, config.concurrency()))
                .subscribeOn(scheduler).onErrorReturn(List.of());
    }

    /** The requests of up to {@code n} pages after {@code at} in its slice, in series order. */
    private List<Request> pages(ExportCursor at, int n) {
        List<Request> out = new ArrayList<>(n);
        ExportCursor from = at;
        while (out.size() < n) {
            ExportPage page = store.exportPage(window, from.through(), from.through() + resolution, from, checkedId,
                    config.batchSize());
            if (page.rows().isEmpty()) {
                break;
            }
            Request r = encode(page, from);
            out.add(r);
            if (!page.more()) {
                break;
            }
            from = r.next;
        }
        return out;
    }

    /**
     * The next requests, none when a slice was finished (cursor already moved), or null when nothing is ready.
     */
    private List<Request> next() {
        if (stopped) {
            return null;
        }
        // Ready: lateness and delay have passed, and this replica has stored every window it closed by then (a
        // slow flush holds the export back rather than letting it pass windows not yet stored).
        long now = clock.getAsLong();
        long readyBefore = Math.min(now - holdBack, storedThrough.getAsLong() - lateness);
        long boundary = Math.floorDiv(readyBefore, resolution) * resolution;
        long behind = Math.max(0, Math.floorDiv(now - holdBack, resolution) * resolution - cursor.through());
        meters.lagMillis.set(behind);
        meters.lagWindows.set(behind / resolution);
        if (cursor.through() + resolution > readyBefore) {
            if (cursor.atSliceStart()) {
                countCorrections(cursor.through());
            }
            return null;
        }
        List<Request> ahead = readAhead;
        readAhead = null;
        if (ahead != null && ahead.get(0).at.equals(cursor)) {
            return ahead;
        }
        long from = cursor.through();
        if (cursor.atSliceStart()) {
            // The slice is read as of this look: its rows stored later are corrections, counted, never sent.
            countCorrections(from);
        }
        ExportPage page = store.exportPage(window, from, from + resolution, cursor, checkedId, config.batchSize());
        if (page.rows().isEmpty()) {
            // The slice is done: on to the next slice holding windows, but never past the ones still open.
            long nextStart = store.nextWrittenStart(window, from + resolution);
            long to = nextStart < 0 ? boundary : Math.min(Math.floorDiv(nextStart, resolution) * resolution, boundary);
            ExportCursor moved = ExportCursor.at(Math.max(to, from + resolution));
            store.advanceExportCursor(target, moved);
            cursor = moved;
            return List.of();
        }
        Request first = encode(page, cursor);
        if (config.concurrency() == 1 || !page.more()) {
            return List.of(first);
        }
        List<Request> out = new ArrayList<>(config.concurrency());
        out.add(first);
        out.addAll(pages(first.next, config.concurrency() - 1));
        return out;
    }

    /** The request of {@code page}, read from {@code at}. */
    private Request encode(ExportPage page, ExportCursor at) {
        long from = at.through();
        encoder.reset();
        samples.clearNames();
        List<ExportRow> rows = page.rows();
        boolean newMetric = false;
        String previous = null;
        for (ExportRow r : rows) {
            String metric = r.series().metric();
            if (!metric.equals(previous)) {
                newMetric |= metrics.add(metric);
                previous = metric;
            }
        }
        if (newMetric) {
            // From this page on, metrics sharing a base name carry the meterline_metric label.
            colliding = PrometheusNames.colliding(metrics);
        }
        long end = from + resolution;
        int i = 0;
        while (i < rows.size()) {
            ExportRow first = rows.get(i);
            SeriesKey key = first.series();
            boolean collides = colliding.contains(key.metric());
            int j = i + 1;
            if (j == rows.size() || !rows.get(j).series().equals(key)) {
                // One partial is the window: read as stored, its sketch left encoded.
                samples.add(first, collides, end);
            } else {
                Aggregate merged = first.aggregate();
                while (j < rows.size() && rows.get(j).series().equals(key)) {
                    merged.mergeWith(rows.get(j).aggregate());
                    j++;
                }
                samples.add(key, collides, merged, end);
            }
            i = j;
        }
        byte[] body = snappy.compress(encoder.array(), encoder.length());
        return new Request(body, encoder.samples(), at, page.next());
    }

    /**
     * Counts partials stored since the last look (row id above it) for slices starting before {@code before}:
     * each such slice was read only up to a look, so receivers never see them. Row ids of concurrent PostgreSQL
     * writers may commit out of order, so this may count too few, never too many.
     */
    private void countCorrections(long before) {
        long last = store.lastWrittenId();
        if (last > checkedId) {
            long late = store.countWrittenBetween(checkedId, last, window, before);
            if (late > 0) {
                meters.corrections.increment(late);
            }
            checkedId = last;
        }
    }

    /** Sends until the receiver answers 2xx (true) or refuses for good (false); retries everything else. */
    private Mono<Boolean> deliver(Request r, int attempt) {
        return Mono.defer(() -> send(r)).flatMap(reply -> {
            if (reply.ok()) {
                meters.sent.increment(r.samples);
                failure = null;
                return Mono.just(true);
            }
            if (!reply.retryable()) {
                meters.rejected(reply.status(), r.samples);
                failure = null;
                rejectLog.warn("remote write: " + target + " refused " + r.samples + " samples with "
                        + reply.status() + " (skipped, not retried): " + reply.message(), null);
                return Mono.just(false);
            }
            meters.failed(reply.status(), r.samples);
            Duration wait = backoff(attempt, reply.retryAfter());
            failure = (reply.status() == 0 ? "receiver unreachable: " : "receiver answered " + reply.status()
                    + ": ") + reply.message() + "; retrying in " + wait.toMillis() + " ms";
            failLog.warn("remote write: " + target + ": " + failure, null);
            if (stopped) {
                return Mono.empty();
            }
            return Mono.delay(wait, scheduler).then(Mono.defer(() -> stopped ? Mono.empty() : deliver(r, attempt + 1)));
        });
    }

    /** One request, timed, and counted in flight from its subscription to its end. */
    private Mono<RemoteWriteClient.Reply> send(Request r) {
        long t0 = System.nanoTime();
        meters.inFlight.incrementAndGet();
        return client.send(r.body)
                .doFinally(signal -> meters.inFlight.decrementAndGet())
                .doOnNext(reply -> meters.request(reply, System.nanoTime() - t0));
    }

    /** Exponential from 100 ms up to the configured maximum; a receiver's {@code Retry-After} wins. */
    Duration backoff(int attempt, String retryAfter) {
        Duration told = retryAfter(retryAfter, clock.getAsLong());
        if (told != null) {
            return told;
        }
        long ms = FIRST_BACKOFF.toMillis() << Math.min(attempt, 20);
        return Duration.ofMillis(Math.min(ms, config.maxBackoff().toMillis()));
    }

    /** {@code Retry-After} as seconds or an HTTP date, bounded; null when absent or unreadable. */
    static Duration retryAfter(String value, long now) {
        if (value == null || value.isBlank()) {
            return null;
        }
        String v = value.strip();
        try {
            long seconds = Long.parseLong(v);
            return seconds < 0 ? null : min(Duration.ofSeconds(seconds), MAX_RETRY_AFTER);
        } catch (NumberFormatException e) {
            try {
                long at = ZonedDateTime.parse(v, DateTimeFormatter.RFC_1123_DATE_TIME).toInstant().toEpochMilli();
                return min(Duration.ofMillis(Math.max(0, at - now)), MAX_RETRY_AFTER);
            } catch (java.time.format.DateTimeParseException ignored) {
                return null;
            }
        }
    }

    private static Duration min(Duration a, Duration b) {
        return a.compareTo(b) <= 0 ? a : b;
    }
}
