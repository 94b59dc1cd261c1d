package dev.meterline.ingest;

import dev.meterline.config.Overflow;
import dev.meterline.model.Batch;
import dev.meterline.model.DropReason;
import dev.meterline.telemetry.MeterNames;
import dev.meterline.telemetry.PipelineMetrics;
import reactor.core.publisher.Mono;
import reactor.core.publisher.MonoSink;

import java.util.ArrayDeque;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.concurrent.Executor;

/**
 * The bounded ingest buffer: counts points admitted into the pipeline and not yet aggregated, and decides at the
 * bound. Under {@link Overflow#BLOCK} a batch that does not fit waits (its connection stops reading, so TCP flow
 * control slows the sender); under {@link Overflow#DROP} it is dropped at once and counted.
 *
 * <p>Waiters are admitted first come, first served, so one greedy connection cannot starve the others. Under the
 * drop policy nothing waits, so FCFS cannot help there: greedy connections re-read at once and take every point of
 * room the moment it frees, and a light client's occasional batch would find the buffer full nearly every time. So
 * under drop the last {@link #reserve()} points (an eighth) are kept for light batches: a batch may take them only if
 * it fits in the reserve, its connection has no points in the buffer, and it was not cut from a read that filled a
 * whole batch ({@link Batch#bulk()}: the tail of a greedy read). Sessions cut batches to at most
 * {@link #maxBatchPoints()}, the rest of the buffer, so no single batch can fill the reserve either.
 */
public final class IngestBuffer {

    private final long capacity;
    private final Overflow overflow;
    private final long reserve;
    private final ArrayDeque<Waiter> waiters = new ArrayDeque<>();
    /** Points in the buffer per owner (connection or request), kept only under drop, for its reserve. */
    private final Map<Batch.Owner, Integer> held = new IdentityHashMap<>();
    private long depth;
    private long peak;
    private boolean paused;

    public IngestBuffer(int capacity, Overflow overflow) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity: " + capacity + " (expected: > 0)");
        }
        this.capacity = capacity;
        this.overflow = overflow;
        this.reserve = capacity / 8;
    }

    /** Registers the buffer's levels: depth, peak, waiting batches and the bound. */
    public void bindTo(PipelineMetrics metrics) {
        metrics.level("bufferDepth", MeterNames.BUFFER_POINTS, "points in the ingest buffer", this::depth);
        metrics.level("bufferPeak", MeterNames.BUFFER_POINTS_PEAK, "highest ingest buffer depth", this::peak);
        metrics.level("bufferWaiting", MeterNames.BUFFER_WAITING, "batches waiting for buffer room (reads paused)",
                this::waiting);
        metrics.level("bufferCapacity", MeterNames.BUFFER_CAPACITY, "ingest buffer bound", this::capacity);
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

    /** Drop policy: the last points of room, kept for light batches of at most this size. */
    public long reserve() {
        return reserve;
    }

    /** The largest batch a session should cut: the whole buffer, under drop all of it but the reserve. */
    public long maxBatchPoints() {
        return overflow == Overflow.DROP ? capacity - reserve : capacity;
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
            if (!paused && waiters.isEmpty() && fits(n) && withinShare(batch, n)) {
                take(batch, n);
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

    /** Returns the room of an admitted {@code batch} and admits waiters that now fit. */
    public void release(Batch batch) {
        int points = batch.points().size();
        if (points == 0) {
            return;
        }
        synchronized (this) {
            depth -= points;
            if (overflow == Overflow.DROP) {
                held.computeIfPresent(batch.owner(), (o, h) -> h <= points ? null : h - points);
            }
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
                take(w.batch, w.points);
            }
            Waiter admitted = w;
            admitted.batch.markAdmitted();
            admitted.wakeOn.execute(() -> admitted.sink.success(admitted.batch));
        }
    }

    private boolean fits(int n) {
        return depth == 0 || depth + n <= capacity;
    }

    /** Drop policy: only a light batch (small, not bulk, its owner has nothing in flight) takes the reserve. */
    private boolean withinShare(Batch batch, int n) {
        return overflow != Overflow.DROP || depth == 0 || depth + n <= capacity - reserve
                || (n <= reserve && !batch.bulk() && !held.containsKey(batch.owner()));
    }

    private void take(Batch batch, int n) {
        depth += n;
        if (overflow == Overflow.DROP) {
            held.merge(batch.owner(), n, Integer::sum); // only the drop policy's reserve asks who holds what
        }
        if (depth > peak) {
            peak = depth;
        }
    }

    private record Waiter(Batch batch, int points, MonoSink<Batch> sink, Executor wakeOn) {
    }
}
