package dev.meterline.ingest;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.meterline.LineClient;
import dev.meterline.Poll;
import dev.meterline.TestServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Connection limits over real sockets: a flood past the total and per-address limits is refused at once and
 * counted, slow senders (slowloris) are cut at the line timeout while a good client sees no error, and a client that
 * never reads its replies stops being read and is closed at the write timeout. Every other connection goes on.
 */
class ConnectionLimitsTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String GOOD_LINE = "{\"metric\":\"good\",\"value\":1}\n";

    @TempDir
    Path dir;

    @Test
    void floodPastThePerClientLimitIsRefusedAtOnceAndCounted() throws Exception {
        try (TestServer server = TestServer.start(dir, Map.of("max-connections-per-client", "10"))) {
            List<String> outcomes = flood(server, 30);
            assertEquals(10, outcomes.stream().filter(o -> o.startsWith("synced")).count(), outcomes.toString());
            assertEquals(20, outcomes.stream().filter(o -> o.equals("too many connections from this address")).count(),
                    outcomes.toString());
            JsonNode stats = awaitStats(server, s -> s.path("connections").asLong() == 0);
            assertEquals(20, stats.path("connectionsRefusedByReason").path("per_client_limit").asLong());
            assertEquals(20, stats.path("connectionsRefused").asLong());
            assertGoodClientWorks(server);
        }
    }

    @Test
    void floodPastTheTotalLimitIsRefusedAtOnceAndCounted() throws Exception {
        try (TestServer server = TestServer.start(dir, Map.of("max-connections", "5"))) {
            List<String> outcomes = flood(server, 12);
            assertEquals(5, outcomes.stream().filter(o -> o.startsWith("synced")).count(), outcomes.toString());
            assertEquals(7, outcomes.stream().filter(o -> o.equals("too many connections")).count(), outcomes.toString());
            JsonNode stats = awaitStats(server, s -> s.path("connections").asLong() == 0);
            assertEquals(7, stats.path("connectionsRefusedByReason").path("total_limit").asLong());
            assertGoodClientWorks(server);
        }
    }

    /**
     * Opens {@code n} connections at once, waits until the server has answered each (accepted, or refused with a
     * line), then syncs on the accepted ones; returns "synced …" or the refusal message per connection.
     */
    private static List<String> flood(TestServer server, int n) throws Exception {
        List<Socket> sockets = new ArrayList<>();
        List<String> outcomes = new ArrayList<>();
        try {
            for (int i = 0; i < n; i++) {
                Socket s = new Socket("127.0.0.1", server.tcpPort());
                s.setSoTimeout(30_000);
                sockets.add(s);
            }
            JsonNode handled = awaitStats(server,
                    st -> st.path("connections").asLong() + st.path("connectionsRefused").asLong() == n);
            long refused = handled.path("connectionsRefused").asLong();
            Poll.until(() -> withData(sockets), got -> got >= refused, Duration.ofSeconds(60));
            for (int i = 0; i < n; i++) {
                Socket s = sockets.get(i);
                boolean refusedOne = s.getInputStream().available() > 0;
                if (!refusedOne) {
                    s.getOutputStream().write(("{\"sync\":\"s" + i + "\"}\n").getBytes(StandardCharsets.UTF_8));
                }
                String line = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8))
                        .readLine();
                JsonNode reply = JSON.readTree(line);
                outcomes.add(reply.has("synced") ? "synced " + reply.get("synced").asText() : reply.get("error").asText());
            }
        } finally {
            for (Socket s : sockets) {
                s.close();
            }
        }
        return outcomes;
    }

    private static int withData(List<Socket> sockets) throws IOException {
        int n = 0;
        for (Socket s : sockets) {
            if (s.getInputStream().available() > 0) {
                n++;
            }
        }
        return n;
    }

    @Test
    void slowlorisConnectionsAreCutAtTheLineTimeoutWhileAGoodClientSeesNoError() throws Exception {
        int slow = 100;
        try (TestServer server = TestServer.start(dir, Map.of("line-timeout", "1s"))) {
            List<Socket> sockets = new ArrayList<>();
            byte[] partial = "{\"metric\":\"slow\",\"value\":1,\"tags\":{\"k\":\"vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv"
                    .getBytes(StandardCharsets.UTF_8);
            long goodAccepted = 0;
            try (LineClient good = server.connect()) {
                for (int i = 0; i < slow; i++) {
                    Socket s = new Socket("127.0.0.1", server.tcpPort());
                    s.setSoTimeout(30_000);
                    sockets.add(s);
                }
                boolean[] stopped = new boolean[slow];
                // One byte per connection every 100 ms, for at most partial.length rounds (about 6 s), never a newline.
                for (int round = 0; round < partial.length; round++) {
                    int open = 0;
                    for (int i = 0; i < slow; i++) {
                        if (stopped[i]) {
                            continue;
                        }
                        Socket s = sockets.get(i);
                        try {
                            if (s.getInputStream().available() > 0) {
                                stopped[i] = true; // the server answered: it is closing this one
                                continue;
                            }
                            s.getOutputStream().write(partial[round]);
                            open++;
                        } catch (IOException closed) {
                            stopped[i] = true;
                        }
                    }
                    good.send(GOOD_LINE.repeat(20));
                    goodAccepted += 20;
                    JsonNode ack = good.sync("round-" + round);
                    assertEquals(goodAccepted, ack.get("accepted").asLong());
                    if (open == 0) {
                        break;
                    }
                    Thread.sleep(100);
                }
                assertEquals(List.of(), good.errors(), "the good client sees no error");
                int cutWithMessage = 0;
                for (Socket s : sockets) {
                    String reply = readToEnd(s.getInputStream());
                    if (reply.equals("{\"error\":\"line not completed within 1s\",\"line\":1}\n")) {
                        cutWithMessage++;
                    }
                }
                assertEquals(slow, cutWithMessage, "every slow connection is told why and closed");
                good.send(GOOD_LINE);
                assertEquals(goodAccepted + 1, good.sync("after").get("accepted").asLong());
            } finally {
                for (Socket s : sockets) {
                    s.close();
                }
            }
            JsonNode stats = awaitStats(server, s -> s.path("connections").asLong() == 0);
            assertEquals(slow, stats.path("connectionsClosedByReason").path("line_timeout").asLong());
            assertEquals(0, stats.path("rejected").asLong(), "a line the server cut is not input");
            assertEquals(0, stats.path("repliesDropped").asLong());
            assertEquals(stats.path("received").asLong(), stats.path("accepted").asLong()
                    + stats.path("rejected").asLong() + stats.path("dropped").asLong());
        }
    }

    @Test
    void aClientThatNeverReadsIsNoLongerReadAndIsClosedAtTheWriteTimeout() throws Exception {
        try (TestServer server = TestServer.start(dir, Map.of("write-timeout", "1s"))) {
            Socket deaf = new Socket();
            deaf.setReceiveBufferSize(4096);
            deaf.connect(new InetSocketAddress("127.0.0.1", server.tcpPort()));
            AtomicLong sent = new AtomicLong();
            // Every line is bad, so every line gets an error reply that the client never reads; at most 64 MiB.
            Thread writer = new Thread(() -> {
                byte[] chunk = "x\n".repeat(32 * 1024).getBytes(StandardCharsets.UTF_8);
                try (OutputStream out = deaf.getOutputStream()) {
                    while (sent.get() < 64L << 20) {
                        out.write(chunk);
                        sent.addAndGet(chunk.length);
                    }
                } catch (IOException closedByServer) {
                    // expected: the server gave up on this client
                }
            }, "deaf-writer");
            writer.setDaemon(true);
            writer.start();
            JsonNode stats = awaitStats(server,
                    s -> s.path("connectionsClosedByReason").path("write_timeout").asLong() == 1);
            assertEquals(1, stats.path("connectionsClosedByReason").path("write_timeout").asLong());
            writer.join(30_000);
            deaf.close();
            assertTrue(sent.get() < 64L << 20, "the server stopped reading long before the client's bound: " + sent);
            assertGoodClientWorks(server);
            JsonNode idle = awaitStats(server, s -> s.path("connections").asLong() == 0);
            assertEquals(idle.path("received").asLong(), idle.path("accepted").asLong()
                    + idle.path("rejected").asLong() + idle.path("dropped").asLong());
        }
    }

    @Test
    void connectionsResetByTheirClientsEndOnlyThemselves() throws Exception {
        try (TestServer server = TestServer.start(dir, Map.of())) {
            for (int i = 0; i < 20; i++) {
                Socket s = new Socket("127.0.0.1", server.tcpPort());
                s.getOutputStream().write((GOOD_LINE.repeat(50) + "{\"metric\":\"half").getBytes(StandardCharsets.UTF_8));
                s.setSoLinger(true, 0);
                s.close(); // RST instead of FIN
            }
            assertGoodClientWorks(server);
            JsonNode stats = awaitStats(server, s -> s.path("connections").asLong() == 0);
            assertEquals(0, stats.path("connections").asLong());
            assertEquals("ready", stats.path("state").asText());
            assertEquals(stats.path("received").asLong(), stats.path("accepted").asLong()
                    + stats.path("rejected").asLong() + stats.path("dropped").asLong());
        }
    }

    private static String readToEnd(InputStream in) {
        StringBuilder sb = new StringBuilder();
        try {
            byte[] b = new byte[256];
            int n;
            while ((n = in.read(b)) > 0) {
                sb.append(new String(b, 0, n, StandardCharsets.UTF_8));
            }
        } catch (IOException reset) {
            sb.append("<reset>");
        }
        return sb.toString();
    }

    private static void assertGoodClientWorks(TestServer server) throws IOException {
        try (LineClient c = server.connect()) {
            c.send(GOOD_LINE.repeat(3));
            assertEquals(3, c.sync("good").get("accepted").asLong());
            assertEquals(List.of(), c.errors());
        }
    }

    /** Polls {@code /api/v1/stats} until the condition holds (generous deadline) and returns the last snapshot. */
    static JsonNode awaitStats(TestServer server, Predicate<JsonNode> condition) throws Exception {
        return Poll.until(() -> JSON.readTree(server.get("/api/v1/stats").body()), condition, Duration.ofSeconds(60));
    }
}
