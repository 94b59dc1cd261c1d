package dev.meterline.ingest;

import dev.meterline.config.Overflow;
import dev.meterline.model.Batch;
import dev.meterline.telemetry.DropReason;
import reactor.core.publisher.Mono;
import reactor.core.publisher.MonoSink;

import java.util.ArrayDeque;
import java.util.concurrent.Executor;

/**
 * The bounded ingest buffer: counts points admitted into the pipeline and not yet aggregated, and decides at the
 * bound. Under {@link Overflow#BLOCK} a batch that does not fit waits (its connection stops reading, so TCP flow
 * control slows the sender); under {@link Overflow#DROP} it is dropped at once and counted.
 *
 * <p>Waiters are admitted first come, first served, so one greedy connection cannot starve the others.
 */
public final class IngestBuffer {

    private final long capacity;
    private final Overflow overflow;
    private final ArrayDeque<Waiter> waiters = new ArrayDeque<>();
    private long depth;
    private long peak;
    private boolean paused;

    public IngestBuffer(int capacity, Overflow overflow) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity: " + capacity + " (expected: > 0)");
        }
        this.capacity = capacity;
        this.overflow = overflow;
    }

    /** Points admitted and not yet released. */
    public synchronized long depth() {
        return depth;
    }

    /** Batches waiting for room (block policy): each one is a connection that has stopped reading. */
    public synchronized int waiting() {
        return waiters.size();
    }

    /** The highest depth seen since start. */
    public synchronized long peak() {
        return peak;
    }

    /** True while admission is paused (storage backlog full): batches wait, whatever the overflow policy. */
    public synchronized boolean paused() {
        return paused;
    }

    /**
     * Pauses or resumes admission. While paused, every batch waits (its connection stops reading), under the drop
     * policy too: a full storage backlog is pushed back, never dropped. Resuming admits the waiters that fit.
     */
    public void pause(boolean pause) {
        synchronized (this) {
            paused = pause;
        }
        if (!pause) {
            wake();
        }
    }

    public long capacity() {
        return capacity;
    }

    public Overflow overflow() {
        return overflow;
    }

    /**
     * Admits {@code batch}: emits it once its points fit. A batch larger than the whole buffer is admitted alone
     * into an empty buffer, so nothing can wait forever. Under the drop policy a batch that does not fit is dropped
     * and the Mono completes empty. {@code wakeOn} runs the continuation of a batch that had to wait (the
     * connection's event loop).
     */
    public Mono<Batch> admit(Batch batch, Executor wakeOn) {
        int n = batch.points().size();
        if (n == 0) {
            return Mono.just(batch);
        }
        boolean wasPaused;
        synchronized (this) {
            if (!paused && waiters.isEmpty() && fits(n)) {
                take(n);
                batch.markAdmitted();
                return Mono.just(batch);
            }
            wasPaused = paused;
        }
        if (overflow == Overflow.DROP && !wasPaused) {
            batch.drop(DropReason.OVERLOADED);
            return Mono.empty();
        }
        return Mono.create(sink -> {
            Waiter w = new Waiter(batch, n, sink, wakeOn);
            synchronized (this) {
                waiters.addLast(w);
            }
            sink.onCancel(() -> {
                boolean removed;
                synchronized (this) {
                    removed = waiters.remove(w);
                }
                if (removed) {
                    batch.drop(DropReason.SHUTDOWN);
                }
            });
            wake();
        });
    }

    /** Returns room for {@code points} and admits waiters that now fit. */
    public void release(int points) {
        if (points == 0) {
            return;
        }
        synchronized (this) {
            depth -= points;
        }
        wake();
    }

    private void wake() {
        while (true) {
            Waiter w;
            synchronized (this) {
                w = waiters.peekFirst();
                if (paused || w == null || !fits(w.points)) {
                    return;
                }
                waiters.pollFirst();
                take(w.points);
            }
            Waiter admitted = w;
            admitted.batch.markAdmitted();
            admitted.wakeOn.execute(() -> admitted.sink.success(admitted.batch));
        }
    }

    private boolean fits(int n) {
        return depth == 0 || depth + n <= capacity;
    }

    private void take(int n) {
        depth += n;
        if (depth > peak) {
            peak = depth;
        }
    }

    private record Waiter(Batch batch, int points, MonoSink<Batch> sink, Executor wakeOn) {
    }
}
