package dev.meterline.process;

import com.fasterxml.jackson.databind.JsonNode;
import dev.meterline.LineClient;
import dev.meterline.store.RestartablePostgres;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The built jar killed with SIGKILL right after it acknowledged points, restarted on the same data directory: every
 * acknowledged point is counted exactly once, with both stores. Windows of one second and flushes every 200 ms make
 * sure that some windows were stored before each kill, so that replay has to tell them from the ones it rebuilds.
 */
class CrashRecoveryIT {

    private static final String[] FAST_WINDOWS = {"--window=1s", "--lateness=0s", "--flush-interval=200ms",
            "--retention=1s:1d,1m:30d", "--stats-interval=0s", "--shards=2"};

    @TempDir
    Path dir;

    private String[] flags(String store, String url) {
        List<String> all = new ArrayList<>(List.of(FAST_WINDOWS));
        if (store.equals("postgres")) {
            all.add("--storage-url=" + url);
            all.add("--storage-user=postgres");
            all.add("--replica-id=crash-test");
        }
        return all.toArray(String[]::new);
    }

    /** Sends {@code points} points over {@code series} series of {@code metric} and syncs; returns the sync answer. */
    private static JsonNode sendAndSync(LineClient c, String metric, int series, int points, int from, String id)
            throws IOException {
        StringBuilder sb = new StringBuilder(points * 90);
        long now = System.currentTimeMillis();
        for (int i = 0; i < points; i++) {
            int n = from + i;
            sb.append("{\"metric\":\"").append(metric).append("\",\"value\":").append(n % 10).append(",\"timestamp\":")
                    .append(now).append(",\"tags\":{\"s\":\"").append(n % series).append("\"}}\n");
        }
        c.send(sb.toString());
        return c.sync(id);
    }

    /** Count per series ({@code s} tag) of {@code metric}, merged from open and stored windows. */
    private static Map<String, Long> counts(ServerProcess server, String metric) throws Exception {
        long now = System.currentTimeMillis();
        JsonNode body = server.getJson("/api/v1/aggregates?metric=" + metric + "&from=" + (now - 3_600_000)
                + "&to=" + (now + 3_600_000));
        Map<String, Long> out = new TreeMap<>();
        for (JsonNode s : body.path("series")) {
            long n = 0;
            for (JsonNode w : s.path("windows")) {
                n += w.path("count").asLong();
            }
            out.put(s.path("tags").path("s").asText(), n);
        }
        return out;
    }

    private static long sum(Map<String, Long> counts) {
        return counts.values().stream().mapToLong(Long::longValue).sum();
    }

    @ParameterizedTest
    @ValueSource(strings = {"sqlite", "postgres"})
    void everyAcknowledgedPointSurvivesKillMinusNineExactlyOnce(String store) throws Exception {
        RestartablePostgres pg = store.equals("postgres") ? RestartablePostgres.start(dir.resolve("pg")) : null;
        try {
            String url = pg == null ? "" : pg.createDatabase("crash");
            Path data = dir.resolve("data");
            int series = 20;
            int perSync = 500;
            long acknowledged = 0;
            int sent = 0;
            for (int round = 1; round <= 3; round++) {
                ServerProcess server = ServerProcess.start(store + "-" + round, data, flags(store, url));
                if (round > 1) {
                    assertEquals(acknowledged, sum(counts(server, "crash.test")),
                            "after kill " + (round - 1) + ": every acknowledged point, once");
                }
                try (LineClient c = new LineClient("127.0.0.1", server.tcpPort())) {
                    // Several syncs spread over more than a window, so that some windows are stored before the kill.
                    for (int i = 0; i < 8; i++) {
                        JsonNode ack = sendAndSync(c, "crash.test", series, perSync, sent, "r" + round + "-" + i);
                        sent += perSync;
                        acknowledged += perSync;
                        assertEquals(perSync * (i + 1L), ack.path("accepted").asLong(), ack.toString());
                        if (i == 3) {
                            waitForStoredWindows(server);
                        }
                    }
                }
                server.kill();
            }
            try (ServerProcess last = ServerProcess.start(store + "-last", data, flags(store, url))) {
                Map<String, Long> counts = counts(last, "crash.test");
                assertEquals(acknowledged, sum(counts), "every acknowledged point, once: " + counts);
                assertEquals(series, counts.size());
                for (Map.Entry<String, Long> e : counts.entrySet()) {
                    assertEquals(acknowledged / series, e.getValue(), "series s=" + e.getKey());
                }
                last.terminate();
                assertEquals(0, last.waitFor(java.time.Duration.ofSeconds(30)));
            }
            // SIGTERM flushed everything and emptied the log: the next start replays no point.
            try (ServerProcess after = ServerProcess.start(store + "-after", data, flags(store, url))) {
                assertEquals(acknowledged, sum(counts(after, "crash.test")));
                String replayed = after.line("write-ahead log replayed");
                assertTrue(replayed == null || replayed.contains("replayed: 0 points"), replayed);
            }
        } finally {
            if (pg != null) {
                pg.close();
            }
        }
    }

