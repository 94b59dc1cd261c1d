package dev.meterline.store;

import com.fasterxml.jackson.databind.JsonNode;
import dev.meterline.LineClient;
import dev.meterline.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Two server instances share one real PostgreSQL; each gets half of the points over TCP, and either instance's
 * HTTP query returns the exact totals of all of them.
 */
class TwoReplicasTest {

    private static final int SERIES = 20;
    private static final int POINTS_PER_SERIES = 2_000;

    @TempDir
    static Path pgDir;
    private static RestartablePostgres postgres;

    @TempDir
    Path dir;

    @BeforeAll
    static void startPostgres() throws Exception {
        postgres = RestartablePostgres.start(pgDir.resolve("pg"));
    }

    @AfterAll
    static void stopPostgres() throws Exception {
        postgres.close();
    }

    @Test
    void eitherReplicaAnswersTheExactTotalsOfBoth() throws Exception {
        String url = postgres.createDatabase("replicas");
        SeriesTotals points = new SeriesTotals(SERIES, POINTS_PER_SERIES);
        String[] halves = {points.lines(0, POINTS_PER_SERIES, 2, 0), points.lines(0, POINTS_PER_SERIES, 2, 1)};
        TestServer a = TestServer.start(dir.resolve("a"), settings(url, "replica-a"));
        TestServer b = TestServer.start(dir.resolve("b"), settings(url, "replica-b"));
        try {
            TestServer[] servers = {a, b};
            for (int r = 0; r < 2; r++) {
                try (LineClient client = servers[r].connect()) {
                    client.send(halves[r]);
                    JsonNode ack = client.sync("half-" + r);
                    assertEquals(SERIES * POINTS_PER_SERIES / 2, ack.get("accepted").asLong(), ack.toString());
                    assertEquals(0, ack.get("rejected").asLong(), ack.toString());
                }
            }
            SeriesTotals.awaitEverythingStored(a);
            SeriesTotals.awaitEverythingStored(b);

            for (TestServer server : servers) {
                points.assertWindows(server);
                points.assertTotals(server);
            }
            assertEquals(points.expectedCount(), postgres.queryLong("replicas",
                    "SELECT sum(value_count) FROM meterline_window WHERE resolution_ms = 10000"));
            assertEquals(2, postgres.queryLong("replicas", "SELECT count(DISTINCT replica) FROM meterline_window"));
        } finally {
            a.close();
            b.close();
        }
    }

    /**
     * Both instances stop and start again over the series they stored, and each then gets half of the later points of
     * those series and of as many new ones: each instance's first flush looks its series up, both store the same new
     * series at once, and either answers the exact totals of all the points.
     */
    @Test
    void replicasStartedAgainOverTheirSeriesAddTheSameNewSeriesAndAnswerTheExactTotals() throws Exception {
        String url = postgres.createDatabase("restarted");
        SeriesTotals points = new SeriesTotals(2 * SERIES, POINTS_PER_SERIES);
        int half = POINTS_PER_SERIES / 2;
        String[] before = {points.lines(0, half, 2, 0, SERIES), points.lines(0, half, 2, 1, SERIES)};
        String[] after = {points.lines(half, POINTS_PER_SERIES, 2, 0), points.lines(half, POINTS_PER_SERIES, 2, 1)};
        String[] replicas = {"replica-a", "replica-b"};
        for (String[] halves : List.of(before, after)) {
            TestServer[] servers = new TestServer[2];
            try {
                for (int r = 0; r < 2; r++) {
                    servers[r] = TestServer.start(dir.resolve(replicas[r] + (halves == before ? "-1" : "-2")),
                            settings(url, replicas[r]));
                }
                for (int r = 0; r < 2; r++) {
                    try (LineClient client = servers[r].connect()) {
                        client.send(halves[r]);
                        JsonNode ack = client.sync("half-" + r);
                        assertEquals(0, ack.get("rejected").asLong(), ack.toString());
                    }
                }
                SeriesTotals.awaitEverythingStored(servers[0]);
                SeriesTotals.awaitEverythingStored(servers[1]);
                if (halves == after) {
                    for (TestServer server : servers) {
                        points.assertWindows(server);
                        points.assertTotals(server);
                    }
                }
            } finally {
                for (TestServer server : servers) {
                    if (server != null) {
                        server.close();
                    }
                }
            }
        }
        assertEquals(2 * SERIES, postgres.queryLong("restarted", "SELECT count(*) FROM meterline_series"));
        assertEquals(points.expectedCount(), postgres.queryLong("restarted",
                "SELECT sum(value_count) FROM meterline_window WHERE resolution_ms = 10000"));
    }

    static Map<String, String> settings(String url, String replica) {
        return Map.of("storage-url", url, "storage-user", "postgres", "storage-password", "", "replica-id", replica,
                "flush-interval", "200ms");
    }
}
