package dev.meterline;

import com.fasterxml.jackson.core.io.JsonStringEncoder;
import dev.meterline.aggregate.Aggregation;
import dev.meterline.aggregate.Flusher;
import dev.meterline.aggregate.SeriesBudget;
import dev.meterline.aggregate.Spill;
import dev.meterline.aggregate.StorageHealth;
import dev.meterline.config.Config;
import dev.meterline.config.ConfigException;
import dev.meterline.export.RemoteWriteExporter;
import dev.meterline.ingest.HttpIngest;
import dev.meterline.ingest.IngestBuffer;
import dev.meterline.ingest.IngestCodec;
import dev.meterline.ingest.IngestHub;
import dev.meterline.ingest.Authenticator;
import dev.meterline.ingest.TcpIngest;
import dev.meterline.ingest.Tls;
import io.netty.handler.ssl.SslContext;
import dev.meterline.telemetry.Transport;
import dev.meterline.lifecycle.Phases;
import dev.meterline.lifecycle.Readiness;
import dev.meterline.model.Batch;
import dev.meterline.model.Window;
import dev.meterline.query.QueryRoutes;
import dev.meterline.query.QueryService;
import dev.meterline.store.Spool;
import dev.meterline.store.Store;
import dev.meterline.store.StoreGateway;
import dev.meterline.store.Stores;
import dev.meterline.telemetry.DropReason;
import dev.meterline.telemetry.PipelineMetrics;
import dev.meterline.validate.ValidationStage;
import dev.meterline.validate.Validator;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufAllocatorMetricProvider;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.BufferOverflowStrategy;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;
import reactor.netty.DisposableServer;
import reactor.netty.http.HttpProtocol;
import reactor.netty.http.server.HttpServer;
import reactor.netty.http.server.HttpServerRoutes;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * Builds every component from the configuration, composes the data path, and orders start and stop. The data path
 * reads top to bottom in {@link #start()}: inbound batches, bounded buffer, parallel validation, grouped aggregation,
 * interval flushes.
 */
public final class Pipeline {

    private static final Logger log = LoggerFactory.getLogger(Pipeline.class);

    private final Config config;
    private final PrometheusMeterRegistry registry;
    private final LongSupplier clock;
    private final PipelineMetrics metrics;
    private final Readiness readiness = new Readiness();
    private final Phases phases = new Phases(log);

    private final Scheduler validateScheduler;
    private final Scheduler shardScheduler;
    private final Scheduler storeScheduler;
    private final Scheduler timer;

    private final IngestBuffer buffer;
    private final IngestHub hub = new IngestHub();
    private final SeriesBudget budget;
    private final Aggregation aggregation;
    private final Sinks.Empty<Void> stopTicks = Sinks.empty();
    private final StorageHealth storageHealth = new StorageHealth();

    private Store store;
    private volatile Spool spool;
    private volatile Spill spill = Spill.NONE;
    private StoreGateway gateway;
    private Flusher flusher;
    private TcpIngest tcp;
    private DisposableServer tcpServer;
    private DisposableServer httpServer;
    private Mono<Void> pipelineDone;
    private Mono<Void> flushLoopDone;
    private Disposable pipelineRun;
    private Disposable flushRun;
    private Disposable maintenance;
    private Disposable statsReporter;
    private RemoteWriteExporter remoteWrite;

    public Pipeline(Config config, PrometheusMeterRegistry registry, LongSupplier clock) {
        this(config, registry, clock, Schedulers.newParallel("meterline-shard", config.aggregation().shards()));
    }

    /** As above, with the scheduler the shards run on given; tests pass one they can pause. */
    public Pipeline(Config config, PrometheusMeterRegistry registry, LongSupplier clock, Scheduler shardScheduler) {
        this.config = config;
        this.registry = registry;
        this.clock = clock;
        this.metrics = new PipelineMetrics(registry);
        this.validateScheduler = Schedulers.newParallel("meterline-validate", config.validation().workers());
        this.shardScheduler = shardScheduler;
        this.storeScheduler = Schedulers.newBoundedElastic(2, 10_000, "meterline-store");
        this.timer = Schedulers.newSingle("meterline-timer");
        this.buffer = new IngestBuffer(config.ingest().bufferSize(), config.ingest().overflow());
        this.budget = new SeriesBudget(config.aggregation().maxSeries(), config.aggregation().maxSeriesPerMetric());
        this.aggregation = new Aggregation(config.aggregation(), budget, shardScheduler, metrics, clock);
        metrics.level("bufferDepth", "meterline.buffer.points", "points in the ingest buffer", buffer::depth);
        metrics.level("bufferPeak", "meterline.buffer.points.peak", "highest ingest buffer depth", buffer::peak);
        metrics.level("bufferWaiting", "meterline.buffer.waiting", "batches waiting for buffer room (reads paused)",
                buffer::waiting);
        metrics.level("bufferCapacity", "meterline.buffer.capacity", "ingest buffer bound", buffer::capacity);
        metrics.level("pendingLimit", "meterline.windows.pending.limit", "bound of closed windows waiting for storage",
                () -> config.store().maxPendingWindows());
        metrics.level("spoolWindows", "meterline.spool.windows", "windows waiting in the on-disk spool",
                () -> spill.windows());
        metrics.level("spoolBytes", "meterline.spool.bytes", "bytes the spooled windows use",
                () -> spool == null ? 0 : spool.bytes());
        metrics.level("spoolLimitBytes", "meterline.spool.limit.bytes", "bound of the on-disk spool (0: off)",
                () -> config.store().spooled() ? config.store().spoolMaxBytes() : 0);
        metrics.level("ingestPaused", "meterline.ingest.paused", "1 while ingest is paused for storage, else 0",
                () -> storageHealth.ingestPaused() ? 1 : 0);
        bindSystemMeters();
    }

    private void bindSystemMeters() {
        new JvmMemoryMetrics().bindTo(registry);
        new JvmGcMetrics().bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ClassLoaderMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
        if (ByteBufAllocator.DEFAULT instanceof ByteBufAllocatorMetricProvider p) {
            io.micrometer.core.instrument.Gauge.builder("netty.allocator.memory.used", p,
                            a -> a.metric().usedDirectMemory())
                    .tag("type", "direct").baseUnit("bytes").register(registry);
            io.micrometer.core.instrument.Gauge.builder("netty.allocator.memory.used", p,
                            a -> a.metric().usedHeapMemory())
                    .tag("type", "heap").baseUnit("bytes").register(registry);
        }
    }

    /** Opens storage, starts the data path, then opens the ports; ready once everything is up. */
    public Mono<Void> start() {
        return phases.step("storage open", Mono.fromRunnable(this::openStore).subscribeOn(storeScheduler))
                .then(phases.step("pipeline start", Mono.fromRunnable(this::startDataPath)))
                .then(phases.step("ports open", Mono.defer(this::bindPorts)))
                .then(Mono.fromRunnable(() -> {
                    readiness.set(Readiness.State.READY);
                    log.info("Meterline ready: TCP ingest on {}:{}, HTTP on {}:{}, storage {}", config.ingest().bind(),
                            tcpPort(), config.ingest().bind(), httpPort(),
                            config.store().embedded() ? config.store().dataDir().toAbsolutePath() : config.store().url());
                }));
    }

    private void openStore() {
        store = Stores.open(config.store());
        gateway = new StoreGateway(store, storeScheduler);
        long lastSeq = store.lastFlushSeq();
        if (config.store().spooled()) {
            spool = new Spool(config.store().dataDir(), config.store().spoolMaxBytes(), config.store().replicaId());
            try {
                spool.open();
            } catch (RuntimeException e) {
                store.close();
                throw new ConfigException("METERLINE_DATA_DIR / --data-dir: cannot open the spool "
                        + config.store().dataDir().resolve(Spool.FILE_NAME) + ": " + e.getMessage());
            }
            spill = new SpoolSpill(spool, storeScheduler);
            // Spooled windows keep their numbers; new flushes must never reuse one, or the move would skip them.
            lastSeq = Math.max(lastSeq, spool.lastFlushSeq());
            if (spool.windows() > 0) {
                log.info("{} windows wait in the spool from an earlier run; they are written to the database first",
                        spool.windows());
            }
        }
        aggregation.startSeqAfter(lastSeq);
    }

    private void startDataPath() {
        flusher = new Flusher(aggregation, gateway::write, config.aggregation().flushInterval(), metrics, clock,
                Duration.ofMillis(100), Duration.ofSeconds(10), storageHealth, config.store().maxPendingWindows(),
                buffer::pause, spill);
        ValidationStage validation = new ValidationStage(new Validator(config.validation()),
                config.validation().workers(), config.aggregation().shards(), validateScheduler, clock, metrics);

        // The data path: inbound → bounded buffer → parallel validation → groupBy aggregation → final flush.
        Mono<Void> run = hub.inbound()
                .onBackpressureBuffer(config.ingest().bufferSize(), (Batch b) -> b.drop(DropReason.OVERLOADED),
                        BufferOverflowStrategy.DROP_LATEST)
                .transform(validation)
                .transform(aggregation::run)
                .collectList()
                .flatMap(this::finalFlush)
                .then()
                .cache();
        pipelineDone = run;
        pipelineRun = run.subscribe(null, e -> log.error("the pipeline failed", e));

        // The flush loop: Flux.interval ticks, one flush at a time, skipped ticks counted.
        Mono<Void> flushes = flusher
                .run(Flux.interval(config.aggregation().flushInterval(), timer).takeUntilOther(stopTicks.asMono()))
                .then()
                .cache();
        flushLoopDone = flushes;
        flushRun = flushes.subscribe(null, e -> log.error("the flush loop failed", e));

        maintenance = Flux.interval(Duration.ofSeconds(30), Duration.ofMinutes(1), timer)
                .onBackpressureDrop()
                .concatMap(t -> gateway.maintain(clock.getAsLong())
                        .onErrorResume(e -> {
                            log.warn("storage maintenance failed, will retry next minute: {}", e.toString());
                            return Mono.empty();
                        }), 0)
                .subscribe();
        if (config.remoteWrite().enabled()) {
            remoteWrite = new RemoteWriteExporter(config.remoteWrite(), store, config.aggregation().window(),
                    config.aggregation().lateness(), registry, clock, flusher::storedThrough);
            remoteWrite.start();
        }
        Duration every = config.lifecycle().statsInterval();
        if (!every.isZero()) {
            statsReporter = Flux.interval(every, every, timer).subscribe(t -> log.info("stats {}", statsLine()));
        }
    }

    private Mono<Void> finalFlush(List<Window> windows) {
        log.info("final flush of {} windows", windows.size());
        return flusher.flushFinal(windows).then();
    }

    /** Longest HTTP request line (method, URI, version), in bytes; longer is refused with 414. */
    static final int HTTP_MAX_INITIAL_LINE = 8192;
    /** Largest HTTP header block, in bytes; larger is refused with 431. */
    static final int HTTP_MAX_HEADERS = 16384;

    private Mono<Void> bindPorts() {
        IngestCodec codec = new IngestCodec(config.ingest().maxLineBytes(), config.validation().maxTags());
        Authenticator auth = new Authenticator(config.auth());
        SslContext tls = Tls.serverContext(config.tls());
        Duration handshake = config.tls().handshakeTimeout();
        tcp = new TcpIngest(config.ingest(), codec, buffer, hub, metrics, clock, auth, tls, handshake);
        HttpIngest httpIngest = new HttpIngest(config.ingest(), codec, buffer, hub, metrics, clock);
        QueryRoutes queries = new QueryRoutes(new QueryService(aggregation, gateway, budget,
                config.store().replicaId(), config.aggregation().window().toMillis(),
                config.aggregation().lateness().toMillis(), clock), this::stats);
        Mono<? extends DisposableServer> tcpBind = tcp.bind().doOnNext(s -> tcpServer = s);
        HttpServer http = HttpServer.create();
        if (tls != null) {
            http = http.secure(spec -> spec.sslContext(tls).handshakeTimeout(handshake));
        }
        Mono<? extends DisposableServer> httpBind = http
                .host(config.ingest().bind())
                .port(config.ingest().httpPort())
                .protocol(HttpProtocol.HTTP11)
                .httpRequestDecoder(spec -> spec.maxInitialLineLength(HTTP_MAX_INITIAL_LINE)
                        .maxHeaderSize(HTTP_MAX_HEADERS))
                .idleTimeout(config.ingest().idleTimeout())
                .readTimeout(config.ingest().requestTimeout())
                .requestTimeout(config.ingest().requestTimeout())
                .route(routes -> routes(routes, httpIngest, queries, auth))
                .bind()
                .doOnNext(s -> httpServer = s);
        return Mono.when(tcpBind, httpBind);
    }

    /** Every HTTP route; the tests build the same routes through a started pipeline. */
    private void routes(HttpServerRoutes routes, HttpIngest ingest, QueryRoutes queries, Authenticator auth) {
        if (auth.enabled()) {
            // First route: every request to a closed path without a valid bearer token ends here.
            routes.route(req -> !config.auth().openPaths().contains("/" + req.path())
                            && !auth.accepts(Authenticator.bearer(req.requestHeaders().get(HttpHeaderNames.AUTHORIZATION))),
                    (req, res) -> {
                        metrics.authFailed(Transport.HTTP);
                        res.header(HttpHeaderNames.WWW_AUTHENTICATE, "Bearer");
                        return rawJson(res, HttpResponseStatus.UNAUTHORIZED,
                                "{\"error\":\"missing or invalid bearer token\"}");
                    });
        }
        routes.get("/healthz", (req, res) -> rawJson(res, HttpResponseStatus.OK, "{\"status\":\"ok\"}"))
                .get("/readyz", (req, res) -> readyz(res))
                .get("/metrics", (req, res) -> res
                        .header(HttpHeaderNames.CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")
                        .sendString(Mono.fromSupplier(registry::scrape)).then())
                .post("/api/v1/points", ingest::handle);
        queries.register(routes);
        routes.route(req -> true, (req, res) -> QueryRoutes.error(res, HttpResponseStatus.NOT_FOUND,
                "no route for " + req.method() + " " + req.fullPath()));
    }

    /**
     * Readiness with flush health: 200 while ready, also while storage writes fail and windows wait ("degraded");
     * 503 while starting, draining, or while ingest is paused because the windows waiting for storage are at their
     * bound.
     */
    private Mono<Void> readyz(reactor.netty.http.server.HttpServerResponse res) {
        boolean ready = readiness.ready();
        String status = readiness.state().label();
        String reason = null;
        if (ready && storageHealth.failing()) {
            status = "degraded";
            reason = "storage unreachable: " + storageHealth.lastFailure();
        }
        if (reason != null && spill.windows() > 0) {
            reason += "; " + spill.windows() + " windows spooled to disk" + (spill.full() ? " (spool full)" : "");
        }
        if (ready && storageHealth.ingestPaused()) {
            // No room left for more windows: readiness sends new traffic to replicas that still have room.
            ready = false;
            status = "degraded";
            reason = (reason == null ? "" : reason + "; ") + "ingest paused: " + aggregation.pending().windows()
                    + " windows wait for storage (max-pending-windows " + config.store().maxPendingWindows() + ")";
        }
        StringBuilder body = new StringBuilder(256).append("{\"status\":\"").append(status).append('"');
        if (reason != null) {
            body.append(",\"reason\":\"").append(JsonStringEncoder.getInstance().quoteAsString(reason)).append('"');
        }
        body.append(",\"flushFailures\":").append(metrics.flushFailures())
                .append(",\"pendingWindows\":").append(aggregation.pending().windows())
                .append(",\"spooledWindows\":").append(spill.windows());
        if (remoteWrite != null) {
            // Ingest does not depend on the receiver: readiness stays as it is and the body tells.
            String problem = remoteWrite.problem();
            body.append(",\"remoteWrite\":\"").append(problem == null ? "ok"
                    : new String(JsonStringEncoder.getInstance().quoteAsString(problem))).append('"');
        }
        body.append('}');
        return rawJson(res, ready ? HttpResponseStatus.OK : HttpResponseStatus.SERVICE_UNAVAILABLE, body.toString());
    }

    private static Mono<Void> rawJson(reactor.netty.http.server.HttpServerResponse res, HttpResponseStatus status,
                                      String body) {
        return res.status(status).header(HttpHeaderNames.CONTENT_TYPE, "application/json")
                .sendString(Mono.just(body)).then();
    }

    /**
     * Graceful stop: not ready → stop accepting → drain connections (bounded) → pipeline completes → final flush →
     * store closes → HTTP closes. Bounded by the shutdown timeout as a whole.
     */
    public Mono<Void> stop() {
        Duration total = config.lifecycle().shutdownTimeout();
        Duration grace = Duration.ofMillis(total.toMillis() * 6 / 10);
        Duration rest = total.minus(grace);
        return Mono.defer(() -> {
            readiness.set(Readiness.State.DRAINING);
            log.info("stopping: readiness is now 503; draining connections for up to {} ms", grace.toMillis());
            return phases.step("stop accepting", Mono.fromRunnable(() -> {
                        if (tcpServer != null) {
                            tcpServer.dispose();
                        }
                        hub.stopAccepting();
                    }))
                    .then(phases.step("drain connections", hub.drain(grace)))
                    .then(phases.step("drain pipeline and final flush",
                            pipelineDone == null ? Mono.empty() : pipelineDone.timeout(rest)))
                    .then(phases.step("stop flush loop", Mono.defer(() -> {
                        stopTicks.tryEmitEmpty();
                        return flushLoopDone == null ? Mono.empty() : flushLoopDone.timeout(Duration.ofSeconds(5));
                    })))
                    .onErrorResume(e -> {
                        log.error("graceful stop incomplete: {}", e.toString());
                        return Mono.empty();
                    })
                    // Closing the store and the HTTP server blocks: never on the thread that finished the pipeline.
                    .publishOn(Schedulers.boundedElastic())
                    .then(phases.step("close store and HTTP", Mono.fromRunnable(this::closeAll)))
                    .then(Mono.fromRunnable(() -> {
                        readiness.set(Readiness.State.STOPPED);
                        log.info("final stats {}", statsLine());
                    }));
        });
    }

    private void closeAll() {
        for (Disposable d : new Disposable[]{maintenance, statsReporter, flushRun, pipelineRun}) {
            if (d != null) {
                d.dispose();
            }
        }
        if (remoteWrite != null) {
            remoteWrite.stop();
        }
        if (store != null) {
            store.close();
        }
        if (spool != null) {
            spool.close();
        }
        if (httpServer != null) {
            httpServer.disposeNow(Duration.ofSeconds(2));
        }
        if (tcp != null) {
            tcp.closeLoops(Duration.ofSeconds(2));
        }
        validateScheduler.dispose();
        shardScheduler.dispose();
        storeScheduler.dispose();
        timer.dispose();
    }

    public Readiness readiness() {
        return readiness;
    }

    public int tcpPort() {
        return tcpServer == null ? -1 : tcpServer.port();
    }

    public int httpPort() {
        return httpServer == null ? -1 : httpServer.port();
    }

    public PipelineMetrics metrics() {
        return metrics;
    }

    /** The pipeline counters as {@code /api/v1/stats} shows them. */
    public Map<String, Object> stats() {
        Map<String, Object> s = metrics.snapshot();
        s.put("state", readiness.state().label());
        return s;
    }

    String statsLine() {
        StringBuilder sb = new StringBuilder();
        stats().forEach((k, v) -> sb.append(k).append('=').append(v).append(' '));
        return sb.toString().trim();
    }
}
