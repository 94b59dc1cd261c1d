package dev.meterline.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A Meterline jar run as a child process for the bench drivers: on loopback ports of its own, a fresh data directory
 * (its output in {@code server.log} there), no periodic stats line, and a fixed heap. Closing it stops the process
 * (SIGTERM, then a kill after a minute) and deletes the directory.
 *
 * <p>A driver's {@code --compare} variant is {@code "jar=PATH words…"} or just {@code "words…"}: the jar, if named,
 * replaces the driver's default, its JVM words ({@code -X…}, {@code -D…}) go before {@code -jar} and its other words
 * are Meterline flags, after the driver's own.
 */
final class ChildServer implements AutoCloseable {

    final Process process;
    final Path data;
    final int tcpPort;
    final int httpPort;

    private ChildServer(Process process, Path data, int tcpPort, int httpPort) {
        this.process = process;
        this.data = data;
        this.tcpPort = tcpPort;
        this.httpPort = httpPort;
    }

    /**
     * Starts {@code variant}'s jar (or {@code jar}) with {@code -Xms} and {@code -Xmx} of {@code heap}, then
     * {@code jvmOptions}, then the variant's JVM words; after the jar, the ports and data directory, then
     * {@code meterlineArgs}, then the variant's Meterline flags.
     */
    static ChildServer start(Path jar, String variant, String heap, List<String> jvmOptions,
                             List<String> meterlineArgs) throws IOException {
        variant = variant.trim();
        if (variant.startsWith("jar=")) {
            int space = variant.indexOf(' ');
            jar = Path.of(space < 0 ? variant.substring(4) : variant.substring(4, space));
            variant = space < 0 ? "" : variant.substring(space + 1).trim();
        }
        Path data = Files.createTempDirectory("meterline-bench");
        int tcpPort = LoadGen.freePort();
        int httpPort = LoadGen.freePort();
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-Xmx" + heap);
        cmd.add("-Xms" + heap);
        cmd.addAll(jvmOptions);
        List<String> flags = new ArrayList<>();
        if (!variant.isEmpty()) {
            for (String word : variant.split("\\s+")) {
                (word.startsWith("-X") || word.startsWith("-D") ? cmd : flags).add(word);
            }
        }
        cmd.addAll(List.of("-jar", jar.toString(), "--bind", "127.0.0.1", "--tcp-port", String.valueOf(tcpPort),
                "--http-port", String.valueOf(httpPort), "--data-dir", data.toString(), "--stats-interval", "0s"));
        cmd.addAll(meterlineArgs);
        cmd.addAll(flags);
        Process process = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(data.resolve("server.log").toFile()).start();
        return new ChildServer(process, data, tcpPort, httpPort);
    }

    /** Words of a space-separated option, none for a blank one. */
    static List<String> words(String option) {
        return option.isBlank() ? List.of() : Arrays.asList(option.trim().split("\\s+"));
    }

    long pid() {
        return process.pid();
    }

    @Override
    public void close() throws IOException, InterruptedException {
        process.destroy();
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            process.waitFor();
        }
        try (var walk = Files.walk(data)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }
}
