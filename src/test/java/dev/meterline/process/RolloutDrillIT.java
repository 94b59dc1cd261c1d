package dev.meterline.process;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.meterline.AggregateResults;
import dev.meterline.Poll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A Kubernetes rolling update, as the pod sees it: SIGTERM while four clients are streaming. Readiness must flip
 * within 1 s, connections that keep sending are read until the drain deadline (60 % of the shutdown timeout), every
 * point acknowledged before the SIGTERM (and everything the server counted as accepted) is in storage after a
 * restart, and the process exits 0 well inside the pod's termination grace period.
 */
class RolloutDrillIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int CLIENTS = 4;
    private static final long SHUTDOWN_TIMEOUT_MS = 6_000;
    private static final long DRAIN_DEADLINE_MS = SHUTDOWN_TIMEOUT_MS * 6 / 10;
    private static final long GRACE_PERIOD_MS = 35_000;

    @TempDir
    Path dir;

    @Test
    void sigtermWhileFourClientsStream() throws Exception {
        long testStart = System.currentTimeMillis();
        List<Streamer> clients = new ArrayList<>();
        long sigtermAt;
        long flippedAt;
        long exitedAt;
        long acceptedByServer;
        try (ServerProcess server = ServerProcess.start("drill", dir,
                "--shutdown-timeout=" + SHUTDOWN_TIMEOUT_MS + "ms", "--stats-interval=0s")) {
            for (int c = 0; c < CLIENTS; c++) {
                Streamer s = new Streamer("c" + c, server.tcpPort());
                clients.add(s);
                s.start();
            }
            // Let them stream for a while (a few flush ticks at their pace), until each has had acknowledgements.
            Poll.until(() -> clients.stream().allMatch(s -> s.acked >= 20_000), warm -> warm, Duration.ofSeconds(30));
            long[] ackedBeforeSigterm = new long[CLIENTS];
            for (int c = 0; c < CLIENTS; c++) {
                ackedBeforeSigterm[c] = clients.get(c).acked;
                assertTrue(ackedBeforeSigterm[c] > 0, "client " + c + " streamed before the SIGTERM");
            }

            // Ready before the SIGTERM; these polls also warm up the HTTP path (client and server), so the timing
            // below measures the flip, not a first request.
            for (int k = 0; k < 20; k++) {
                HttpResponse<String> r = server.get("/readyz");
                assertEquals(200, r.statusCode(), r.body());
            }
            sigtermAt = System.currentTimeMillis();
            server.terminate();
            long[] slowestPoll = {0};
            int status = Poll.until(() -> {
                long sent = System.currentTimeMillis();
                int code = server.get("/readyz").statusCode();
                slowestPoll[0] = Math.max(slowestPoll[0], System.currentTimeMillis() - sent);
                return code;
            }, code -> code == 503, Duration.ofSeconds(2));
            flippedAt = System.currentTimeMillis();
            assertEquals(503, status, "/readyz answered 503 within 2 s of the SIGTERM");
            System.out.println("drill: readiness flipped " + (flippedAt - sigtermAt) + " ms after SIGTERM (slowest poll "
                    + slowestPoll[0] + " ms)");
            assertTrue(flippedAt - sigtermAt <= 1_000, "readiness flipped " + (flippedAt - sigtermAt) + " ms after SIGTERM");

            // Once the listener is closed (logged a few ms after the flip; a client that connects in between is an
            // ordinary drained connection), a new client is refused or told the server is shutting down.
            Poll.until(() -> server.line("stop accepting done"), l -> l != null, Duration.ofSeconds(5));
            assertNotNull(server.line("stop accepting done"), "the listener was closed");
            assertNewConnectionRefused(server.tcpPort(), Duration.ofSeconds(2));

            int exit = server.waitFor(Duration.ofMillis(GRACE_PERIOD_MS));
            exitedAt = System.currentTimeMillis();
            assertEquals(0, exit, "exit status after SIGTERM (-1: still running after the grace period)");
            assertTrue(exitedAt - sigtermAt < GRACE_PERIOD_MS, "exited " + (exitedAt - sigtermAt) + " ms after SIGTERM");
            for (Streamer s : clients) {
                s.join(10_000);
                assertTrue(!s.isAlive(), s.name + " noticed the closed connection");
            }

            for (int c = 0; c < CLIENTS; c++) {
                Streamer s = clients.get(c);
                // Drained, not cut at once: acknowledgements kept coming after the SIGTERM, nearly until the deadline…
                assertTrue(s.lastAckAt - sigtermAt >= DRAIN_DEADLINE_MS - 1_000,
                        s.name + ": last acknowledgement " + (s.lastAckAt - sigtermAt) + " ms after SIGTERM");
                // …and the server closed the connection at the drain deadline, not before.
                assertTrue(s.closedAt - sigtermAt >= DRAIN_DEADLINE_MS - 200,
                        s.name + ": closed " + (s.closedAt - sigtermAt) + " ms after SIGTERM");
                assertTrue(s.closedAt - sigtermAt < SHUTDOWN_TIMEOUT_MS + 5_000,
                        s.name + ": closed " + (s.closedAt - sigtermAt) + " ms after SIGTERM");
                assertTrue(s.acked > ackedBeforeSigterm[c], s.name + " got acknowledgements while draining");
                assertEquals(null, s.errorReply, s.name + " got an error line");
            }
            assertTrue(exitedAt - sigtermAt < SHUTDOWN_TIMEOUT_MS + 10_000,
                    "exited " + (exitedAt - sigtermAt) + " ms after SIGTERM, shutdown timeout " + SHUTDOWN_TIMEOUT_MS);

            String finalStats = server.line("final stats");
            assertNotNull(finalStats, "the final stats line is printed");
            acceptedByServer = ServerProcess.stat(finalStats, "accepted");
            assertEquals(0, ServerProcess.stat(finalStats, "rejected"), finalStats);
            assertEquals(ServerProcess.stat(finalStats, "received"), acceptedByServer
                    + ServerProcess.stat(finalStats, "dropped"), finalStats);
            assertEquals(0, ServerProcess.stat(finalStats, "pendingWindows"), finalStats);
            assertEquals(0, ServerProcess.stat(finalStats, "openWindows"), finalStats);
            assertEquals(0, ServerProcess.stat(finalStats, "flushFailures"), finalStats);
            assertTrue(server.line("graceful stop incomplete") == null, "the stop completed within its budget");
            long acked = clients.stream().mapToLong(c -> c.acked).sum();
            long lastClose = clients.stream().mapToLong(c -> c.closedAt).max().orElseThrow();
            System.out.println("drill: " + acceptedByServer + " points accepted, " + acked + " acknowledged; connections"
                    + " cut " + (lastClose - sigtermAt) + " ms and exit " + (exitedAt - sigtermAt) + " ms after SIGTERM");
        }

        try (ServerProcess restarted = ServerProcess.start("restarted", dir, "--stats-interval=0s")) {
            AggregateResults after = AggregateResults.parse(restarted.get("/api/v1/aggregates?metric=drill.points&from="
                    + (testStart - 60_000) + "&to=" + (System.currentTimeMillis() + 600_000)).body());
            Map<String, Long> counts = after.countBySeries();
            long total = 0;
            for (Streamer s : clients) {
                long stored = counts.getOrDefault("client=" + s.name, 0L);
                assertTrue(stored >= s.acked, s.name + ": " + stored + " stored, " + s.acked + " acknowledged");
                total += stored;
            }
            assertEquals(acceptedByServer, total, "everything the server accepted is stored");
            assertEquals(after.sumBySeries().values().stream().mapToDouble(Double::doubleValue).sum(), (double) total,
                    "every value is 1");
        }
    }

    private static void assertNewConnectionRefused(int port, Duration within) throws Exception {
        String answer = Poll.until(() -> {
            try (Socket s = new Socket("127.0.0.1", port)) {
                s.setSoTimeout(2_000);
                BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
                String line = in.readLine();
                return line == null ? "end of stream" : line;
            } catch (ConnectException refused) {
                return "refused";
            } catch (IOException e) {
                return e.toString();
            }
        }, a -> a.equals("refused") || a.contains("shutting down"), within);
        assertTrue(answer.equals("refused") || answer.contains("shutting down"),
                "a new TCP connection was still taken after the SIGTERM: " + answer);
    }

    /**
     * One streaming client: a writer sends chunks of points, each followed by a sync, without waiting; this thread
     * reads the acknowledgements. Both stop quietly when the server closes the connection.
     */
    private static final class Streamer extends Thread {
        private static final int CHUNK = 100;

        final String name;
        private final int port;
        volatile long acked;
        volatile long lastAckAt;
        volatile long closedAt;
        volatile String closedBy;
        volatile String errorReply;

        Streamer(String name, int port) {
            super("streamer-" + name);
            this.name = name;
            this.port = port;
            setDaemon(true);
        }

        @Override
        public void run() {
            try (Socket socket = new Socket("127.0.0.1", port)) {
                socket.setSoTimeout(30_000);
                OutputStream out = socket.getOutputStream();
                byte[] chunk = chunk();
                Thread writer = new Thread(() -> {
                    try {
                        for (long n = 0; ; n++) {
                            out.write(chunk);
                            out.write(("{\"sync\":\"" + n + "\"}\n").getBytes(StandardCharsets.UTF_8));
                            out.flush();
                            // A steady stream (up to ~20 000 points/s per client), not a CPU hog: the drill is
                            // about timing, and the machine has 2 cores for the server and the clients together.
                            Thread.sleep(5);
                        }
                    } catch (IOException closed) {
                        // the server closed the connection
                    } catch (InterruptedException stop) {
                        Thread.currentThread().interrupt();
                    }
                }, "writer-" + name);
                writer.setDaemon(true);
                writer.start();
                BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(),
                        StandardCharsets.UTF_8));
                String line;
                while ((line = in.readLine()) != null) {
                    JsonNode reply = JSON.readTree(line);
                    if (!reply.has("synced")) {
                        errorReply = line;
                        continue;
                    }
                    acked = reply.get("accepted").asLong();
                    lastAckAt = System.currentTimeMillis();
                }
                closedBy = "end of stream";
            } catch (IOException e) {
                closedBy = e.toString();
            } finally {
                closedAt = System.currentTimeMillis();
            }
        }

        private byte[] chunk() {
            StringBuilder sb = new StringBuilder(CHUNK * 80);
            for (int i = 0; i < CHUNK; i++) {
                sb.append("{\"metric\":\"drill.points\",\"value\":1,\"tags\":{\"client\":\"").append(name)
                        .append("\"}}\n");
            }
            return sb.toString().getBytes(StandardCharsets.UTF_8);
        }
    }
}
