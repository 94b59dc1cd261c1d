package dev.meterline.process;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The built server jar as a child process ({@code java -jar target/meterline.jar}) on loopback ports it picks itself,
 * read from its "Meterline ready" log line. Its output is collected line by line and echoed with a prefix, so a
 * failing test shows what the server said.
 */
final class ServerProcess implements AutoCloseable {

    private static final Pattern READY = Pattern.compile(
            "Meterline ready: TCP ingest on [^ ]+:(\\d+), HTTP on [^ ]+:(\\d+)");
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Process process;
    private final List<String> output = new CopyOnWriteArrayList<>();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private volatile int tcpPort = -1;
    private volatile int httpPort = -1;
    private final Thread pump;

    private ServerProcess(Process process, String name) {
        this.process = process;
        pump = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(
                    new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    Matcher m = READY.matcher(line);
                    if (m.find()) {
                        tcpPort = Integer.parseInt(m.group(1));
                        httpPort = Integer.parseInt(m.group(2));
                    }
                    output.add(line);
                    System.out.println("[" + name + "] " + line);
                }
            } catch (IOException ignored) {
                // the process ended
            }
        }, name + "-output");
        pump.setDaemon(true);
        pump.start();
    }

    /** Starts the jar on the given data dir with ports 0 on 127.0.0.1, plus {@code flags}; waits until ready. */
    static ServerProcess start(String name, Path dataDir, String... flags) throws Exception {
        String jar = System.getProperty("meterline.jar", "target/meterline.jar");
        if (!Files.isRegularFile(Path.of(jar))) {
            throw new IllegalStateException("no server jar at " + jar + " (run ./mvnw package first)");
        }
        List<String> cmd = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx512m",
                "-jar", jar, "--tcp-port=0", "--http-port=0", "--bind=127.0.0.1", "--data-dir=" + dataDir));
        cmd.addAll(List.of(flags));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        ServerProcess server = new ServerProcess(p, name);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (server.httpPort < 0) {
            if (!p.isAlive()) {
                throw new IllegalStateException(name + " exited with " + p.exitValue() + " before it was ready:\n"
                        + String.join("\n", server.output));
            }
            if (System.nanoTime() > deadline) {
                p.destroyForcibly();
                throw new IllegalStateException(name + " was not ready within 60 s:\n" + String.join("\n", server.output));
            }
            Thread.sleep(20);
        }
        return server;
    }

    int tcpPort() {
        return tcpPort;
    }

    int httpPort() {
        return httpPort;
    }

    long pid() {
        return process.pid();
    }

    /**
     * Sends SIGTERM through the process handle: {@link Process#destroy()} would send it too, but also closes our end
     * of the output pipe, so the shutdown log would be lost.
     */
    void terminate() {
        process.toHandle().destroy();
    }

    /**
     * Waits for the exit and for the last output line to be read; returns the status, or -1 when the process is
     * still alive after {@code timeout}.
     */
    int waitFor(Duration timeout) throws InterruptedException {
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            return -1;
        }
        pump.join(10_000);
        return process.exitValue();
    }

    boolean alive() {
        return process.isAlive();
    }

    /** Every output line so far. */
    List<String> output() {
        return List.copyOf(output);
    }

    /** The first output line containing {@code text}, or null. */
    String line(String text) {
        for (String l : output) {
            if (l.contains(text)) {
                return l;
            }
        }
        return null;
    }

    /** A {@code key=value} counter from a stats line, e.g. {@code accepted} from the final stats line. */
    static long stat(String statsLine, String key) {
        Matcher m = Pattern.compile("(?:^|\\s)" + Pattern.quote(key) + "=(-?\\d+)").matcher(statsLine);
        if (!m.find()) {
            throw new AssertionError("no " + key + "= in: " + statsLine);
        }
        return Long.parseLong(m.group(1));
    }

    HttpResponse<String> get(String pathAndQuery) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + pathAndQuery))
                .timeout(Duration.ofSeconds(10)).GET().build(), HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<String> post(String path, String body) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + path))
                        .timeout(Duration.ofSeconds(10)).POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    JsonNode getJson(String pathAndQuery) throws IOException, InterruptedException {
        HttpResponse<String> res = get(pathAndQuery);
        if (res.statusCode() != 200) {
            throw new AssertionError("GET " + pathAndQuery + " answered " + res.statusCode() + ": " + res.body());
        }
        return JSON.readTree(res.body());
    }

    /** Kills the process (SIGKILL): no shutdown hook, no final flush; waits for it to be gone. */
    void kill() throws InterruptedException {
        process.toHandle().destroyForcibly();
        process.waitFor(30, TimeUnit.SECONDS);
    }

    /** Ends the process if a test left it running (SIGTERM, then SIGKILL after 30 s). */
    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            process.toHandle().destroy();
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(10, TimeUnit.SECONDS);
            }
        }
    }
}
