package dev.meterline.ingest;

import dev.meterline.config.IngestConfig;
import dev.meterline.config.Overflow;
import dev.meterline.model.Batch;
import dev.meterline.model.Reject;
import dev.meterline.telemetry.PipelineMetrics;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.socket.ChannelInputShutdownEvent;
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
import reactor.netty.tcp.TcpServer;
import reactor.util.concurrent.Queues;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;

/**
 * The TCP ingest server: newline-delimited JSON in, one error line per rejected line and one ack per sync out, on
 * the same connection. Reads stop while the ingest buffer is full under the block policy.
 */
public final class TcpIngest {

    private static final Logger log = LoggerFactory.getLogger(TcpIngest.class);

    private final IngestConfig config;
    private final IngestCodec codec;
    private final IngestBuffer buffer;
    private final IngestHub hub;
    private final PipelineMetrics metrics;
    private final LongSupplier clock;
    private final AtomicInteger connections = new AtomicInteger();
    /** Stands for the client's half-close in a connection's inbound stream. */
    private static final Object INPUT_SHUTDOWN = new Object();

    public TcpIngest(IngestConfig config, IngestCodec codec, IngestBuffer buffer, IngestHub hub,
                     PipelineMetrics metrics, LongSupplier clock) {
        this.config = config;
        this.codec = codec;
        this.buffer = buffer;
        this.hub = hub;
        this.metrics = metrics;
        this.clock = clock;
        metrics.level("connections", "meterline.connections.active", "open TCP ingest connections",
                connections::get);
    }

    /** Binds the listening socket; the returned server stops accepting when disposed. */
    public Mono<? extends DisposableServer> bind() {
        return TcpServer.create()
                .host(config.bind())
                .port(config.tcpPort())
                .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
                .handle(this::handle)
                .bind();
    }

    public int connections() {
        return connections.get();
    }

    private Publisher<Void> handle(NettyInbound in, NettyOutbound out) {
        if (connections.incrementAndGet() > config.maxConnections() || hub.closed()) {
            connections.decrementAndGet();
            metrics.connectionRefused();
            String why = hub.closed() ? "shutting down" : "too many connections";
            return out.sendString(Mono.just("{\"error\":\"" + why + "\"}\n")).then();
        }
        Connection[] conn = new Connection[1];
        in.withConnection(c -> conn[0] = c);
        Executor loop = conn[0].channel().eventLoop();
        TcpReplies replies = new TcpReplies(config.replyQueue(), metrics, config.overflow() == Overflow.DROP);
        IngestSession session = new IngestSession(codec, buffer, metrics, clock, replies);
        AtomicInteger waiting = new AtomicInteger();
        conn[0].onReadIdle(config.idleTimeout().toMillis(), () -> {
            if (waiting.get() == 0) {
                log.debug("closing idle connection {}", conn[0].channel().remoteAddress());
                conn[0].dispose();
            }
        });
        conn[0].addHandlerLast("meterline-half-close", new HalfCloseMarker());
        AtomicBoolean cutOff = new AtomicBoolean();
        Flux<Batch> batches = in.receiveObject()
                .takeWhile(o -> o != INPUT_SHUTDOWN)
                .cast(ByteBuf.class)
                .takeUntilOther(hub.cutSignal().doOnTerminate(() -> cutOff.set(true)))
                .concatMap(buf -> admitAll(session.decode(buf), loop, waiting), 0)
                .concatWith(Flux.defer(() -> admitAll(cutOff.get() ? session.cutOff() : session.finish(), loop,
                        waiting)));
        if (!hub.attach(session, batches)) {
            connections.decrementAndGet();
            return out.sendString(Mono.just("{\"error\":\"shutting down\"}\n")).then();
        }
        return out.sendString(replies.lines(), StandardCharsets.UTF_8).then()
                .doFinally(s -> connections.decrementAndGet());
    }

    /**
     * Marks the client's half-close in the inbound stream, after every byte read before it: reactor-netty does not end
     * the inbound on a half-close, so without this a half-closed connection was only read to its end at idle timeout
     * or at the drain deadline.
     */
    private static final class HalfCloseMarker extends ChannelInboundHandlerAdapter {
        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof ChannelInputShutdownEvent) {
                ctx.fireChannelRead(INPUT_SHUTDOWN);
            }
            ctx.fireUserEventTriggered(evt);
        }
    }

    private Flux<Batch> admitAll(List<Batch> batches, Executor loop, AtomicInteger waiting) {
        if (batches.isEmpty()) {
            return Flux.empty();
        }
        if (batches.size() == 1) {
            return admit(batches.get(0), loop, waiting).flux();
        }
        return Flux.fromIterable(batches).concatMap(b -> admit(b, loop, waiting), 0);
    }

    private Mono<Batch> admit(Batch b, Executor loop, AtomicInteger waiting) {
        return buffer.admit(b, loop)
                .doOnSubscribe(s -> waiting.incrementAndGet())
                .doFinally(s -> waiting.decrementAndGet());
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
