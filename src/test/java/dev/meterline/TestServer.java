package dev.meterline;

import dev.meterline.config.Config;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import reactor.core.scheduler.Scheduler;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Function;
import java.util.function.LongSupplier;

/** A real Meterline pipeline on loopback ports chosen by the OS, with its data in a test directory. */
public final class TestServer implements AutoCloseable {

    private final Pipeline pipeline;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private boolean stopped;

    private TestServer(Pipeline pipeline) {
        this.pipeline = pipeline;
    }

    /** Starts a server with the given settings on top of test defaults (ports 0, stats log off). */
    public static TestServer start(Path dataDir, Map<String, String> settings) {
        return start(dataDir, settings, null);
    }

    /** As above, with the shards on {@code shardScheduler} when not null. */
    public static TestServer start(Path dataDir, Map<String, String> settings, Scheduler shardScheduler) {
        return start(dataDir, settings, shardScheduler, System::currentTimeMillis);
    }

    /**
     * As above, on {@code clock} (epoch milliseconds), which decides window assignment, timestamp checks and which
     * windows a flush closes; a test that moves it controls when windows close.
     */
    public static TestServer start(Path dataDir, Map<String, String> settings, Scheduler shardScheduler,
                                   LongSupplier clock) {
        return start(dataDir, settings, clock, config -> shardScheduler == null
                ? PipelineThreads.of(config) : PipelineThreads.of(config, shardScheduler));
    }

    /**
     * As above, on the threads {@code threads} makes for the configuration: a test that replaces one of
     * {@link PipelineThreads#of}'s (disposing the one it replaces) can hold that thread or refuse its work.
     */
    public static TestServer start(Path dataDir, Map<String, String> settings, LongSupplier clock,
                                   Function<Config, PipelineThreads> threads) {
        Map<String, String> all = new HashMap<>();
        all.put("tcp-port", "0");
        all.put("http-port", "0");
        all.put("bind", "127.0.0.1");
        all.put("data-dir", dataDir.toString());
        all.put("stats-interval", "0s");
        all.put("shutdown-timeout", "10s");
        all.putAll(settings);
        Config config = Config.from(all);
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        Pipeline p = new Pipeline(config, registry, clock, threads.apply(config));
        p.start().block(Duration.ofSeconds(30));
        return new TestServer(p);
    }

    public Pipeline pipeline() {
        return pipeline;
    }

    public int tcpPort() {
        return pipeline.tcpPort();
    }

    public LineClient connect() throws IOException {
        return new LineClient("127.0.0.1", tcpPort());
    }

    /** GET on the HTTP port; returns status and body. */
    public HttpResponse<String> get(String pathAndQuery) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + pipeline.httpPort() + pathAndQuery))
                .timeout(Duration.ofSeconds(30)).GET().build(), HttpResponse.BodyHandlers.ofString());
    }

    /** POST on the HTTP port with the given headers (name, value, …). */
    public HttpResponse<String> post(String path, byte[] body, String... headers)
            throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + pipeline.httpPort() + path))
                .timeout(Duration.ofSeconds(30)).POST(HttpRequest.BodyPublishers.ofByteArray(body));
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    public void stop() {
        if (!stopped) {
            stopped = true;
            pipeline.stop().block(Duration.ofSeconds(60));
        }
    }

    @Override
    public void close() {
        stop();
    }
}
