package dev.meterline.ingest;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.meterline.LineClient;
import dev.meterline.TestServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Four real TCP clients stream 50 000 points each over 1 000 series; the HTTP totals must match exactly. */
class ConcurrentIngestTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int CLIENTS = 4;
    private static final int POINTS_PER_CLIENT = 50_000;
    private static final int SERIES = 1_000;

    @TempDir
    Path dir;

    @Test
    void totalsPerSeriesEqualWhatWasSent() throws Exception {
        totalsEqualWhatWasSent(Map.of());
    }

    /** One event loop serves every connection: nothing is lost or mixed up, only shared. */
    @Test
    void oneIoThreadServesEveryConnection() throws Exception {
        totalsEqualWhatWasSent(Map.of("io-threads", "1"));
    }

    private void totalsEqualWhatWasSent(Map<String, String> settings) throws Exception {
        long now = System.currentTimeMillis();
        // Spread over the last two minutes: some windows are still open, most are already due for flushing,
        // so the totals come from memory, pending flushes and the store together.
        long base = now - 120_000;
        try (TestServer server = TestServer.start(dir, settings)) {
            long[] expectedCount = new long[SERIES];
            double[] expectedSum = new double[SERIES];
            List<String> payloads = new ArrayList<>();
            for (int c = 0; c < CLIENTS; c++) {
                StringBuilder sb = new StringBuilder(POINTS_PER_CLIENT * 96);
                for (int i = 0; i < POINTS_PER_CLIENT; i++) {
                    int s = (i * 7 + c) % SERIES;
                    double v = (i % 100) + c * 0.25;
                    long ts = base + (i % 120) * 1000L;
                    sb.append("{\"metric\":\"load.test\",\"value\":").append(v).append(",\"timestamp\":").append(ts)
                            .append(",\"tags\":{\"series\":\"s").append(s).append("\",\"client\":\"all\"}}\n");
                    expectedCount[s]++;
                    expectedSum[s] += v;
                }
                payloads.add(sb.toString());
            }
            ExecutorService pool = Executors.newFixedThreadPool(CLIENTS);
            List<Future<JsonNode>> acks = new ArrayList<>();
            for (int c = 0; c < CLIENTS; c++) {
                String payload = payloads.get(c);
                int id = c;
                acks.add(pool.submit(() -> {
                    try (LineClient client = server.connect()) {
                        client.send(payload);
                        return client.sync("done-" + id);
                    }
                }));
            }
            for (Future<JsonNode> ack : acks) {
                JsonNode a = ack.get();
                assertEquals(POINTS_PER_CLIENT, a.get("accepted").asLong(), a.toString());
                assertEquals(0, a.get("rejected").asLong(), a.toString());
            }
            pool.shutdown();

            HttpResponse<String> res = server.get("/api/v1/aggregates?metric=load.test&from=" + (base - 60_000)
                    + "&to=" + (now + 60_000) + "&resolution=1h");
            assertEquals(200, res.statusCode(), res.body());
            JsonNode body = JSON.readTree(res.body());
            Map<Integer, long[]> counts = new HashMap<>();
            Map<Integer, Double> sums = new HashMap<>();
            for (JsonNode series : body.get("series")) {
                int s = Integer.parseInt(series.get("tags").get("series").asText().substring(1));
                for (JsonNode w : series.get("windows")) {
                    counts.computeIfAbsent(s, k -> new long[1])[0] += w.get("count").asLong();
                    sums.merge(s, w.get("sum").asDouble(), Double::sum);
                }
            }
            assertEquals(SERIES, counts.size());
            for (int s = 0; s < SERIES; s++) {
                assertEquals(expectedCount[s], counts.get(s)[0], "count of series s" + s);
                assertEquals(expectedSum[s], sums.get(s), 1e-6 * Math.abs(expectedSum[s]) + 1e-9, "sum of series s" + s);
            }
            JsonNode stats = JSON.readTree(server.get("/api/v1/stats").body());
            assertEquals(CLIENTS * POINTS_PER_CLIENT, stats.get("accepted").asLong());
            assertTrue(stats.get("bufferPeak").asLong() <= stats.get("bufferCapacity").asLong());
        }
    }
}
