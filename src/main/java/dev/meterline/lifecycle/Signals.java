package dev.meterline.lifecycle;

import sun.misc.Signal;

import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Turns SIGTERM and SIGINT into one call of a graceful stop. Handling the signals (rather than relying on a shutdown
 * hook) lets the process finish draining and exit with status 0.
 */
public final class Signals {

    private Signals() {
    }

    /** Calls {@code onFirst} on the first SIGTERM or SIGINT, in a new thread; later signals are ignored. */
    public static void onTermination(Runnable onFirst) {
        AtomicBoolean fired = new AtomicBoolean();
        for (String name : new String[]{"TERM", "INT"}) {
            Signal.handle(new Signal(name), sig -> {
                if (fired.compareAndSet(false, true)) {
                    Thread t = new Thread(onFirst, "meterline-shutdown");
                    t.start();
                }
            });
        }
    }
}
