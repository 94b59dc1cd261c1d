package dev.meterline.lifecycle;

import dev.meterline.config.LifecycleConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.scheduler.NonBlocking;

import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The CPU scheduling priority (the Linux nice value) of the threads that take in and store points, so that a thread
 * answering a query, at the default priority, gets a core first when both wait for one. Ingest has bounded buffers
 * and back pressure, so it can yield the milliseconds a query needs.
 *
 * <p>Each thread lowers its own priority, which needs no privilege on Linux; a thread it starts inherits the value.
 * When the system refuses, or is not Linux, the threads run on at their priority and the refusal is logged once.
 */
public final class Niceness {

    private static final Logger log = LoggerFactory.getLogger(Niceness.class);

    private final int nice;
    private final Renice renice;
    private final AtomicBoolean refused = new AtomicBoolean();

    /** Sets the calling thread's nice value; throws when the system refuses. */
    @FunctionalInterface
    interface Renice {
        void currentThread(int nice) throws Exception;
    }

    Niceness(int nice, Renice renice) {
        if (nice < 0 || nice > LifecycleConfig.MAX_NICE) {
            throw new IllegalArgumentException("nice: " + nice + " (expected: 0 to " + LifecycleConfig.MAX_NICE + ")");
        }
        this.nice = nice;
        this.renice = renice;
    }

    /**
     * Threads lowered to {@code nice}, through the C library's {@code setpriority}; 0 leaves every thread as it is
     * and loads nothing. The library is bound here, on the caller's thread, so no event loop ever loads it.
     */
    public static Niceness of(int nice) {
        if (nice == 0) {
            return new Niceness(0, n -> { });
        }
        Renice renice;
        try {
            renice = LibC.bind();
        } catch (LinkageError | RuntimeException e) {
            Niceness unbound = new Niceness(nice, n -> { });
            unbound.refuse(e.toString());
            return unbound;
        }
        return new Niceness(nice, renice);
    }

    /** Lowers the calling thread to this nice value; a refusal is logged once, and the thread runs on as it was. */
    public void applyToCurrentThread() {
        if (nice == 0 || refused.get()) {
            return;
        }
        try {
            renice.currentThread(nice);
        } catch (Exception e) {
            refuse(e.toString());
        }
    }

    /**
     * A factory of threads named {@code prefix-1}, {@code prefix-2}…, each lowered to this nice value before it
     * runs its first task. {@code nonBlocking} marks them as threads that must never block, as Reactor's own
     * parallel and single schedulers do, so that BlockHound and {@code block()} keep watching them.
     */
    public ThreadFactory threads(String prefix, boolean nonBlocking) {
        AtomicInteger counter = new AtomicInteger();
        return task -> {
            Runnable lowered = () -> {
                applyToCurrentThread();
                task.run();
            };
            String name = prefix + "-" + counter.incrementAndGet();
            Thread thread = nonBlocking ? new NonBlockingThread(lowered, name) : new Thread(lowered, name);
            thread.setDaemon(false);
            return thread;
        };
    }

    /** The nice value the threads run at: the one asked for, or 0 when off or once the system refused it. */
    public int level() {
        return refused.get() ? 0 : nice;
    }

    private void refuse(String reason) {
        if (refused.compareAndSet(false, true)) {
            log.warn("ingest threads stay at their scheduling priority: nice {} was refused ({}); queries then "
                    + "compete with ingest for the CPU as equals. Set ingest-nice to 0 to leave it off", nice, reason);
        }
    }

    /** A thread that Reactor and BlockHound treat as one that must never block. */
    private static final class NonBlockingThread extends Thread implements NonBlocking {
        NonBlockingThread(Runnable task, String name) {
            super(task, name);
        }
    }
}
