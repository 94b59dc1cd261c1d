package dev.meterline.ingest;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.meterline.LineClient;
import dev.meterline.Poll;
import dev.meterline.TestServer;
import dev.meterline.config.Overflow;
import dev.meterline.model.Batch;
import dev.meterline.model.DropReason;
import dev.meterline.model.Point;
import dev.meterline.model.SeriesKey;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Fair share between connections: 8 greedy clients stream into a small ingest buffer as fast as the server takes
 * them, and a light client beside them (10 batches of 100 points, each followed by a sync) is answered in full while
 * the greedy ones are still sending — it is not starved until they stop. Under {@code block} every light point is
 * accepted (first come, first served waiting); under {@code drop} each one is counted (accepted + dropped = sent)
 * and some get through (the buffer's reserve for light batches: without it, none did). The light
 * client's sync round trips are printed (p50/max); they are not asserted beyond a generous bound, as the machine
 * may be shared.
 */
class FairnessTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int GREEDY = 8;
    private static final int LIGHT_BATCHES = 10;
    private static final int LIGHT_POINTS = 100;
    /** Bounds of the greedy load: it stops when the light client is done, or at these bounds (then it starved). */
    private static final long GREEDY_MAX_NANOS = TimeUnit.SECONDS.toNanos(20);
    private static final long GREEDY_MAX_LINES = 3_000_000;
    private static final long SATURATE_NANOS = TimeUnit.SECONDS.toNanos(30);

    @TempDir
    Path dir;

    /** What one greedy client sent, its final sync answer, when it stopped, and whether a bound stopped it. */
    private record Greedy(long sent, JsonNode ack, long stoppedAt, boolean hitBound) {
    }

    @ParameterizedTest(name = "overflow={0}")
    @ValueSource(strings = {"block", "drop"})
    void aLightClientIsServedWhileGreedyOnesSaturateTheBuffer(String overflow) throws Exception {
        boolean drop = overflow.equals("drop");
        try (TestServer server = TestServer.start(dir, Map.of("buffer-size", "1024", "overflow", overflow))) {
            ExecutorService pool = Executors.newFixedThreadPool(2 * GREEDY);
            AtomicBoolean stop = new AtomicBoolean();
            AtomicLong greedySent = new AtomicLong();
            List<Future<Greedy>> greedy = new ArrayList<>();
            try {
                for (int c = 0; c < GREEDY; c++) {
                    int client = c;
                    greedy.add(pool.submit(() -> greedy(server, client, stop, greedySent, pool)));
                }
                awaitSaturation(server, drop, greedySent);

                long[] rtt = new long[LIGHT_BATCHES];
                long accepted = 0;
                long dropped = 0;
                int overloadedReplies;
                long lightDoneAt;
                try (LineClient light = server.connect()) {
                    for (int b = 0; b < LIGHT_BATCHES; b++) {
                        StringBuilder sb = new StringBuilder();
                        for (int i = 0; i < LIGHT_POINTS; i++) {
                            sb.append("{\"metric\":\"light\",\"value\":").append(b * LIGHT_POINTS + i).append("}\n");
                        }
                        long t0 = System.nanoTime();
                        light.send(sb.toString());
                        JsonNode ack = light.sync("light-" + b);
                        rtt[b] = System.nanoTime() - t0;
                        accepted = ack.get("accepted").asLong();
                        dropped = ack.path("dropped").asLong();
                        long sent = (long) (b + 1) * LIGHT_POINTS;
                        assertEquals(0, ack.get("rejected").asLong(), ack.toString());
                        assertEquals(sent, accepted + dropped, "every light point counted: " + ack);
                        if (!drop) {
                            assertEquals(sent, accepted, "block: every light point accepted: " + ack);
                        }
                    }
                    lightDoneAt = System.nanoTime();
                    overloadedReplies = (int) light.errors().stream()
                            .filter(e -> e.path("error").asText().equals("overloaded")).count();
                    assertEquals(light.errors().size(), overloadedReplies, "no error but overloaded: " + light.errors());
                } finally {
                    stop.set(true);
                }

                long greedyAccepted = 0;
                long greedyDropped = 0;
                for (Future<Greedy> f : greedy) {
                    Greedy g = f.get(120, TimeUnit.SECONDS);
                    assertTrue(!g.hitBound() && g.stoppedAt() > lightDoneAt,
                            "the light client was answered only after a greedy client stopped sending (starved)");
                    long d = g.ack().path("dropped").asLong();
                    assertEquals(g.sent(), g.ack().get("accepted").asLong() + d, "greedy: every line counted");
                    greedyAccepted += g.ack().get("accepted").asLong();
                    greedyDropped += d;
                }
                if (drop) {
                    assertTrue(accepted > 0, "drop: the light client gets points accepted at all");
                    if (dropped > 0) {
                        assertTrue(overloadedReplies > 0, "drop: dropped light points come with an overloaded reply");
                    }
                } else {
                    assertEquals(0, greedyDropped, "block never drops");
                }

                long[] sorted = rtt.clone();
                Arrays.sort(sorted);
                System.out.printf("FairnessTest overflow=%s: light sync round trip p50 %.1f ms, max %.1f ms"
                                + " (all %s ms); light accepted %d dropped %d overloaded replies %d;"
                                + " greedy sent %d accepted %d dropped %d%n",
                        overflow, sorted[LIGHT_BATCHES / 2] / 1e6, sorted[LIGHT_BATCHES - 1] / 1e6,
                        Arrays.toString(Arrays.stream(rtt).map(n -> n / 1_000_000).toArray()),
                        accepted, dropped, overloadedReplies, greedySent.get(), greedyAccepted, greedyDropped);
                // Generous: a starved client would wait for the greedy load to end; the light one does not.
                assertTrue(sorted[LIGHT_BATCHES - 1] < TimeUnit.SECONDS.toNanos(15), "light sync took too long");
            } finally {
                stop.set(true);
                pool.shutdownNow();
                pool.awaitTermination(30, TimeUnit.SECONDS);
            }
            JsonNode stats = ConnectionLimitsTest.awaitStats(server, s -> s.path("connections").asLong() == 0
                    && s.path("bufferDepth").asLong() == 0);
            assertEquals(stats.get("received").asLong(), stats.get("accepted").asLong()
                    + stats.get("rejected").asLong() + stats.get("dropped").asLong());
            assertEquals(0, stats.get("errors").asLong());
        }
    }

    /**
     * The drop policy's reserve, on the buffer alone: the last eighth is for light batches (small, not cut from a
     * read that filled a batch, from a connection with nothing in flight); sessions cut batches to the rest.
     */
    @Test
    void underDropTheLastEighthIsKeptForLightBatches() {
        IngestBuffer buffer = new IngestBuffer(800, Overflow.DROP);
        assertEquals(100, buffer.reserve());
        assertEquals(700, buffer.maxBatchPoints());
        assertEquals(800, new IngestBuffer(800, Overflow.BLOCK).maxBatchPoints());
        Batch.Owner greedy = b -> { };
        Batch.Owner other = b -> { };
        Batch.Owner light = b -> { };
        Batch first = batch(greedy, 650);
        assertSame(first, buffer.admit(first, Runnable::run).block());
        Batch more = batch(greedy, 60);
        assertNull(buffer.admit(more, Runnable::run).block(), "a connection with points in flight: not the reserve");
        assertEquals(DropReason.OVERLOADED, more.dropped());
        Batch big = batch(other, 120);
        assertNull(buffer.admit(big, Runnable::run).block(), "a batch larger than the reserve: not the reserve");
        Batch tail = batch(other, 60);
        tail.markBulk();
        assertNull(buffer.admit(tail, Runnable::run).block(), "the tail of a bulk read: not the reserve");
        Batch small = batch(light, 60);
        assertSame(small, buffer.admit(small, Runnable::run).block(), "a light batch takes the reserve");
        assertEquals(710, buffer.depth());
        buffer.release(first);
        Batch again = batch(greedy, 600);
        assertSame(again, buffer.admit(again, Runnable::run).block(), "below the reserve anyone fits");
        assertEquals(660, buffer.depth());
    }

    private static Batch batch(Batch.Owner owner, int points) {
        List<Point> list = new ArrayList<>();
        for (int i = 0; i < points; i++) {
            list.add(new Point(SeriesKey.of("m", Map.of()), i, 1_000L + i, i + 1));
        }
        return new Batch(owner, list, new ArrayList<>(), null);
    }

    /** Waits until the greedy clients fill the buffer: batches waiting (block) or points dropped (drop). */
    private static void awaitSaturation(TestServer server, boolean drop, AtomicLong greedySent) throws Exception {
        Predicate<JsonNode> saturated = s -> drop ? s.path("dropped").asLong() > 0 : s.path("bufferWaiting").asLong() > 0;
        JsonNode s = Poll.until(() -> JSON.readTree(server.get("/api/v1/stats").body()), saturated,
                Duration.ofNanos(SATURATE_NANOS));
        if (!saturated.test(s)) {
            throw new AssertionError("the greedy clients never saturated the buffer (sent " + greedySent.get() + "): " + s);
        }
    }

    /**
     * Streams 1000-line chunks as fast as the server takes them until told to stop or a bound is reached, reading
     * replies on a second thread (so overloaded replies never fill the socket), then syncs.
     */
    private static Greedy greedy(TestServer server, int client, AtomicBoolean stop, AtomicLong total,
                                 ExecutorService pool) throws Exception {
        try (LineClient c = server.connect()) {
            Future<JsonNode> reader = pool.submit(() -> {
                while (true) {
                    JsonNode reply = c.readReply();
                    if (reply == null) {
                        throw new AssertionError("greedy " + client + ": connection closed before its sync");
                    }
                    if (reply.has("synced")) {
                        return reply;
                    }
                    if (!reply.path("error").asText().equals("overloaded")) {
                        throw new AssertionError("greedy " + client + ": unexpected reply " + reply);
                    }
                }
            });
            long start = System.nanoTime();
            long sent = 0;
            boolean hitBound = false;
            StringBuilder sb = new StringBuilder();
            while (!stop.get()) {
                if (sent >= GREEDY_MAX_LINES || System.nanoTime() - start > GREEDY_MAX_NANOS) {
                    hitBound = true;
                    break;
                }
                sb.setLength(0);
                for (int i = 0; i < 1000; i++, sent++) {
                    sb.append("{\"metric\":\"greedy\",\"value\":").append(sent)
                            .append(",\"tags\":{\"client\":\"g").append(client).append("\",\"k\":\"")
                            .append(sent % 20).append("\"}}\n");
                }
                c.send(sb.toString().getBytes(StandardCharsets.UTF_8));
                total.addAndGet(1000);
            }
            long stoppedAt = System.nanoTime();
            c.send("{\"sync\":\"end-" + client + "\"}\n");
            JsonNode ack = reader.get(120, TimeUnit.SECONDS);
            return new Greedy(sent, ack, stoppedAt, hitBound);
        }
    }
}
