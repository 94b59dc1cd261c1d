package dev.meterline.aggregate;

import java.util.concurrent.atomic.AtomicLong;

/** The active-series budget shared by all shards: a series takes one unit while it has an open window. */
public final class SeriesBudget {

    private final long limit;
    private final AtomicLong active = new AtomicLong();
    private final AtomicLong refused = new AtomicLong();

    public SeriesBudget(long limit) {
        this.limit = limit;
    }

    /** Takes one unit for a new series; false (and counted) when the budget is spent. */
    boolean tryAcquire() {
        while (true) {
            long n = active.get();
            if (n >= limit) {
                refused.incrementAndGet();
                return false;
            }
            if (active.compareAndSet(n, n + 1)) {
                return true;
            }
        }
    }

    void release(int n) {
        active.addAndGet(-n);
    }

    public long active() {
        return active.get();
    }

    public long limit() {
        return limit;
    }

    /** Points refused because they would have created one series too many. */
    public long refused() {
        return refused.get();
    }
}
