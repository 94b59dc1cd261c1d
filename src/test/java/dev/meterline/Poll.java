package dev.meterline;

import java.time.Duration;
import java.util.function.Predicate;

/**
 * Re-reads a value until it satisfies a condition or the time is up. For state a test can only observe by asking
 * (the stats of a server over HTTP, the sockets of a client), where there is no event to wait on; the one place such
 * waits happen, with one interval.
 */
public final class Poll {

    /** How long between two reads. */
    private static final Duration EVERY = Duration.ofMillis(20);

    private Poll() {
    }

    /** Reads a value; may throw what the read throws. */
    @FunctionalInterface
    public interface Probe<T> {
        T read() throws Exception;
    }

    /** The first value read that satisfies {@code done}, or the last one read once {@code limit} has passed. */
    public static <T> T until(Probe<T> probe, Predicate<T> done, Duration limit) throws Exception {
        long deadline = System.nanoTime() + limit.toNanos();
        while (true) {
            T value = probe.read();
            if (done.test(value) || System.nanoTime() - deadline >= 0) {
                return value;
            }
            Thread.sleep(EVERY.toMillis());
        }
    }
}
