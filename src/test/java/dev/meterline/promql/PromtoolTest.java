package dev.meterline.promql;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.meterline.LineClient;
import dev.meterline.TestServer;
import dev.meterline.model.Window;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Prometheus's own client, promtool (Debian package {@code prometheus}), against a real server: instant and range
 * queries return the values sent, and {@code promtool check metrics} finds nothing to complain about in /metrics.
 */
class PromtoolTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path dir;
    private static TestServer server;
    private static long base;

    @BeforeAll
    static void start() throws Exception {
        server = TestServer.start(dir.resolve("data"), Map.of());
        base = Window.startOf(System.currentTimeMillis() - 10 * 60_000, 60_000);
        StringBuilder sb = new StringBuilder();
        // Window [base, base+10s): 3 points of host a; window [base+10s, base+20s): 2 points.
        double[][] values = {{1.5, 2.5, 4}, {10, 20}};
        for (int w = 0; w < values.length; w++) {
            for (int i = 0; i < values[w].length; i++) {
                sb.append("{\"metric\":\"disk.io\",\"value\":").append(values[w][i]).append(",\"timestamp\":")
                        .append(base + w * 10_000L + i * 100 + 1).append(",\"tags\":{\"host\":\"a\"}}\n");
            }
        }
        try (LineClient client = server.connect()) {
            client.send(sb.toString());
            JsonNode ack = client.sync("loaded");
            assertEquals(5, ack.get("accepted").asLong(), ack.toString());
        }
    }

    @AfterAll
    static void stop() {
        server.stop();
    }

    private static String url() {
        return "http://127.0.0.1:" + server.pipeline().httpPort() + "/prometheus";
    }

    /** Runs promtool with {@code stdin} as its input; returns its exit code and output. */
    private static Result promtool(String stdin, String... args) throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add("promtool");
        cmd.addAll(List.of(args));
        Process p;
        try {
            p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        } catch (IOException e) {
            fail("promtool is not installed (Debian: apt-get install prometheus; .ci/run installs it): " + e);
            throw e;
        }
        if (stdin != null) {
            p.getOutputStream().write(stdin.getBytes(StandardCharsets.UTF_8));
        }
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "promtool did not finish");
        return new Result(p.exitValue(), out.strip());
    }

    private record Result(int code, String out) {
    }

    private static String seconds(long ms) {
        return PromTime.seconds(ms);
    }

    @Test
    void instantQueryReturnsTheValuesSent() throws Exception {
        Result r = promtool(null, "query", "instant", "--time=" + seconds(base + 10_000), url(),
                "disk_io_sum{host=\"a\"}");
        assertEquals(0, r.code(), r.out());
        assertEquals("disk_io_sum{host=\"a\"} => 8 @[" + seconds(base + 10_000) + "]", r.out());
        Result max = promtool(null, "query", "instant", "--time=" + seconds(base + 25_000), url(), "disk_io_max");
        assertEquals("disk_io_max{host=\"a\"} => 20 @[" + seconds(base + 25_000) + "]", max.out());
    }

    @Test
    void rangeQueryReturnsTheValuesSentMergedPerStep() throws Exception {
        Result r = promtool(null, "query", "range", "--start=" + seconds(base + 10_000),
                "--end=" + seconds(base + 20_000), "--step=10s", url(), "disk_io_count");
        assertEquals(0, r.code(), r.out());
        assertEquals("disk_io_count{host=\"a\"} =>\n3 @[" + seconds(base + 10_000) + "]\n2 @["
                + seconds(base + 20_000) + "]", r.out());
        // One step of 20 s holds both windows, merged: 1.5 + 2.5 + 4 + 10 + 20; the next step has no window.
        Result merged = promtool(null, "query", "range", "--start=" + seconds(base + 20_000),
                "--end=" + seconds(base + 40_000), "--step=20s", url(), "disk_io_sum");
        assertEquals("disk_io_sum{host=\"a\"} =>\n38 @[" + seconds(base + 20_000) + "]", merged.out());
    }

    @Test
    void checkMetricsFindsNothingInMetrics() throws Exception {
        HttpResponse<String> res = server.get("/metrics");
        assertEquals(200, res.statusCode());
        Files.writeString(dir.resolve("metrics.txt"), res.body());
        Result r = promtool(res.body(), "check", "metrics");
        assertEquals("", r.out(), "promtool check metrics complains");
        assertEquals(0, r.code());
    }
}
