package dev.meterline.query;

import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

import java.util.ArrayDeque;
import java.util.Queue;

/** A scheduler whose tasks run only when the test says so, on the test's own thread. */
final class ManualThread {

    private final Queue<Runnable> tasks = new ArrayDeque<>();
    final Scheduler scheduler = Schedulers.fromExecutor(tasks::add);

    /** Runs every task queued, including those the tasks queue. */
    void runAll() {
        Runnable r;
        while ((r = tasks.poll()) != null) {
            r.run();
        }
    }

    /** Runs the oldest task queued; false when there was none. */
    boolean runOne() {
        Runnable r = tasks.poll();
        if (r != null) {
            r.run();
        }
        return r != null;
    }
}
