package dev.meterline.ingest;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.meterline.LineClient;
import dev.meterline.TestServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A cardinality bomb over TCP: one metric with a tag that takes a new value on every point. Past the per-metric
 * limit its new series are rejected with their own reason, its existing series keep aggregating, other metrics are
 * untouched, and {@code /api/v1/cardinality} names the tag key that exploded.
 */
class CardinalityBombTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    @Test
    void bombPastThePerMetricLimitIsRejectedWhileExistingSeriesAndOtherMetricsGoOn() throws Exception {
        int limit = 50;
        int bomb = 400;
        try (TestServer server = TestServer.start(dir, Map.of("max-series-per-metric", String.valueOf(limit),
                "max-series", "1000"));
             LineClient client = server.connect()) {
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < 5; i++) {
                sb.append("{\"metric\":\"steady\",\"value\":1,\"tags\":{\"host\":\"h").append(i).append("\"}}\n");
            }
            for (int i = 0; i < bomb; i++) {
                sb.append("{\"metric\":\"exploding\",\"value\":1,\"tags\":{\"host\":\"h1\",\"user\":\"u").append(i)
                        .append("\"}}\n");
            }
            client.send(sb.toString());
            JsonNode first = client.sync("bomb");
            assertEquals(5 + limit, first.get("accepted").asLong());
            assertEquals(bomb - limit, first.get("rejected").asLong());
            assertEquals(bomb - limit, client.errors().size());
            Set<Integer> admitted = new TreeSet<>();
            for (int i = 0; i < bomb; i++) {
                admitted.add(i);
            }
            for (JsonNode e : client.errors()) {
                assertEquals("series limit of this metric reached", e.get("error").asText());
                admitted.remove(e.get("line").asInt() - 6); // lines 1-5 are the steady metric
            }
            assertEquals(limit, admitted.size());

            sb.setLength(0);
            for (int i : admitted) {
                sb.append("{\"metric\":\"exploding\",\"value\":2,\"tags\":{\"host\":\"h1\",\"user\":\"u").append(i)
                        .append("\"}}\n");
            }
            for (int i = 5; i < 10; i++) {
                sb.append("{\"metric\":\"steady\",\"value\":1,\"tags\":{\"host\":\"h").append(i).append("\"}}\n");
            }
            client.send(sb.toString());
            JsonNode second = client.sync("after");
            assertEquals(5 + limit + limit + 5, second.get("accepted").asLong(), "existing series and other metrics go on");
            assertEquals(bomb - limit, second.get("rejected").asLong());

            JsonNode card = JSON.readTree(server.get("/api/v1/cardinality?metric=exploding").body());
            assertEquals(limit, card.get("limitPerMetric").asLong());
            assertEquals(bomb - limit, card.get("refusedByMetricLimit").asLong());
            assertEquals(0, card.get("refused").asLong(), "the global budget was never reached");
            assertEquals(limit + 10, card.get("activeSeries").asLong());
            assertEquals("user", card.get("tagKeys").get(0).get("key").asText(), "the exploded key shows first");
            assertEquals(limit, card.get("tagKeys").get(0).get("distinctValues").asLong());
            JsonNode stats = JSON.readTree(server.get("/api/v1/stats").body());
            assertEquals(bomb - limit, stats.get("rejectedByReason").get("metric_series_limit").asLong());
        }
    }
}
