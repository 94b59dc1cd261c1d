package dev.meterline.ingest;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.meterline.Background;
import dev.meterline.LineClient;
import dev.meterline.Poll;
import dev.meterline.TestServer;
import dev.meterline.lifecycle.Readiness;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** How a TCP connection ends: the client's half-close, and the server's cut at the drain deadline. */
class ConnectionEndTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    @Test
    void halfCloseIsAnsweredThenClosedAtOnce() throws Exception {
        try (TestServer server = TestServer.start(dir, Map.of());
             LineClient client = server.connect()) {
            client.send("{\"metric\":\"end.half\",\"value\":1}\n{\"metric\":\"end.half\"}\n"
                    + "{\"metric\":\"end.half\",\"value\":2}"); // the last line has no newline: it still counts
            long t0 = System.nanoTime();
            client.shutdownOutput();
            JsonNode error = client.readReply();
            assertEquals(2, error.get("line").asInt(), error.toString());
            assertNull(client.readReply(), "closed after the answers");
            long ms = Duration.ofNanos(System.nanoTime() - t0).toMillis();
            assertTrue(ms < 2_000, "closed " + ms + " ms after the half-close, not at the idle timeout");
            // The client sees the close before the server's connection count drops: wait for it.
            JsonNode stats = Poll.until(() -> JSON.readTree(server.get("/api/v1/stats").body()),
                    s -> s.get("connections").asLong() == 0, Duration.ofSeconds(5));
            assertEquals(2, stats.get("accepted").asLong(), stats.toString());
            assertEquals(1, stats.get("rejected").asLong(), stats.toString());
            assertEquals(0, stats.get("connections").asLong(), stats.toString());
        }
    }

    @Test
    void halfClosedConnectionDoesNotHoldTheDrain() throws Exception {
        TestServer server = TestServer.start(dir, Map.of("shutdown-timeout", "20s"));
        try (LineClient client = server.connect()) {
            client.send("{\"metric\":\"end.drain\",\"value\":1}\n");
            client.sync("one");
            long t0 = System.nanoTime();
            CompletableFuture<Void> stop = Background.run("stop", server::stop);
            server.pipeline().readiness().changes().filter(s -> s == Readiness.State.DRAINING)
                    .blockFirst(Duration.ofSeconds(10));
            client.send("{\"metric\":\"end.drain\",\"value\":1}\n");
            assertEquals(2, client.sync("two").get("accepted").asLong(), "still read while draining");
            client.shutdownOutput();
            assertNull(client.readReply());
            stop.get();
            long ms = Duration.ofNanos(System.nanoTime() - t0).toMillis();
            assertTrue(ms < 5_000, "stopped " + ms + " ms after the stop began; the drain deadline is 12 s");
        }
    }

    @Test
    void cutAtTheDrainDeadlineDropsThePartialLineSilently() throws Exception {
        TestServer server = TestServer.start(dir, Map.of("shutdown-timeout", "2s"));
        try (LineClient client = server.connect()) {
            client.send("{\"metric\":\"end.cut\",\"value\":1}\n");
            client.sync("one");
            // Half a line, as a client streaming when the deadline strikes leaves it; the server reads it well
            // within the 1.2 s between the stop and the cut.
            client.send("{\"metric\":\"end.cut\",\"val");
            long t0 = System.nanoTime();
            CompletableFuture<Void> stop = Background.run("stop", server::stop);
            assertNull(client.readReply(), "cut at the drain deadline without an error for the cut-off line");
            long ms = Duration.ofNanos(System.nanoTime() - t0).toMillis();
            assertTrue(ms >= 1_000, "cut " + ms + " ms after the stop began; the drain deadline is 1.2 s");
            stop.get();
        }
        Map<String, Object> stats = server.pipeline().stats();
        assertEquals(1L, stats.get("accepted"), stats.toString());
        assertEquals(0L, stats.get("rejected"), stats.toString());
        assertEquals(1L, stats.get("received"), stats.toString());
    }
}
