package dev.meterline.ingest;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

/**
 * Completes when the connection's outbound buffer is below its high water mark again: reading from a client that
 * does not read its replies waits here, so its unread replies cannot grow past the water mark. Also marks the end of the
 * inbound stream when the client shuts down its sending side (half-closure is on, so the channel stays open).
 */
final class WritableGate extends ChannelInboundHandlerAdapter {

    /**
     * Read after the client's last bytes when it shuts down its sending side: Reactor Netty does not end the inbound
     * stream on half-closure, so this marker, queued behind any unread data, does.
     */
    static final Object END_OF_INPUT = new Object();

    private final Channel channel;
    private Sinks.Empty<Void> waiter;

    WritableGate(Channel channel) {
        this.channel = channel;
    }

    /** Null while writable (no need to wait); otherwise completes when the channel is writable again or closes. */
    synchronized Mono<Void> whenWritable() {
        if (channel.isWritable() || !channel.isActive()) {
            return null;
        }
        if (waiter == null) {
            waiter = Sinks.empty();
        }
        return waiter.asMono();
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        release();
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt == ChannelInputShutdownEvent.INSTANCE) {
            ctx.fireChannelRead(END_OF_INPUT);
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        release();
        ctx.fireChannelInactive();
    }

    private void release() {
        Sinks.Empty<Void> w;
        synchronized (this) {
            if (waiter == null || (channel.isActive() && !channel.isWritable())) {
                return;
            }
            w = waiter;
            waiter = null;
        }
        w.tryEmitEmpty();
    }
}
