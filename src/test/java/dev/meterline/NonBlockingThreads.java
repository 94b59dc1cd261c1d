package dev.meterline;

import reactor.blockhound.BlockHound;
import reactor.blockhound.integration.BlockHoundIntegration;

/**
 * BlockHound's view of Meterline's threads, installed in every test JVM by the JUnit platform integration. Reactor's
 * own integration already covers its parallel and single schedulers and Netty's event loops; this adds the names of
 * the threads the pipeline computes on, whatever scheduler a test gives them, and allows the few blocking calls that
 * are not the pipeline's own work.
 */
public final class NonBlockingThreads implements BlockHoundIntegration {

    /** Threads that must never block: validation rails, shards, the tick timer. Store threads may. */
    static boolean computes(Thread t) {
        String name = t.getName();
        return name.startsWith("meterline-validate") || name.startsWith("meterline-shard")
                || name.startsWith("meterline-timer");
    }

    @Override
    public void applyTo(BlockHound.Builder builder) {
        builder.nonBlockingThreadPredicate(current -> current.or(NonBlockingThreads::computes));
        // Logback's appenders take a lock and write to the console: the log line of a warning is not the work the
        // thread does, and a blocked write to stdout would be an environment fault, not a design one.
        builder.allowBlockingCallsInside("ch.qos.logback.core.OutputStreamAppender", "writeBytes");
        builder.allowBlockingCallsInside("ch.qos.logback.core.OutputStreamAppender", "subAppend");
        // Loading a class reads the jar once per class; it happens on whichever thread touches the class first.
        builder.allowBlockingCallsInside("java.lang.ClassLoader", "loadClass");
        // A pool thread waiting for its next task is idle, not blocking work (tests run shards on plain pools).
        builder.allowBlockingCallsInside("java.util.concurrent.ThreadPoolExecutor", "getTask");
        // Handing a task to such a pool offers it to the pool's queue, which never waits for room; it takes the
        // queue's locks for the moment of the hand-off and, when the pool thread holds one, parks for a few
        // microseconds (seen under load when a validation rail hands a part to a shard on a plain pool).
        builder.allowBlockingCallsInside("java.util.concurrent.LinkedBlockingQueue", "offer");
        // Netty's adaptive allocator takes a magazine's lock for the moment it grows its magazines or frees into one:
        // a short critical section between event loops, which under contention parks for a few microseconds.
        builder.allowBlockingCallsInside("io.netty.buffer.AdaptivePoolingAllocator$MagazineGroup", "tryExpandMagazines");
        builder.allowBlockingCallsInside("io.netty.buffer.AdaptivePoolingAllocator$Magazine", "free");
    }
}
