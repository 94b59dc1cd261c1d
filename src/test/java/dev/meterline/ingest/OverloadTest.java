package dev.meterline.ingest;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.meterline.LineClient;
import dev.meterline.TestServer;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.ToLongFunction;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Overload far past a tiny ingest buffer, under both policies, for a bounded time and count: for every client and
 * for the server, received = accepted + rejected + dropped; no connection dies; afterwards a new client sees no
 * error and no drop. Memory stays bounded meanwhile: heap after GC and Netty's direct memory, halfway through and
 * after, grow by less than a leak of the volume sent would make them.
 */
class OverloadTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int CLIENTS = 8;
    private static final int MAX_LINES_PER_CLIENT = 150_000;
    private static final long MAX_NANOS = TimeUnit.SECONDS.toNanos(3);

    @TempDir
    Path dir;

    /** Lines sent and the final sync answer of one client. */
    private record Outcome(long sent, long badSent, JsonNode ack) {
    }

    @ParameterizedTest(name = "overflow={0}")
    @ValueSource(strings = {"block", "drop"})
    void invariantHoldsUnderOverloadAndTheServerRecovers(String overflow) throws Exception {
        try (TestServer server = TestServer.start(dir, Map.of("buffer-size", "128", "overflow", overflow))) {
            Memory before = Memory.measure(server);
            AtomicLong bytesSent = new AtomicLong();
            ExecutorService pool = Executors.newFixedThreadPool(CLIENTS);
            List<Future<Outcome>> futures = new ArrayList<>();
            for (int c = 0; c < CLIENTS; c++) {
                int client = c;
                futures.add(pool.submit(() -> blast(server, client, bytesSent)));
            }
            // Halfway through the overload (the clients still sending, unless they are done already).
            long halfway = System.nanoTime() + MAX_NANOS / 2;
            for (Future<Outcome> f : futures) {
                try {
                    f.get(Math.max(0, halfway - System.nanoTime()), TimeUnit.NANOSECONDS);
                } catch (TimeoutException | ExecutionException halfwayOrFailed) {
                    break; // halfway reached, or a client failed (its get below reports it)
                }
            }
            long sentByThen = bytesSent.get();
            Memory during = Memory.measure(server);
            long sent = 0;
            long acceptedByClients = 0;
            for (Future<Outcome> f : futures) {
                Outcome o = f.get(120, TimeUnit.SECONDS);
                JsonNode ack = o.ack();
                long dropped = ack.has("dropped") ? ack.get("dropped").asLong() : 0;
                assertEquals(o.sent(), ack.get("accepted").asLong() + ack.get("rejected").asLong() + dropped,
                        "per client: every line accounted for: " + ack);
                assertEquals(o.badSent(), ack.get("rejected").asLong(), "every bad line rejected, nothing else");
                if (overflow.equals("block")) {
                    assertEquals(0, dropped, "block never drops");
                }
                sent += o.sent();
                acceptedByClients += ack.get("accepted").asLong();
            }
            pool.shutdown();
            JsonNode stats = ConnectionLimitsTest.awaitStats(server, s -> s.path("connections").asLong() == 0
                    && s.path("bufferDepth").asLong() == 0);
            assertEquals(sent, stats.get("received").asLong());
            assertEquals(stats.get("received").asLong(), stats.get("accepted").asLong()
                    + stats.get("rejected").asLong() + stats.get("dropped").asLong());
            assertEquals(acceptedByClients, stats.get("accepted").asLong());
            assertEquals(0, stats.get("errors").asLong());
            assertEquals("ready", stats.get("state").asText());

            Memory end = Memory.measure(server);
            long total = bytesSent.get();
            System.out.printf("OverloadTest overflow=%s: sent %d lines, %.1f MiB (%.1f MiB at the halfway sample);"
                            + " heap after GC %s; Netty direct %s%n", overflow, sent, total / MIB, sentByThen / MIB,
                    Memory.figures(before, during, end, Memory::heap), Memory.figures(before, during, end, Memory::direct));
            // A server that kept what it read (as bytes, or as decoded points, which take more heap than their
            // lines) would still hold it after the overload: the heap would grow by about the volume sent or more.
            // Afterwards the bound is half that volume; halfway, while the buffer and one read per client are
            // legitimately held, the volume sent by then, but at least HALFWAY_FLOOR. Direct memory holds only
            // the reads in progress: half the volume, both times.
            assertTrue(total >= 16L << 20, "too little sent for a memory bound to mean anything: " + total);
            assertBounded("heap halfway", before.heap(), during.heap(),
                    Math.min(HEAP_BOUND, Math.max(HALFWAY_FLOOR, sentByThen)), sentByThen);
            assertBounded("heap after", before.heap(), end.heap(), Math.min(HEAP_BOUND, total / 2), total);
            assertBounded("Netty direct memory halfway", before.direct(), during.direct(),
                    Math.min(DIRECT_BOUND, Math.max(HALFWAY_FLOOR, sentByThen) / 2), sentByThen);
            assertBounded("Netty direct memory after", before.direct(), end.direct(),
                    Math.min(DIRECT_BOUND, total / 2), total);

            long droppedBefore = stats.get("dropped").asLong();
            try (LineClient after = server.connect()) {
                for (int round = 0; round < 10; round++) {
                    after.send("{\"metric\":\"after\",\"value\":1}\n".repeat(100));
                    after.sync("r" + round);
                }
                JsonNode ack = after.sync("done");
                assertEquals(1000, ack.get("accepted").asLong(), ack.toString());
                assertEquals(List.of(), after.errors(), "recovered: no error, no overload");
            }
            assertEquals(droppedBefore, JSON.readTree(server.get("/api/v1/stats").body()).get("dropped").asLong());
        }
    }

    private static final double MIB = 1024.0 * 1024.0;
    private static final long HEAP_BOUND = 256L << 20;
    private static final long DIRECT_BOUND = 64L << 20;
    private static final long HALFWAY_FLOOR = 32L << 20;

    private static void assertBounded(String what, long before, long now, long bound, long volume) {
        assertTrue(now - before < bound, what + " grew by " + (now - before) + " bytes (bound " + bound
                + ", sent " + volume + "): before " + before + ", now " + now);
    }

    /** Heap used after a full GC, and the Netty allocator's direct memory (its gauge on /metrics). */
    private record Memory(long heap, long direct) {

        static Memory measure(TestServer server) throws Exception {
            MemoryMXBean bean = ManagementFactory.getMemoryMXBean();
            long heap = Long.MAX_VALUE;
            for (int i = 0; i < 3; i++) { // the lowest of a few collections: a GC may leave garbage of the last tick
                System.gc(); // a full, stop-the-world collection: it returns when the heap has been collected
                heap = Math.min(heap, bean.getHeapMemoryUsage().getUsed());
            }
            String metrics = server.get("/metrics").body();
            return new Memory(heap, gauge(metrics, "netty_allocator_memory_used_bytes", "type=\"direct\""));
        }

        static String figures(Memory before, Memory during, Memory after, ToLongFunction<Memory> f) {
            return String.format("%.1f -> %.1f (halfway) -> %.1f MiB", f.applyAsLong(before) / MIB,
                    f.applyAsLong(during) / MIB, f.applyAsLong(after) / MIB);
        }

        private static long gauge(String prometheus, String name, String label) {
            for (String line : prometheus.split("\n")) {
                if (line.startsWith(name + "{") && line.contains(label)) {
                    return (long) Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
                }
            }
            throw new AssertionError(name + "{" + label + "} missing from /metrics");
        }
    }

    /** Sends as fast as the server takes them, every 100th line bad (its error replies stay well within the socket buffers, as the client reads only at the end), for a bounded time and count; then syncs. */
    private static Outcome blast(TestServer server, int client, AtomicLong bytesSent) throws Exception {
        try (LineClient c = server.connect()) {
            long start = System.nanoTime();
            long sent = 0;
            long bad = 0;
            StringBuilder sb = new StringBuilder();
            while (sent < MAX_LINES_PER_CLIENT && System.nanoTime() - start < MAX_NANOS) {
                sb.setLength(0);
                for (int i = 0; i < 1000; i++, sent++) {
                    if (sent % 100 == 99) {
                        sb.append("{\"metric\":\"load\",\"value\":\"bad\"}\n");
                        bad++;
                    } else {
                        sb.append("{\"metric\":\"load\",\"value\":").append(sent)
                                .append(",\"tags\":{\"client\":\"c").append(client).append("\",\"k\":\"")
                                .append(sent % 50).append("\"}}\n");
                    }
                }
                byte[] bytes = sb.toString().getBytes(StandardCharsets.UTF_8);
                c.send(bytes);
                bytesSent.addAndGet(bytes.length);
            }
            JsonNode ack = c.sync("end-" + client);
            assertTrue(c.errors().size() <= bad + ack.path("dropped").asLong(), "no error beyond rejects and drops");
            return new Outcome(sent, bad, ack);
        }
    }
}
