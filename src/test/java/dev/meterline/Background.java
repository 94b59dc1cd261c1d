package dev.meterline;

import java.util.concurrent.CompletableFuture;

/**
 * Runs a test's blocking task (a client waiting for an answer that is held back, a server's stop) on a thread of
 * its own while the test goes on to watch the server. Not the common pool: on two cores it has one thread, so one
 * test's task that blocks there holds up the next test's task behind it, and a wait meant to end on an event ends on
 * a timeout instead.
 */
public final class Background {

    /** The blocking task; what it throws completes its future exceptionally. */
    @FunctionalInterface
    public interface Task<T> {
        T call() throws Exception;
    }

    /** A task that returns nothing. */
    @FunctionalInterface
    public interface Action {
        void run() throws Exception;
    }

    private Background() {
    }

    /** Starts {@code task} on a new daemon thread named {@code name}; the future completes with its outcome. */
    public static <T> CompletableFuture<T> call(String name, Task<T> task) {
        CompletableFuture<T> outcome = new CompletableFuture<>();
        Thread thread = new Thread(() -> {
            try {
                outcome.complete(task.call());
            } catch (Throwable e) {
                outcome.completeExceptionally(e);
            }
        }, name);
        thread.setDaemon(true);
        thread.start();
        return outcome;
    }

    /** {@link #call} for a task that returns nothing. */
    public static CompletableFuture<Void> run(String name, Action action) {
        return call(name, () -> {
            action.run();
            return null;
        });
    }
}
