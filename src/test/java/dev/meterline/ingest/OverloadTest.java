package dev.meterline.ingest;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.meterline.LineClient;
import dev.meterline.TestServer;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Overload far past a tiny ingest buffer, under both policies, for a bounded time and count: for every client and
 * for the server, received = accepted + rejected + dropped; no connection dies; afterwards a new client sees no
 * error and no drop.
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
            ExecutorService pool = Executors.newFixedThreadPool(CLIENTS);
            List<Future<Outcome>> futures = new ArrayList<>();
            for (int c = 0; c < CLIENTS; c++) {
                int client = c;
                futures.add(pool.submit(() -> blast(server, client)));
            }
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

    /** Sends as fast as the server takes them, every 100th line bad (its error replies stay well within the socket buffers, as the client reads only at the end), for a bounded time and count; then syncs. */
    private static Outcome blast(TestServer server, int client) throws Exception {
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
                c.send(sb.toString());
            }
            JsonNode ack = c.sync("end-" + client);
            assertTrue(c.errors().size() <= bad + ack.path("dropped").asLong(), "no error beyond rejects and drops");
            return new Outcome(sent, bad, ack);
        }
    }
}
