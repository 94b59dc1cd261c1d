package dev.meterline.aggregate;

import dev.meterline.model.Window;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Windows that left the shards and are not yet committed to storage, by flush sequence number; queries read them so
 * that a window is visible in exactly one place at any time (memory, pending, or the store).
 */
public final class PendingFlushes {

    private final ConcurrentSkipListMap<Long, List<Window>> bySeq = new ConcurrentSkipListMap<>();
    /** Flushes that have left so far; counted before they leave, see {@link #departures()}. */
    private final AtomicLong departures = new AtomicLong();

    void register(long seq, List<Window> windows) {
        if (!windows.isEmpty()) {
            bySeq.put(seq, windows);
        }
    }

    /** Registers windows that carry their own flush numbers (the final flush), grouped by number. */
    void registerAll(List<Window> windows) {
        Map<Long, List<Window>> bySeqOfWindow = new HashMap<>();
        for (Window w : windows) {
            bySeqOfWindow.computeIfAbsent(w.flushSeq(), s -> new ArrayList<>()).add(w);
        }
        bySeq.putAll(bySeqOfWindow);
    }

    void remove(long seq) {
        // Counted first: whoever no longer finds the flush here also sees the count it raised.
        departures.incrementAndGet();
        bySeq.remove(seq);
    }

    /**
     * How many flushes have left pending so far (stored, or moved to the spool). A query that read the store while
     * this count stayed the same knows that no flush moved from pending to the store under its read.
     */
    public long departures() {
        return departures.get();
    }

    /** A point-in-time view of the pending flushes. */
    public Map<Long, List<Window>> view() {
        return Map.copyOf(bySeq);
    }

    /** Windows waiting to be stored. */
    public int windows() {
        int n = 0;
        for (List<Window> w : bySeq.values()) {
            n += w.size();
        }
        return n;
    }
}
