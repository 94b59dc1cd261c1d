package dev.meterline.export;

import reactor.core.scheduler.Schedulers;
import dev.meterline.LineClient;
import dev.meterline.TestServer;
import dev.meterline.export.RemoteWriteFixture.Sent;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponseStatus;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.publisher.Mono;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;
import reactor.netty.http.server.HttpServerResponse;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static dev.meterline.export.RemoteWriteFixture.awaitMeter;
import static dev.meterline.export.RemoteWriteFixture.meter;
import static dev.meterline.export.RemoteWriteFixture.points;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The exporter against a scripted receiver on a loopback port: the statuses it answers are chosen by the test, each
 * request is decoded and kept. What a receiver stores is checked against real ones elsewhere; here, the protocol's
 * headers, retries and backoff, the export resolution and late corrections.
 */
final class ExporterTest {

    /** One request as the receiver saw it, and when it answered (0 until then). */
    record Seen(long at, HttpHeaders headers, byte[] body, List<EncodingTest.Series> series, AtomicLong answered) {
    }

    /** Completed when the receiver may answer; until then requests stay open. */
    private volatile CompletableFuture<Void> hold = CompletableFuture.completedFuture(null);
    private final AtomicInteger open = new AtomicInteger();
    private final AtomicInteger mostOpen = new AtomicInteger();

    private final LinkedBlockingQueue<Seen> seen = new LinkedBlockingQueue<>();
    /** Statuses (and Retry-After values) to answer, in turn; 204 when none is left. */
    private final Deque<String[]> script = new ConcurrentLinkedDeque<>();
    private DisposableServer receiver;

    @TempDir
    Path tmp;

    private String startReceiver() {
        receiver = HttpServer.create().host("127.0.0.1").port(0)
                .route(r -> r.post("/api/v1/write", (req, res) -> req.receive().aggregate().asByteArray()
                        .publishOn(Schedulers.boundedElastic()) // decoding loads snappy's native code: not on a loop
                        .flatMap(body -> {
                            AtomicLong answered = new AtomicLong();
                            try {
                                seen.add(new Seen(System.nanoTime(), req.requestHeaders(), body,
                                        EncodingTest.decode(body), answered));
                            } catch (Exception e) {
                                return res.status(HttpResponseStatus.BAD_REQUEST).sendString(Mono.just(e.toString())).then();
                            }
                            mostOpen.accumulateAndGet(open.incrementAndGet(), Math::max);
                            return Mono.fromFuture(hold).then(Mono.defer(() -> {
                                open.decrementAndGet();
                                answered.set(System.nanoTime());
                                return answer(res);
                            }));
                        })))
                .bindNow();
        return "http://127.0.0.1:" + receiver.port() + "/api/v1/write";
    }

    /** The next scripted status, 204 when none is left. */
    private Mono<Void> answer(HttpServerResponse res) {
        String[] answer = script.poll();
        if (answer == null) {
            return res.status(HttpResponseStatus.NO_CONTENT).send();
        }
        if (answer.length > 1) {
            res.header("Retry-After", answer[1]);
        }
        return res.status(Integer.parseInt(answer[0])).sendString(Mono.just("scripted")).then();
    }

    @AfterEach
    void stopReceiver() {
        if (receiver != null) {
            receiver.disposeNow(Duration.ofSeconds(5));
        }
    }

    private Seen next() throws InterruptedException {
        Seen s = seen.poll(60, TimeUnit.SECONDS);
        assertNotNull(s, "no request within 60 s");
        return s;
    }

    @Test
    void requestsCarryTheProtocolHeadersTheTokenAndTheExtraHeaders() throws Exception {
        String url = startReceiver();
        Path token = Files.writeString(tmp.resolve("token"), "s3cret-token\n");
        Map<String, String> settings = RemoteWriteFixture.settings(url);
        settings.put("remote-write-bearer-token-file", token.toString());
        settings.put("remote-write-headers", "X-Scope-OrgID=team-a");
        try (TestServer m = RemoteWriteFixture.start(tmp.resolve("m"), settings); LineClient c = m.connect()) {
            points(c, new Sent(), "hits", "h", RemoteWriteFixture.futureWindow(), 3);
            HttpHeaders h = next().headers();
            assertEquals("snappy", h.get("Content-Encoding"));
            assertEquals("application/x-protobuf", h.get("Content-Type"));
            assertEquals("0.1.0", h.get("X-Prometheus-Remote-Write-Version"));
            assertTrue(h.get("User-Agent").startsWith("Meterline/"), h.get("User-Agent"));
            assertEquals("Bearer s3cret-token", h.get("Authorization"));
            assertEquals("team-a", h.get("X-Scope-OrgID"));
        }
    }

