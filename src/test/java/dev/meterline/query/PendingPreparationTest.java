package dev.meterline.query;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.meterline.LineClient;
import dev.meterline.PipelineThreads;
import dev.meterline.Poll;
import dev.meterline.TestServer;
import dev.meterline.model.Window;
import dev.meterline.telemetry.MeterNames;
import io.micrometer.core.instrument.MeterRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * On a real pipeline, a pending flush whose predecessor queries read by metric is prepared for them on the pipeline's
 * prepare thread, and a query that comes before that preparation begins calls it off and groups the flush itself
 * rather than waiting behind the thread. The store refuses every task while the test holds it, so that closed
 * windows stay pending (their write fails, and the long backoff leaves them there); the prepare thread is the
 * test's, held where a test needs the preparation not to have begun.
 */
class PendingPreparationTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String METRIC = "prep.m";

    @TempDir
    Path dir;

    private final RefusingPool storePool = new RefusingPool();
    private final ExecutorService preparePool = Executors.newSingleThreadExecutor();
    private final AtomicInteger prepareTasks = new AtomicInteger();
    private final CountDownLatch prepareHeld = new CountDownLatch(1);
    private TestServer server;
    /** The start of a window long due, so that each tick closes what is sent into it. */
    private long old;

    /** The store's threads, which refuse new tasks while {@link #refusing}. */
    private static final class RefusingPool extends ScheduledThreadPoolExecutor {
        volatile boolean refusing;

        RefusingPool() {
            super(2);
        }

        @Override
        public ScheduledFuture<?> schedule(Runnable command, long delay, TimeUnit unit) {
            refuseWhileHeld();
            return super.schedule(command, delay, unit);
        }

        @Override
        public <V> ScheduledFuture<V> schedule(Callable<V> callable, long delay, TimeUnit unit) {
            refuseWhileHeld();
            return super.schedule(callable, delay, unit);
        }

        private void refuseWhileHeld() {
            if (refusing) {
                throw new RejectedExecutionException("the test holds the store");
            }
        }
    }

    @BeforeEach
    void start() {
        old = Window.startOf(System.currentTimeMillis() - 5 * 60_000, 60_000);
        Scheduler store = Schedulers.fromExecutorService(storePool, "test-store");
        Scheduler prepare = Schedulers.fromExecutor(task -> {
            prepareTasks.incrementAndGet();
            preparePool.execute(task);
        });
        server = TestServer.start(dir, Map.of("flush-interval", "100ms", "flush-backoff", "1h",
                "flush-backoff-max", "1h"), System::currentTimeMillis, config -> {
                    PipelineThreads t = PipelineThreads.of(config);
                    t.store().dispose();
                    t.prepare().dispose();
                    return new PipelineThreads(t.validate(), t.shards(), store, t.storeReads(), t.timer(),
                            t.promql(), t.remoteWrite(), prepare, t.ingestNice());
                });
    }

    @AfterEach
    void stop() {
        prepareHeld.countDown();
        storePool.refusing = false;
        server.close();
        storePool.shutdown();
        preparePool.shutdown();
    }

    @Test
    void theNextFlushIsPreparedOnThePrepareThread() throws Exception {
        firstFlushPendingAndAsked();
        send(old + 11_000, 2);
        double prepared = Poll.until(() -> preparations("prepared"), n -> n == 1, Duration.ofSeconds(10));
        assertEquals(1, prepared, "the flush after an asked one is prepared");
        assertTrue(prepareTasks.get() >= 1, "on the pipeline's prepare thread");
        awaitPending(2);
        assertEquals(2.0, sumOfCounts(query()), "both points, each once");
        assertEquals(0, preparations("called_off"));
    }

    @Test
    void aQueryBeforeThePreparationBeginsCallsItOffAndGroupsTheFlushItself() throws Exception {
        firstFlushPendingAndAsked();
        preparePool.execute(() -> {
            try {
                prepareHeld.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        send(old + 11_000, 2);
        awaitPending(2);
        assertEquals(1, prepareTasks.get(), "the flush was handed to the prepare thread");
        assertEquals(2.0, sumOfCounts(query()), "both points, each once");
        assertEquals(1, preparations("called_off"), "the query called the preparation off");
        assertEquals(0, waits(), "and did not wait for the thread");
        prepareHeld.countDown();
        assertEquals(0, preparations("prepared"), "a preparation called off never runs");
    }

    /** One window, closed by the next tick into a flush that stays pending, then read by a query by metric. */
    private void firstFlushPendingAndAsked() throws Exception {
        storePool.refusing = true;
        send(old + 1_000, 1);
        awaitPending(1);
        assertEquals(1.0, sumOfCounts(query()));
    }

    private void send(long timestamp, double value) throws Exception {
        try (LineClient c = server.connect()) {
            c.send("{\"metric\":\"" + METRIC + "\",\"value\":" + value + ",\"timestamp\":" + timestamp
                    + ",\"tags\":{\"host\":\"a\"}}\n");
            assertEquals(1, c.sync("s").get("accepted").asLong());
        }
    }

    private void awaitPending(long windows) throws Exception {
        JsonNode stats = Poll.until(() -> JSON.readTree(server.get("/api/v1/stats").body()),
                s -> s.get("pendingWindows").asLong() == windows, Duration.ofSeconds(10));
        assertEquals(windows, stats.get("pendingWindows").asLong(), stats.toString());
    }

    private JsonNode query() throws Exception {
        HttpResponse<String> res = server.get("/api/v1/aggregates?metric=" + METRIC + "&from=" + (old - 60_000)
                + "&to=" + (old + 120_000));
        assertEquals(200, res.statusCode(), res.body());
        return JSON.readTree(res.body());
    }

    private static double sumOfCounts(JsonNode answer) {
        return answer.findValues("count").stream().mapToDouble(JsonNode::asDouble).sum();
    }

    private double preparations(String outcome) {
        return registry().find(MeterNames.PENDING_PREPARATIONS).tag("outcome", outcome).functionCounter().count();
    }

    private double waits() {
        return registry().find(MeterNames.PENDING_PREPARATION_WAITS).functionCounter().count();
    }

    private MeterRegistry registry() {
        return server.pipeline().metrics().registry();
    }
}
