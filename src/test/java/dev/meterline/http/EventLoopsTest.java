package dev.meterline.http;

import io.netty.channel.DefaultEventLoop;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The hop onto an event loop runs a task at once on the loop itself and as the loop's task from anywhere else. */
class EventLoopsTest {

    private final DefaultEventLoop loop = new DefaultEventLoop();

    @AfterEach
    void stop() {
        loop.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }

    @Test
    void onTheLoopTheTaskRunsBeforeTheCallReturns() throws Exception {
        Executor onLoop = EventLoops.inline(loop);
        CompletableFuture<Boolean> ranInline = new CompletableFuture<>();
        loop.execute(() -> {
            boolean[] ran = new boolean[1];
            onLoop.execute(() -> ran[0] = true);
            ranInline.complete(ran[0]);
        });
        assertTrue(ranInline.get(10, TimeUnit.SECONDS));
    }

    @Test
    void offTheLoopTheTaskRunsOnTheLoop() throws Exception {
        CompletableFuture<Thread> loopThread = new CompletableFuture<>();
        loop.execute(() -> loopThread.complete(Thread.currentThread()));
        CompletableFuture<Thread> ranOn = new CompletableFuture<>();
        EventLoops.inline(loop).execute(() -> ranOn.complete(Thread.currentThread()));
        assertEquals(loopThread.get(10, TimeUnit.SECONDS), ranOn.get(10, TimeUnit.SECONDS));
    }
}