    @Test
    void serverErrorsAndTooManyRequestsAreRetriedWithBackoffHonouringRetryAfter() throws Exception {
        String url = startReceiver();
        script.add(new String[]{"503"});
        script.add(new String[]{"500"});
        script.add(new String[]{"429", "1"});
        try (TestServer m = RemoteWriteFixture.start(tmp.resolve("m"), RemoteWriteFixture.settings(url));
             LineClient c = m.connect()) {
            points(c, new Sent(), "hits", "h", RemoteWriteFixture.futureWindow(), 3);
            List<Seen> attempts = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                attempts.add(next());
            }
            for (Seen s : attempts) {
                assertTrue(java.util.Arrays.equals(attempts.get(0).body(), s.body()), "the same request each time");
            }
            long afterRetryAfter = attempts.get(3).at() - attempts.get(2).at();
            assertTrue(afterRetryAfter >= TimeUnit.MILLISECONDS.toNanos(1000),
                    "waited " + afterRetryAfter / 1_000_000 + " ms after Retry-After: 1");
            assertTrue(attempts.get(2).at() - attempts.get(1).at() < TimeUnit.MILLISECONDS.toNanos(1000),
                    "exponential backoff from 100 ms, capped at 500 ms here");
            double samples = attempts.get(0).series().size();
            assertEquals(samples, awaitMeter(m, "meterline_remote_write_samples_sent_total", v -> v == samples,
                    Duration.ofSeconds(10)));
            assertEquals(3 * samples, meter(m, "meterline_remote_write_samples_failed_total"), "three failed attempts");
            assertNull(seen.poll(), "nothing sent twice after the 2xx");
        }
    }

    /**
     * A slice of many pages, one request in flight and the next page read meanwhile: a page that fails is sent again
     * unchanged before any later page, a refused page is skipped, and every series comes once, in series order.
     */
    @Test
    void pagesReadAheadGoInOrderThroughRetriesAndRefusals() throws Exception {
        String url = startReceiver();
        script.add(new String[]{"204"});
        script.add(new String[]{"503"});
        script.add(new String[]{"204"});
        script.add(new String[]{"400"});
        Map<String, String> settings = RemoteWriteFixture.settings(url);
        settings.put("remote-write-batch-size", "5");
        settings.put("remote-write-concurrency", "1");
        try (TestServer m = RemoteWriteFixture.start(tmp.resolve("m"), settings); LineClient c = m.connect()) {
            long w0 = RemoteWriteFixture.futureWindow();
            Sent sent = new Sent();
            List<String> hosts = new ArrayList<>();
            for (int h = 0; h < 40; h++) {
                hosts.add(String.format("h%02d", h));
                points(c, sent, "hits", hosts.get(h), w0, 2);
            }
            List<Seen> requests = new ArrayList<>();
            // Pages of 5 partials never split a series: 4 series each, 10 pages, one of them sent twice.
            for (int i = 0; i < 11; i++) {
                requests.add(next());
            }
            assertTrue(java.util.Arrays.equals(requests.get(1).body(), requests.get(2).body()),
                    "the failed page again, unchanged, before the next one");
            List<String> order = new ArrayList<>();
            for (int i = 0; i < requests.size(); i++) {
                if (i == 1) {
                    continue;
                }
                for (EncodingTest.Series s : requests.get(i).series()) {
                    String host = s.labelMap().get("host");
                    if (order.isEmpty() || !order.get(order.size() - 1).equals(host)) {
                        order.add(host);
                    }
                    assertEquals(w0 + 1000, s.timestamps().get(0)[0]);
                }
            }
            assertEquals(hosts, order, () -> "every series once, in series order; requests: " + requests.stream()
                    .map(r -> r.series().stream().map(x -> x.labelMap().get("host")).distinct().toList().toString())
                    .toList());
            assertEquals(9 * 4, requests.get(0).series().size(), "four series of nine samples a page");
            assertEquals(9.0 * 4 * 9, awaitMeter(m, "meterline_remote_write_samples_sent_total", v -> v == 9 * 4 * 9,
                    Duration.ofSeconds(10)), "nine pages accepted");
            assertEquals(9.0 * 4, meter(m, "meterline_remote_write_samples_rejected_total"), "one page refused");
            assertNull(seen.poll(1, TimeUnit.SECONDS), "nothing more");
        }
    }

    @Test
    void aCoarserExportResolutionSendsMergedWindowsStampedAtTheSliceEnd() throws Exception {
        String url = startReceiver();
        Map<String, String> settings = RemoteWriteFixture.settings(url);
        settings.put("remote-write-resolution", "2s");
        try (TestServer m = RemoteWriteFixture.start(tmp.resolve("m"), settings); LineClient c = m.connect()) {
            long w0 = (RemoteWriteFixture.futureWindow() / 2000 + 1) * 2000;
            Sent first = new Sent();
            points(c, first, "hits", "h", w0, 10);
            points(c, first, "hits", "h", w0 + 1000, 5);
            points(c, new Sent(), "hits", "h", w0 + 2000, 1);
            Map<String, Double> byName = new java.util.HashMap<>();
            long stamp = -1;
            for (EncodingTest.Series s : next().series()) {
                Map<String, String> l = s.labelMap();
                byName.put(l.get("__name__") + (l.containsKey("quantile") ? l.get("quantile") : ""), s.values().get(0));
                stamp = s.timestamps().get(0)[0];
            }
            assertEquals(w0 + 2000, stamp, "the 2 s slice's end");
            assertEquals(15.0, byName.get("hits_count"), "both 1 s windows merged");
            assertEquals(first.sum, byName.get("hits_sum"));
            assertEquals(1.0, byName.get("hits_min"));
            assertEquals(10.0, byName.get("hits_max"));
            Seen second = next();
            assertEquals(w0 + 4000, second.series().get(0).timestamps().get(0)[0]);
        }
    }

    @Test
    void aCorrectionStoredAfterItsWindowWasSentIsCountedNotSent() throws Exception {
        String url = startReceiver();
        try (TestServer m = RemoteWriteFixture.start(tmp.resolve("m"), RemoteWriteFixture.settings(url));
             LineClient c = m.connect()) {
            long w0 = RemoteWriteFixture.futureWindow();
            points(c, new Sent(), "hits", "h", w0, 3);
            Seen first = next();
            assertEquals(w0 + 1000, first.series().get(0).timestamps().get(0)[0]);
            // A late point for the window already sent, then a point for a later window.
            points(c, new Sent(), "hits", "h", w0, 1);
            assertEquals(1, awaitMeter(m, "meterline_remote_write_corrections_unsent_total", v -> v >= 1,
                    Duration.ofSeconds(30)));
            long w1 = RemoteWriteFixture.futureWindow();
            points(c, new Sent(), "hits", "h", w1, 2);
            Seen later = next();
            assertEquals(Collections.singleton(w1 + 1000), later.series().stream()
                    .map(s -> s.timestamps().get(0)[0]).collect(java.util.stream.Collectors.toSet()),
                    "the correction of the earlier window is not in it");
        }
    }

    /**
     * With {@code remote-write-concurrency} 3, three pages of a slice go at once and no fourth while they are open;
     * a page that fails is sent again alone, and the next slice's pages go only once every page before them was
     * answered, so each series' samples arrive in time order, every one once.
     */
    @Test
    void upToConcurrencyPagesOfASliceGoAtOnceAndTheNextSliceWaitsForAllOfThem() throws Exception {
        String url = startReceiver();
        hold = new CompletableFuture<>();
        script.add(new String[]{"503"});
        Map<String, String> settings = RemoteWriteFixture.settings(url);
        settings.put("remote-write-batch-size", "5");
        settings.put("remote-write-concurrency", "3");
        try (TestServer m = RemoteWriteFixture.start(tmp.resolve("m"), settings); LineClient c = m.connect()) {
            // Both windows' points in one write, well ahead of the windows, so that none is late on a busy machine.
            long w0 = RemoteWriteFixture.futureWindow() + 2000;
            StringBuilder lines = new StringBuilder();
            for (long w = w0; w <= w0 + 1000; w += 1000) {
                for (int h = 0; h < 40; h++) {
                    for (int i = 1; i <= 2; i++) {
                        lines.append("{\"metric\":\"hits\",\"value\":").append(i).append(",\"timestamp\":")
                                .append(w + i * 7L).append(",\"tags\":{\"host\":\"")
                                .append(String.format("h%02d", h)).append("\"}}\n");
                    }
                }
            }
            c.send(lines.toString());
            assertEquals(0, c.sync("s").get("rejected").asLong(), () -> c.errors().toString());
            List<Seen> requests = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                requests.add(next());
            }
            assertEquals(3.0, awaitMeter(m, "meterline_remote_write_requests_in_flight", v -> v == 3,
                    Duration.ofSeconds(30)));
            assertNull(seen.poll(1, TimeUnit.SECONDS), "no fourth request while three are open");
            hold.complete(null);
            assertEquals(9.0 * 40 * 2, awaitMeter(m, "meterline_remote_write_samples_sent_total",
                    v -> v >= 9 * 40 * 2, Duration.ofSeconds(60)), "every series window accepted once");
            seen.drainTo(requests);
            assertEquals(3, mostOpen.get(), "at most three requests open at once");
            assertTrue(meter(m, "meterline_remote_write_samples_failed_total") > 0, "the page answered 503 retried");
            Map<String, Long> w0Answered = new java.util.HashMap<>();
            Map<String, Integer> w1Seen = new java.util.HashMap<>();
            for (Seen r : requests) {
                for (EncodingTest.Series s : r.series()) {
                    String host = s.labelMap().get("host");
                    if (s.timestamps().get(0)[0] == w0 + 1000) {
                        w0Answered.merge(host, r.answered().get(), Math::max);
                    } else {
                        assertEquals(w0 + 2000, s.timestamps().get(0)[0]);
                        Long before = w0Answered.get(host);
                        assertNotNull(before, host + ": its later window sent before its first");
                        assertTrue(before < r.at(), host + ": its later window sent before the receiver answered"
                                + " the request holding its first");
                        w1Seen.merge(host, 1, Integer::sum);
                    }
                }
            }
            assertEquals(40, w0Answered.size());
            assertEquals(40, w1Seen.size());
            assertEquals(0.0, meter(m, "meterline_remote_write_requests_in_flight"));
        }
    }
}