    /** Waits until the server reports a stored window (its flush loop has committed something). */
    private static void waitForStoredWindows(ServerProcess server) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (server.getJson("/api/v1/stats").path("flushedWindows").asLong() == 0) {
            assertTrue(System.nanoTime() < deadline, "no window was stored within 30 s");
            Thread.onSpinWait();
        }
    }

    @Test
    void aKillLoopWithSeveralClientsNeverLosesAnAcknowledgedPointNorInventsOne() throws Exception {
        Path data = dir.resolve("loop");
        int clients = 4;
        int series = 5;
        int perSync = 200;
        // Per client and series: points acknowledged by a sync answer, and points written to the socket.
        Map<String, AtomicInteger> acked = new ConcurrentHashMap<>();
        Map<String, AtomicInteger> sent = new ConcurrentHashMap<>();
        Random random = new Random(20261129);
        for (int round = 1; round <= 5; round++) {
            ServerProcess server = ServerProcess.start("loop-" + round, data, flags("sqlite", ""));
            int killAfter = 3 + random.nextInt(20);
            CountDownLatch enough = new CountDownLatch(killAfter);
            List<Thread> threads = new ArrayList<>();
            int r = round;
            for (int k = 0; k < clients; k++) {
                String metric = "loop.c" + k;
                Thread t = new Thread(() -> {
                    try (LineClient c = new LineClient("127.0.0.1", server.tcpPort())) {
                        for (int i = 0; ; i++) {
                            StringBuilder sb = new StringBuilder();
                            long now = System.currentTimeMillis();
                            for (int p = 0; p < perSync; p++) {
                                sb.append("{\"metric\":\"").append(metric).append("\",\"value\":1,\"timestamp\":")
                                        .append(now).append(",\"tags\":{\"s\":\"").append(p % series).append("\"}}\n");
                            }
                            for (int s = 0; s < series; s++) {
                                sent.computeIfAbsent(metric + "/" + s, x -> new AtomicInteger())
                                        .addAndGet(perSync / series);
                            }
                            c.send(sb.toString());
                            c.sync("r" + r + "-" + i);
                            for (int s = 0; s < series; s++) {
                                acked.computeIfAbsent(metric + "/" + s, x -> new AtomicInteger())
                                        .addAndGet(perSync / series);
                            }
                            enough.countDown();
                        }
                    } catch (IOException e) {
                        // the server was killed
                    }
                }, "client-" + k);
                t.start();
                threads.add(t);
            }
            assertTrue(enough.await(60, TimeUnit.SECONDS), "clients were acknowledged");
            server.kill();
            for (Thread t : threads) {
                t.join(30_000);
            }
        }
        try (ServerProcess last = ServerProcess.start("loop-last", data, flags("sqlite", ""))) {
            for (int k = 0; k < clients; k++) {
                Map<String, Long> counts = counts(last, "loop.c" + k);
                for (int s = 0; s < series; s++) {
                    String key = "loop.c" + k + "/" + s;
                    long stored = counts.getOrDefault(String.valueOf(s), 0L);
                    long a = acked.get(key).get();
                    long w = sent.get(key).get();
                    assertTrue(a <= stored && stored <= w, key + ": acknowledged " + a + " <= stored " + stored
                            + " <= sent " + w);
                }
            }
        }
    }

    @Test
    void aServerStartsOnADamagedLogWithItsValidPrefix() throws Exception {
        Path data = dir.resolve("damaged");
        try (ServerProcess first = ServerProcess.start("damaged-1", data, flags("sqlite", ""));
             LineClient c = new LineClient("127.0.0.1", first.tcpPort())) {
            assertEquals(2_000, sendAndSync(c, "damage.test", 10, 2_000, 0, "a").path("accepted").asLong());
            first.kill();
        }
        Path wal = data.resolve("wal");
        java.util.TreeMap<String, Path> segments = new java.util.TreeMap<>();
        try (var files = java.nio.file.Files.list(wal)) {
            files.forEach(f -> segments.put(f.getFileName().toString(), f));
        }
        Path last = segments.lastEntry().getValue();
        long validBytes = java.nio.file.Files.size(last);
        // A torn record: a frame that promises 1 000 bytes, of which only a few made it to disk.
        java.nio.file.Files.write(last, new byte[]{3, 0, 0, 3, (byte) 0xE8, 1, 2, 3, 4, 5, 6, 7},
                java.nio.file.StandardOpenOption.APPEND);
        // And a segment of garbage after it.
        long next = Long.parseLong(last.getFileName().toString().substring(0, 16)) + 1;
        byte[] garbage = new byte[5_000];
        new Random(7).nextBytes(garbage);
        java.nio.file.Files.write(wal.resolve(String.format("%016d.wal", next)), garbage);

        try (ServerProcess second = ServerProcess.start("damaged-2", data, flags("sqlite", ""))) {
            assertEquals(2_000, sum(counts(second, "damage.test")), "the valid prefix holds every acknowledged point");
            String metrics = second.get("/metrics").body();
            assertTrue(metrics.contains("meterline_wal_corruptions_total 1.0"), metrics);
            String damaged = second.line("write-ahead log damaged");
            assertTrue(damaged != null && damaged.contains(last.getFileName().toString())
                    && damaged.contains("at offset " + validBytes), String.valueOf(damaged));
            assertTrue(!java.nio.file.Files.exists(wal.resolve(String.format("%016d.wal", next)))
                    || java.nio.file.Files.size(wal.resolve(String.format("%016d.wal", next))) < 5_000,
                    "the garbage after the damage is gone");
        }
    }
}
