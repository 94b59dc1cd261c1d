package dev.meterline;

import dev.meterline.aggregate.Aggregation;
import dev.meterline.aggregate.FlushPace;
import dev.meterline.aggregate.Flusher;
import dev.meterline.aggregate.SeriesBudget;
import dev.meterline.aggregate.Spill;
import dev.meterline.aggregate.StorageHealth;
import dev.meterline.config.Config;
import dev.meterline.http.AdminRoutes;
import dev.meterline.http.AuthGate;
import dev.meterline.http.EventLoops;
import dev.meterline.http.HttpEdge;
import dev.meterline.http.Routes;
import dev.meterline.ingest.Authenticator;
import dev.meterline.export.RemoteWriteExporter;
import dev.meterline.ingest.HttpIngest;
import dev.meterline.ingest.IngestBuffer;
import dev.meterline.ingest.IngestCodec;
import dev.meterline.ingest.IngestHub;
import dev.meterline.ingest.TcpIngest;
import dev.meterline.ingest.Tls;
import dev.meterline.lifecycle.Phases;
import dev.meterline.lifecycle.Readiness;
import dev.meterline.lifecycle.ReadinessCheck;
import dev.meterline.model.Window;
import dev.meterline.page.PageRoutes;
import dev.meterline.promql.PromRoutes;
import dev.meterline.query.QueryRoutes;
import dev.meterline.query.QueryService;
import dev.meterline.store.SpoolGateway;
import dev.meterline.store.Store;
import dev.meterline.store.StoreGateway;
import dev.meterline.telemetry.MeterNames;
import dev.meterline.telemetry.PipelineMetrics;
import dev.meterline.telemetry.StoreMeters;
import dev.meterline.telemetry.SystemMeters;
import dev.meterline.telemetry.Transport;
import dev.meterline.validate.ValidationStage;
import dev.meterline.validate.Validator;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.handler.ssl.SslContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;
import reactor.netty.DisposableServer;
import reactor.netty.resources.LoopResources;

