package dev.meterline.ingest;

import dev.meterline.config.Durations;
import dev.meterline.config.IngestConfig;
import dev.meterline.config.Overflow;
import dev.meterline.http.EventLoops;
import dev.meterline.model.Batch;
import dev.meterline.model.Reject;
import dev.meterline.telemetry.ConnectionClose;
import dev.meterline.telemetry.ConnectionRefusal;
import dev.meterline.telemetry.MeterNames;
import dev.meterline.telemetry.PipelineMetrics;
import dev.meterline.telemetry.Transport;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.AdaptiveRecvByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.concurrent.ScheduledFuture;
import org.reactivestreams.Publisher;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.netty.Connection;
import reactor.netty.DisposableServer;
import reactor.netty.NettyInbound;
import reactor.netty.NettyOutbound;
import reactor.netty.resources.LoopResources;
import reactor.netty.tcp.TcpServer;
import reactor.util.concurrent.Queues;

import javax.net.ssl.SSLException;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;

/**
 * The TCP ingest server: newline-delimited JSON in, one error line per rejected line and one ack per sync out, on
 * the same connection. Reads stop while the ingest buffer is full under the block policy.
 */
public final class TcpIngest {

    private static final Logger log = LoggerFactory.getLogger(TcpIngest.class);
    /** Outbound bytes per connection above which reading from it pauses, and below which it resumes. */
    static final int HIGH_WATER = 64 * 1024;
    static final int LOW_WATER = 32 * 1024;
    /** How long a connection closed for a reason still takes (and discards) input, so the reason gets through. */
    static final long LINGER_MS = 2000;

    /**
     * The most bytes one read of a connection takes from its socket (Netty's adaptive buffer grows towards it while
     * reads fill their buffers): a busy client's data comes in fewer, larger reads, each one system call and one
     * pass through the session's operators, rather than Netty's usual 64 KiB. The read's buffer is released once its
     * lines are decoded, and the decoder takes it {@link LineDecoder#SLICE_BYTES} at a time, so what a connection keeps
     * between reads does not grow with it.
     */
    static final int MAX_READ_BYTES = 262_144;

    private final IngestConfig config;
    private final IngestCodec codec;
    private final IngestBuffer buffer;
    private final IngestHub hub;
    private final PipelineMetrics metrics;
    private final LongSupplier clock;
    private final Authenticator auth;
    private final SslContext tls;
    private final LoopResources loops;
    private final Duration handshakeTimeout;
    private final AtomicInteger connections = new AtomicInteger();
    /** Open connections per client address; guarded by itself, with {@link #connections}, so both limits are exact. */
    private final Map<InetAddress, Integer> perClient = new HashMap<>();

    public TcpIngest(IngestConfig config, IngestCodec codec, IngestBuffer buffer, IngestHub hub,
                     PipelineMetrics metrics, LongSupplier clock, Authenticator auth, SslContext tls,
                     Duration handshakeTimeout) {
        this.config = config;
        this.codec = codec;
        this.buffer = buffer;
        this.hub = hub;
        this.metrics = metrics;
        this.clock = clock;
        this.auth = auth;
        this.tls = tls;
        this.handshakeTimeout = handshakeTimeout;
        // Lines are decoded on these loops: as many as cores (not Reactor Netty's default of at least four), so
        // decoding does not crowd out the validation and shard threads on a small pod.
        this.loops = LoopResources.create("meterline-tcp", config.ioThreads(), true);
        metrics.level("connections", MeterNames.CONNECTIONS_ACTIVE, "open TCP ingest connections",
                connections::get);
    }

