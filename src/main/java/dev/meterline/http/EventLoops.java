package dev.meterline.http;

import io.netty.channel.EventLoop;
import io.netty.util.concurrent.EventExecutor;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;
import reactor.netty.Connection;
import reactor.netty.http.server.HttpServerRequest;
import reactor.netty.resources.LoopResources;

import java.util.concurrent.Executor;

/**
 * The hop back onto a connection's event loop. An answer computed on a shard or store thread is written from the
 * connection's own event loop: written from another thread, the response reaches the client before the request's
 * handling has ended on the event loop; a keep-alive request arriving in that gap is queued by reactor-netty (1.3.7),
 * and if it is then answered at once (a 404, {@code /healthz}) the connection stops reading and the client hangs.
 */
public final class EventLoops {

    private EventLoops() {
    }

    /**
     * Runs {@code task} once on each of the server event loops of {@code loops}, starting their threads from this
     * one (a thread takes the scheduling priority of the thread that starts it); a server bound on the same loops
     * later runs on those threads.
     */
    public static void runOnEach(LoopResources loops, Runnable task) {
        for (EventExecutor loop : loops.onServer(LoopResources.DEFAULT_NATIVE)) {
            loop.execute(task);
        }
    }

    /** The event loop of a connection. */
    public static Executor of(Connection connection) {
        return connection.channel().eventLoop();
    }

    /** The event loop of the connection carrying a request; the caller's thread when there is none. */
    public static Executor of(HttpServerRequest req) {
        Executor[] loop = new Executor[1];
        req.withConnection(c -> loop[0] = of(c));
        return loop[0] == null ? Runnable::run : loop[0];
    }

    /**
     * Delivers the answer's signals on the request's event loop: at once when the answer is ready on that loop (an
     * answer from memory alone), else as a task of the loop.
     */
    public static <T> Mono<T> onEventLoop(HttpServerRequest req, Mono<T> answer) {
        EventLoop[] loop = new EventLoop[1];
        req.withConnection(c -> loop[0] = c.channel().eventLoop());
        return loop[0] == null ? answer : answer.publishOn(Schedulers.fromExecutor(inline(loop[0])));
    }

    /** Runs a task at once when called on {@code loop}, else hands it to {@code loop}. */
    static Executor inline(EventLoop loop) {
        return task -> {
            if (loop.inEventLoop()) {
                task.run();
            } else {
                loop.execute(task);
            }
        };
    }
}