import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
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
    private final StoreMeters storeMeters;
    private final Readiness readiness = new Readiness();
    private final Phases phases = new Phases(log);

    private final PipelineThreads threads;
    private final Scheduler storeScheduler;
    private final Scheduler timer;

    private final IngestBuffer buffer;
    /** The rules on points: on each series where the decoders build its key, on each point's time on the rails. */
    private final Validator validator;
    private final IngestHub hub = new IngestHub();
    private final SeriesBudget budget;
    private final Aggregation aggregation;
    private final Sinks.Empty<Void> stopTicks = Sinks.empty();
    private final StorageHealth storageHealth = new StorageHealth();
    private final Durability durability;

    private Store store;
    private volatile SpoolGateway spool;
    private volatile Spill spill = Spill.NONE;
    private StoreGateway gateway;
    private Flusher flusher;
    private final LoopResources httpLoops;
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

    /** A pipeline on the schedulers the configuration sizes. */
    public Pipeline(Config config, PrometheusMeterRegistry registry, LongSupplier clock) {
        this(config, registry, clock, PipelineThreads.of(config));
    }

    /**
     * A pipeline on the given clock (epoch milliseconds: window assignment, skew checks, flush cut-offs) and
     * schedulers, which it disposes when it stops.
     */
    public Pipeline(Config config, PrometheusMeterRegistry registry, LongSupplier clock, PipelineThreads threads) {
        this.config = config;
        this.registry = registry;
        this.clock = clock;
        new SystemMeters().bindTo(registry); // first: it configures the registry's filters
        this.metrics = new PipelineMetrics(registry);
        this.storeMeters = new StoreMeters(registry);
        this.threads = threads;
        // The HTTP loops answer queries at the default priority: started here, on the caller's thread, since a
        // thread inherits the nice value of the thread that starts it, and the ports are bound from a store thread.
        this.httpLoops = LoopResources.create("meterline-http");
        EventLoops.runOnEach(httpLoops, () -> { });
        this.storeScheduler = threads.store();
        this.timer = threads.timer();
        this.buffer = new IngestBuffer(config.ingest().bufferSize(), config.ingest().overflow());
        this.validator = new Validator(config.validation());
        this.budget = new SeriesBudget(config.aggregation().maxSeries(), config.aggregation().maxSeriesPerMetric());
        this.aggregation = new Aggregation(config.aggregation(), config.queryViews(), budget, threads.shards(), metrics,
                clock);
        aggregation.prepareOn(threads.prepare());
        this.durability = new Durability(config.wal(), config.store().dataDir().resolve("wal"), aggregation, buffer,
                metrics);
        buffer.bindTo(metrics);
        metrics.level("pendingLimit", MeterNames.WINDOWS_PENDING_LIMIT, "bound of closed windows waiting for storage",
                () -> config.store().maxPendingWindows());
        metrics.level("ingestNice", MeterNames.INGEST_NICE, "nice value the threads that take in and store points "
                + "run at; 0 when off or refused", threads.ingestNice()::level);
        SpoolGateway.bindTo(metrics, config.store(), () -> spool);
        storageHealth.bindTo(metrics);
    }

    /** Opens storage, starts the data path, then opens the ports; ready once everything is up. */
    public Mono<Void> start() {
        return phases.step("storage open", Mono.fromRunnable(this::openStore).subscribeOn(storeScheduler))
                .then(phases.step("pipeline start", Mono.fromRunnable(this::startDataPath)))
                .then(phases.step("ports open", Mono.defer(this::bindPorts)))
                .then(Mono.fromRunnable(() -> {
                    readiness.set(Readiness.State.READY);
                    log.info("Meterline ready: TCP ingest on {}:{}, HTTP on {}:{}, storage {}, ingest threads at nice {}",
                            config.ingest().bind(), tcpPort(), config.ingest().bind(), httpPort(),
                            config.store().embedded() ? config.store().dataDir().toAbsolutePath() : config.store().url(),
                            threads.ingestNice().level());
                }));
    }

    private void openStore() {
        store = Store.connect(config.store(), Clock.systemUTC(), storeMeters);
        gateway = new StoreGateway(store, storeScheduler);
        long lastSeq = store.lastFlushSeq();
        long storedSeq = lastSeq;
        if (config.store().spooled()) {
            try {
                spool = SpoolGateway.open(config.store(), storeScheduler);
            } catch (RuntimeException e) {
                store.close();
                throw e;
            }
            spill = spill(spool, durability);
            // Spooled windows keep their numbers; new flushes must never reuse one, or the move would skip them.
            lastSeq = Math.max(lastSeq, spool.lastFlushSeq());
            if (spool.windows() > 0) {
                log.info("{} windows wait in the spool from an earlier run; they are written to the database first",
                        spool.windows());
            }
        }
        aggregation.startSeqAfter(lastSeq);
        try {
            durability.open(storedSeq);
        } catch (RuntimeException e) {
            closeStores();
            throw e;
        }
    }

    private void closeStores() {
        store.close();
        if (spool != null) {
            spool.close();
        }
    }

    /** The flush loop's view of the spool: windows go there once the log holds their closes. */
    private static Spill spill(SpoolGateway spool, Durability durability) {
        return new Spill() {
            @Override
            public boolean full() {
                return spool.full();
            }

            @Override
            public long windows() {
                return spool.windows();
            }

            @Override
            public Mono<Void> put(List<Window> windows) {
                return durability.synced().then(spool.put(windows));
            }

            @Override
            public Mono<Integer> moveOldest(int max, Function<List<Window>, Mono<Void>> writer) {
                return spool.moveOldest(max, writer);
            }
        };
    }

    /**
     * True when a paced flush should go at full speed: the write-ahead log, whose segments go only once the flush is
     * stored, is past half its bound, or the windows waiting for storage are past half theirs, or ingest is paused.
     */
    private boolean flushUrgent() {
        return durability.bytes() > durability.maxBytes() / 2
                || aggregation.pending().windows() > config.store().maxPendingWindows() / 2
                || durability.paused() || storageHealth.ingestPaused();
    }

    private void startDataPath() {
        // A paced flush syncs the log before its first slice and, through the flush's writer, before its last. With
        // remote write on, it ends within the delay after which the exporting replica reads every replica's windows.
        FlushPace pace = new FlushPace(config.aggregation(), FlushPace.SLICE_WINDOWS, gateway::inKeyOrder,
                gateway::writePart,
                durability::synced, timer, this::flushUrgent,
                config.remoteWrite().enabled() ? config.remoteWrite().delay().toMillis() : Long.MAX_VALUE,
                System::nanoTime);
        pace.bindTo(metrics);
        flusher = new Flusher(aggregation, durability.before(gateway::write), config.aggregation().flushInterval(),
                metrics, clock, config.aggregation().flushBackoff(), config.aggregation().flushBackoffMax(),
                storageHealth, config.store().maxPendingWindows(), durability::storagePause, spill,
                durability::dropStoredSegments, pace);
        flusher.bindTo(metrics);
        ValidationStage validation = new ValidationStage(validator,
                config.validation().workers(), config.aggregation().shards(), threads.validate(), clock, metrics);

        // The data path: inbound → parallel validation → groupBy aggregation → final flush. The bound is the
        // IngestBuffer, in points, which every batch passes before it reaches the hub; past it, demand flows back to
        // the sessions, so nothing here holds or drops batches of its own.
        Mono<Void> run = hub.inbound()
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
                    config.aggregation().lateness(), registry, clock, flusher::storedThrough, threads.remoteWrite());
            remoteWrite.start();
        }
        Duration every = config.lifecycle().statsInterval();
        if (!every.isZero()) {
            statsReporter = Flux.interval(every, every, timer).subscribe(t -> log.info("stats {}", statsLine()));
        }
    }

    private Mono<Void> finalFlush(List<List<Window>> flushes) {
        log.info("final flush of {} windows", flushes.stream().mapToInt(List::size).sum());
        return flusher.flushFinal(flushes).then(durability.finalFlushDone());
    }

    private Mono<Void> bindPorts() {
        IngestCodec codec = new IngestCodec(config.ingest().maxLineBytes(), config.validation().maxTags(),
                config.ingest().keyCacheMax(), validator);
        codec.bindTo(registry);
        Authenticator auth = new Authenticator(config.auth());
        SslContext tls = Tls.serverContext(config.tls());
        Duration handshake = config.tls().handshakeTimeout();
        tcp = new TcpIngest(config.ingest(), codec, buffer, hub, metrics, clock, auth, tls, handshake);
        tcp.runOnEachLoop(threads.ingestNice()::applyToCurrentThread);
        // Queries read the store on threads of their own: a query never waits behind a flush or a rollup pass.
        StoreGateway reads = new StoreGateway(store, threads.storeReads());
        QueryRoutes queries = new QueryRoutes(new QueryService(aggregation, reads, budget,
                config.store().replicaId(), config.aggregation().window().toMillis(),
                config.aggregation().lateness().toMillis(), clock), this::stats);
        AuthGate gate = auth.enabled()
                ? new AuthGate(auth::accepts, config.auth().openPaths(), () -> metrics.authFailed(Transport.HTTP))
                : null;
        List<Routes> groups = List.of(
                new AdminRoutes(this::readinessCheck, registry::scrape),
                new HttpIngest(config.ingest(), codec, buffer, hub, metrics, clock),
                queries,
                new PromRoutes(queries.service(), config.prometheus(), config.ingest().maxBodyBytes(),
                        threads.promql(), registry));
        Mono<? extends DisposableServer> tcpBind = tcp.bind().doOnNext(s -> tcpServer = s);
        Mono<? extends DisposableServer> httpBind = HttpEdge.server(config.ingest(), tls, handshake, httpLoops,
                        HttpEdge.routes(List.of(new PageRoutes()), gate, groups))
                .bind()
                .doOnNext(s -> httpServer = s);
        return Mono.when(tcpBind, httpBind);
    }

    /** What {@code /readyz} answers now. */
    private ReadinessCheck readinessCheck() {
        return new ReadinessCheck(readiness.state(), storageHealth.failing(), storageHealth.lastFailure(),
                spill.windows(), spill.full(), storageHealth.ingestPaused(), aggregation.pending().windows(),
                config.store().maxPendingWindows(), metrics.flushFailures(), durability.paused(), durability.bytes(),
                durability.maxBytes(), remoteWrite == null ? null : remoteWrite.problem(), remoteWrite != null);
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
            durability.stopping();
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
        durability.close();
        if (httpServer != null) {
            httpServer.disposeNow(Duration.ofSeconds(2));
        }
        httpLoops.disposeLater(Duration.ZERO, Duration.ofSeconds(2)).block(Duration.ofSeconds(3));
        if (tcp != null) {
            tcp.closeLoops(Duration.ofSeconds(2));
        }
        threads.dispose();
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
        s.put("windowMs", config.aggregation().window().toMillis());
        return s;
    }

    String statsLine() {
        StringBuilder sb = new StringBuilder();
        stats().forEach((k, v) -> sb.append(k).append('=').append(v).append(' '));
        return sb.toString().trim();
    }
}
