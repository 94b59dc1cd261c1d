package dev.meterline.export;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.DoublePredicate;

import static org.junit.jupiter.api.Assertions.assertNotNull;

/**
 * A real remote write receiver, Prometheus or VictoriaMetrics from the Debian packages, on a free loopback port and a
 * storage directory of its own; it can be killed and started again on the same storage and port.
 */
public final class Receiver implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();

    public enum Kind { PROMETHEUS, VICTORIA_METRICS }

    private final Kind kind;
    private final Path dir;
    private final int port;
    private final Path log;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private Process process;

    private Receiver(Kind kind, Path dir) throws IOException {
        this.kind = kind;
        this.dir = dir;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            this.port = s.getLocalPort();
        }
        this.log = dir.resolve("receiver.log");
    }

    public static Receiver start(Kind kind, Path dir) throws Exception {
        Files.createDirectories(dir);
        Receiver r = new Receiver(kind, dir);
        r.up();
        return r;
    }

    private static String binary(String name, String pkg) {
        for (String d : System.getenv().getOrDefault("PATH", "/usr/bin").split(":")) {
            if (Files.isExecutable(Path.of(d, name))) {
                return Path.of(d, name).toString();
            }
        }
        throw new IllegalStateException(name + " not found on PATH: install the Debian package " + pkg
                + " (apt-get install -y " + pkg + "; .ci/run does)");
    }

    private List<String> command() throws IOException {
        List<String> cmd = new ArrayList<>();
        if (kind == Kind.PROMETHEUS) {
            Path config = dir.resolve("prometheus.yml");
            Files.writeString(config, "global:\n  scrape_interval: 1h\n");
            cmd.add(binary("prometheus", "prometheus"));
            cmd.add("--config.file=" + config);
            cmd.add("--storage.tsdb.path=" + dir.resolve("data"));
            cmd.add("--web.listen-address=127.0.0.1:" + port);
            cmd.add("--web.enable-remote-write-receiver");
        } else {
            cmd.add(binary("victoria-metrics", "victoria-metrics"));
            cmd.add("-storageDataPath=" + dir.resolve("data"));
            cmd.add("-httpListenAddr=127.0.0.1:" + port);
            // Newest samples visible at once; a resent identical sample stored once.
            cmd.add("-search.latencyOffset=0s");
            cmd.add("-search.disableCache");
            cmd.add("-dedup.minScrapeInterval=1ms");
        }
        return cmd;
    }

    /** Starts the receiver and waits until it answers its readiness endpoint. */
    public void up() throws Exception {
        process = new ProcessBuilder(command()).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        String path = kind == Kind.PROMETHEUS ? "/-/ready" : "/health";
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (true) {
            if (!process.isAlive()) {
                throw new IllegalStateException(kind + " exited with " + process.exitValue() + ": " + logTail());
            }
            try {
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base() + path))
                        .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 200) {
                    return;
                }
            } catch (ConnectException e) {
                // not listening yet
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException(kind + " not ready within 60 s: " + logTail());
            }
            process.waitFor(50, TimeUnit.MILLISECONDS);
        }
    }

    /** Kills the receiver (SIGKILL): whatever it acknowledged must be in its storage when it comes back. */
    public void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(30, TimeUnit.SECONDS);
    }

    /** Stops the receiver (SIGTERM), letting it write what it holds in memory. */
    public void stop() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            process.destroyForcibly();
        }
    }

    public String base() {
        return "http://127.0.0.1:" + port;
    }

    public String writeUrl() {
        return base() + "/api/v1/write";
    }

    /** The value of an instant PromQL query that yields one sample; NaN when it yields none. */
    public double query(String promql) throws IOException, InterruptedException {
        JsonNode result = queryResult(promql);
        if (result.isEmpty()) {
            return Double.NaN;
        }
        return Double.parseDouble(result.get(0).path("value").get(1).asText());
    }

    /** The result vector of an instant PromQL query. */
    public JsonNode queryResult(String promql) throws IOException, InterruptedException {
        String url = base() + "/api/v1/query?query=" + URLEncoder.encode(promql, StandardCharsets.UTF_8)
                + "&time=" + (System.currentTimeMillis() / 1000.0 + 60);
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10))
                .build(), HttpResponse.BodyHandlers.ofString());
        JsonNode body = JSON.readTree(r.body());
        assertNotNull(body.get("data"), promql + ": " + r.body());
        return body.path("data").path("result");
    }

    /** Polls {@code promql} until its value satisfies {@code ok}; returns the last value. */
    public double await(String promql, DoublePredicate ok, Duration within) throws Exception {
        long deadline = System.nanoTime() + within.toNanos();
        double v = query(promql);
        while (!ok.test(v) && System.nanoTime() < deadline) {
            process.waitFor(100, TimeUnit.MILLISECONDS);
            v = query(promql);
        }
        return v;
    }

    public String logTail() {
        try {
            String text = Files.readString(log);
            return text.length() < 3000 ? text : text.substring(text.length() - 3000);
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }

    @Override
    public void close() throws InterruptedException {
        if (process != null) {
            process.destroy();
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        }
    }
}
