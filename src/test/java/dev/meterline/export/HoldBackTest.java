package dev.meterline.export;

import dev.meterline.Poll;
import dev.meterline.config.RemoteWriteConfig;
import dev.meterline.config.StoreConfig;
import dev.meterline.config.Tier;
import dev.meterline.model.Aggregate;
import dev.meterline.model.SeriesKey;
import dev.meterline.model.Window;
import dev.meterline.store.Store;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/**
 * The exporter on a store written by hand, with the clock and this replica's flush progress set by the test: a window
 * whose flush is late is waited for, never passed, even though its lateness and delay are long over.
 */
final class HoldBackTest {

    private static final long T = 1_700_000_000_000L;
    private static final SeriesKey KEY = SeriesKey.of("jobs", Map.of("host", "a"));

    @TempDir
    Path tmp;

    private static Window window(long start, double... values) {
        Aggregate a = new Aggregate();
        for (double v : values) {
            a.accept(v, start);
        }
        return new Window(KEY, start, 1000, a, true, 1);
    }

    /** The timestamps of one request's samples: a request holds one slice, so one timestamp. */
    private static long stamp(LinkedBlockingQueue<List<EncodingTest.Series>> seen) throws InterruptedException {
        List<EncodingTest.Series> request = seen.poll(30, TimeUnit.SECONDS);
        assertNotNull(request, "no request within 30 s");
        return request.get(0).timestamps().get(0)[0];
    }

    @Test
    void aWindowWhoseFlushIsLateIsWaitedForNotPassed() throws Exception {
        LinkedBlockingQueue<List<EncodingTest.Series>> seen = new LinkedBlockingQueue<>();
        DisposableServer receiver = HttpServer.create().host("127.0.0.1").port(0)
                .route(r -> r.post("/api/v1/write", (req, res) -> req.receive().aggregate().asByteArray()
                        .publishOn(Schedulers.boundedElastic()) // decoding loads snappy's native code: not on a loop
                        .flatMap(body -> {
                            try {
                                seen.add(EncodingTest.decode(body));
                            } catch (Exception e) {
                                return Mono.error(e);
                            }
                            return res.status(204).send();
                        })))
                .bindNow();
        AtomicLong clock = new AtomicLong(T + 5000);
        AtomicLong storedThrough = new AtomicLong(T + 1000);
        // Counts the exporter's looks at the flush progress: each is one readiness decision.
        AtomicInteger looks = new AtomicInteger();
        LongSupplier progress = () -> {
            looks.incrementAndGet();
            return storedThrough.get();
        };
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        try (Store store = Store.connect(new StoreConfig(tmp, "", "", "", Tier.parseList("1s:1h"), "r1"))) {
            store.write(List.of(window(T, 1, 2), window(T + 2000, 5)));
            store.prepareExport();
            store.advanceExportCursor("http://127.0.0.1:" + receiver.port() + "/api/v1/write",
                    dev.meterline.store.ExportCursor.at(T));
            RemoteWriteConfig config = new RemoteWriteConfig("http://127.0.0.1:" + receiver.port() + "/api/v1/write",
                    "", Map.of(), Duration.ofSeconds(5), 100, Duration.ZERO, Duration.ZERO, Duration.ofMillis(200),
                    1);
            Scheduler thread = Schedulers.newBoundedElastic(1, 1_000, "meterline-remote-write");
            RemoteWriteExporter exporter = new RemoteWriteExporter(config, store, Duration.ofSeconds(1),
                    Duration.ZERO, registry, clock::get, progress, thread);
            exporter.start();
            try {
                assertEquals(T + 1000, stamp(seen), "the stored slice goes out");
                // Two more looks: the exporter has decided about the slice at T + 1000 at least once.
                int after = looks.get();
                Poll.until(looks::get, n -> n >= after + 2, Duration.ofSeconds(30));
                // The flush of the window at T + 1000 was slow: it lands only now, and then the flush is complete.
                store.write(List.of(window(T + 1000, 7, 8, 9)));
                storedThrough.set(T + 5000);
                assertEquals(T + 2000, stamp(seen), "the late-flushed window is sent, not passed");
                assertEquals(T + 3000, stamp(seen));
                assertEquals(0, registry.get("meterline.remote.write.corrections.unsent").counter().count());
            } finally {
                exporter.stop();
                thread.dispose();
            }
        } finally {
            receiver.disposeNow(Duration.ofSeconds(5));
        }
    }
}