    /** Binds the listening socket; the returned server stops accepting when disposed. */
    public Mono<? extends DisposableServer> bind() {
        TcpServer server = TcpServer.create();
        if (tls != null) {
            server = server.secure(spec -> spec.sslContext(tls).handshakeTimeout(handshakeTimeout));
        }
        return server
                .host(config.bind())
                .port(config.tcpPort())
                .runOn(loops)
                .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
                .childOption(ChannelOption.RCVBUF_ALLOCATOR,
                        new AdaptiveRecvByteBufAllocator(512, 16_384, MAX_READ_BYTES))
                .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(LOW_WATER, HIGH_WATER))
                .handle(this::handle)
                .bind();
    }

    /**
     * Runs {@code task} once on each of the ingest event loops, starting their threads; the server binds to the same
     * loops later.
     */
    public void runOnEachLoop(Runnable task) {
        EventLoops.runOnEach(loops, task);
    }

    /** Shuts the event loops down; after the server was disposed and its connections drained. */
    public void closeLoops(Duration timeout) {
        loops.disposeLater(Duration.ZERO, timeout).block(timeout.plusSeconds(1));
    }

    public int connections() {
        return connections.get();
    }

    private Publisher<Void> handle(NettyInbound in, NettyOutbound out) {
        Connection[] conn = new Connection[1];
        in.withConnection(c -> conn[0] = c);
        Channel channel = conn[0].channel();
        InetAddress client = channel.remoteAddress() instanceof InetSocketAddress a ? a.getAddress() : null;
        ConnectionRefusal refusal = admitConnection(client);
        if (refusal != null) {
            metrics.connectionRefused(refusal);
            return out.sendString(Mono.just("{\"error\":\"" + refusal.message() + "\"}\n")).then();
        }
        Runnable release = releaseOnce(client);
        Executor loop = EventLoops.of(conn[0]);
        TcpReplies replies = new TcpReplies(config.replyQueue(), metrics, config.overflow() == Overflow.DROP);
        IngestSession session = new IngestSession(codec, buffer, metrics, clock, replies, loop);
        AtomicInteger waiting = new AtomicInteger();
        LineDeadline deadline = new LineDeadline(config.lineTimeout().toMillis());
        AtomicBoolean cutOnce = new AtomicBoolean();
        AtomicBoolean drainCut = new AtomicBoolean();
        WritableGate gate = new WritableGate(channel);
        AuthLine authLine = auth.enabled() ? new AuthLine(codec, auth) : null;
        conn[0].addHandlerLast("meterline.writable", gate);
        conn[0].onReadIdle(config.idleTimeout().toMillis(), () -> {
            if (waiting.get() == 0 && cutOnce.compareAndSet(false, true)) {
                log.debug("closing idle connection {}", channel.remoteAddress());
                metrics.connectionClosed(ConnectionClose.IDLE);
                conn[0].dispose();
            }
        });
        long period = Math.max(10, config.lineTimeout().toMillis() / 4);
        ScheduledFuture<?> lineCheck = channel.eventLoop().scheduleAtFixedRate(() -> {
            if (waiting.get() == 0 && channel.isActive() && deadline.expired(clock.getAsLong())) {
                cut(channel, cutOnce, ConnectionClose.LINE_TIMEOUT, "line not completed within "
                        + Durations.format(config.lineTimeout()), session.lines() + 1);
            }
        }, period, period, TimeUnit.MILLISECONDS);
        channel.closeFuture().addListener(f -> lineCheck.cancel(false));
        Mono<Void> writable = Mono.defer(() -> {
            Mono<Void> wait = gate.whenWritable();
            return wait == null ? Mono.empty() : wait
                    .timeout(config.writeTimeout(), Mono.fromRunnable(() -> cut(channel, cutOnce, ConnectionClose.WRITE_TIMEOUT,
                            "replies not read within " + Durations.format(config.writeTimeout()), 0)))
                    .doFinally(s -> deadline.resumed(clock.getAsLong()));
        });
        Flux<Batch> batches = in.receiveObject()
                .takeWhile(o -> o != WritableGate.END_OF_INPUT)
                .cast(ByteBuf.class)
                .takeUntilOther(hub.cutSignal().doOnTerminate(() -> drainCut.set(true)))
                .onErrorResume(e -> {
                    // A reset, a read failure or TLS the client got wrong ends this client's input like a close;
                    // never the pipeline. Anything else is a fault of the server's: it ends the connection too,
                    // but loudly.
                    if (isClientFailure(e)) {
                        log.debug("connection {} failed: {}", channel.remoteAddress(), e.toString());
                    } else {
                        log.error("connection {} ended by a fault while reading", channel.remoteAddress(), e);
                    }
                    return Flux.empty();
                })
                .concatMap(buf -> {
                    if (cutOnce.get()) {
                        return Flux.<Batch>empty(); // closing: what still comes in is discarded
                    }
                    if (authLine != null && authLine.state() != AuthLine.State.ACCEPTED) {
                        AuthLine.State state = authLine.offer(buf);
                        if (state == AuthLine.State.REFUSED) {
                            if (!cutOnce.get()) {
                                metrics.authFailed(Transport.TCP);
                            }
                            cut(channel, cutOnce, ConnectionClose.AUTH_FAILED,
                                    "authentication failed: the first line must be {\"auth\":\"<token>\"}", 0);
                        }
                        if (state != AuthLine.State.ACCEPTED || !buf.isReadable()) {
                            return Flux.<Batch>empty();
                        }
                    }
                    int before = session.lines();
                    List<Batch> decoded = session.decode(buf);
                    deadline.afterRead(session.lines() > before, session.midLine(), clock.getAsLong());
                    return admitAll(decoded, loop, waiting, deadline).concatWith(writable.then(Mono.<Batch>empty()));
                }, 0)
                .concatWith(Flux.defer(() -> {
                    if (cutOnce.get() || drainCut.get()) {
                        // The server cut this line off (the client was told why, or the drain deadline passed):
                        // it was not sent that way, so it is dropped rather than answered as invalid.
                        session.discardPartialLine();
                    }
                    return admitAll(session.finish(), loop, waiting, deadline);
                }));
        if (!hub.attach(session, batches)) {
            release.run();
            return out.sendString(Mono.just("{\"error\":\"shutting down\"}\n")).then();
        }
        return out.sendString(replies.lines(), StandardCharsets.UTF_8).then()
                .doFinally(s -> release.run());
    }

    /** Counts the new connection against both limits, or says which one refuses it (nothing counted then). */
    private ConnectionRefusal admitConnection(InetAddress client) {
        if (hub.closed()) {
            return ConnectionRefusal.SHUTTING_DOWN;
        }
        synchronized (perClient) {
            if (connections.get() >= config.maxConnections()) {
                return ConnectionRefusal.TOTAL_LIMIT;
            }
            if (client != null) {
                int open = perClient.getOrDefault(client, 0);
                if (open >= config.maxConnectionsPerClient()) {
                    return ConnectionRefusal.PER_CLIENT_LIMIT;
                }
                perClient.put(client, open + 1);
            }
            connections.incrementAndGet();
        }
        return null;
    }

    private Runnable releaseOnce(InetAddress client) {
        AtomicBoolean released = new AtomicBoolean();
        return () -> {
            if (released.compareAndSet(false, true)) {
                synchronized (perClient) {
                    connections.decrementAndGet();
                    if (client != null) {
                        perClient.computeIfPresent(client, (k, n) -> n <= 1 ? null : n - 1);
                    }
                }
            }
        };
    }

    /**
     * Tells the client why (with the line number when there is one) if its socket takes the line at once, then
     * closes; counted by reason, once per connection.
     */
    private void cut(Channel channel, AtomicBoolean cutOnce, ConnectionClose reason, String message, int line) {
        if (!channel.isActive() || !cutOnce.compareAndSet(false, true)) {
            return;
        }
        metrics.connectionClosed(reason);
        log.debug("closing connection {}: {}", channel.remoteAddress(), message);
        StringBuilder sb = new StringBuilder("{\"error\":");
        IngestCodec.quote(sb, message);
        if (line > 0) {
            sb.append(",\"line\":").append(line);
        }
        sb.append("}\n");
        channel.eventLoop().execute(() -> {
            if (reason == ConnectionClose.WRITE_TIMEOUT || !channel.isWritable()
                    || !(channel instanceof DuplexChannel duplex)) {
                channel.close();
                return;
            }
            // Lingering close: send the reason and a FIN, discard what still comes in, close a little later, so a
            // client still sending gets the reason instead of a reset that would discard it.
            channel.writeAndFlush(Unpooled.copiedBuffer(sb, StandardCharsets.UTF_8)).addListener(f -> {
                shutdownOutput(duplex);
                channel.eventLoop().schedule(() -> {
                    channel.close();
                }, LINGER_MS, TimeUnit.MILLISECONDS);
            });
        });
    }

    /**
     * Sends the FIN, after TLS's close_notify on a TLS connection: without it a TLS client takes the end for a
     * truncation, and an OpenSSL client answers it with a fatal alert.
     */
    private static void shutdownOutput(DuplexChannel duplex) {
        SslHandler ssl = duplex.pipeline().get(SslHandler.class);
        if (ssl == null) {
            duplex.shutdownOutput();
        } else {
            ssl.closeOutbound().addListener(f -> duplex.shutdownOutput());
        }
    }

    /** A failure the client caused: the connection broke, or its TLS records or alerts failed the TLS layer. */
    private static boolean isClientFailure(Throwable e) {
        return e instanceof IOException || e instanceof DecoderException && e.getCause() instanceof SSLException;
    }

    private Flux<Batch> admitAll(List<Batch> batches, Executor loop, AtomicInteger waiting, LineDeadline deadline) {
        if (batches.isEmpty()) {
            return Flux.empty();
        }
        if (batches.size() == 1) {
            return admit(batches.get(0), loop, waiting, deadline).flux();
        }
        return Flux.fromIterable(batches).concatMap(b -> admit(b, loop, waiting, deadline), 0);
    }

    private Mono<Batch> admit(Batch b, Executor loop, AtomicInteger waiting, LineDeadline deadline) {
        return buffer.admit(b, loop)
                .doOnSubscribe(s -> waiting.incrementAndGet())
                .doFinally(s -> {
                    deadline.resumed(clock.getAsLong());
                    waiting.decrementAndGet();
                });
    }

    /** Error and sync lines for one connection, queued up to a bound; past it replies are dropped and counted. */
    static final class TcpReplies implements IngestSession.Replies {
        private final Sinks.Many<String> sink;
        private final PipelineMetrics metrics;
        private final boolean withDropped;

        TcpReplies(int queue, PipelineMetrics metrics, boolean withDropped) {
            this.sink = Sinks.many().unicast().onBackpressureBuffer(Queues.<String>get(queue).get());
            this.metrics = metrics;
            this.withDropped = withDropped;
        }

        Flux<String> lines() {
            return sink.asFlux();
        }

        @Override
        public void completed(Batch batch, List<Reject> rejects, boolean overloadBurstStart,
                              IngestSession.Totals totals) {
            if (rejects.isEmpty() && !overloadBurstStart && batch.syncId() == null) {
                return;
            }
            StringBuilder sb = new StringBuilder(64 * (rejects.size() + 1));
            int firstPointLine = batch.points().isEmpty() ? 0 : batch.points().get(0).line();
            boolean overloadWritten = !overloadBurstStart;
            for (Reject r : rejects) {
                if (!overloadWritten && r.line() > firstPointLine) {
                    IngestCodec.appendOverloaded(sb, firstPointLine);
                    overloadWritten = true;
                }
                IngestCodec.appendError(sb, r);
            }
            if (!overloadWritten) {
                IngestCodec.appendOverloaded(sb, firstPointLine);
            }
            if (batch.syncId() != null) {
                IngestCodec.appendSynced(sb, batch.syncId(), totals, withDropped);
            }
            Sinks.EmitResult result = sink.tryEmitNext(sb.toString());
            if (result.isFailure()) {
                metrics.replyDropped();
            }
        }

        @Override
        public void finished(IngestSession.Totals totals) {
            sink.tryEmitComplete();
        }
    }
}
