package dev.meterline.aggregate;

import dev.meterline.model.Window;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Windows that left the shards and are not yet committed to storage, by flush sequence number. Owned and written by
 * {@link Aggregation} alone; everyone else reads it through {@link PendingWindows}.
 */
final class PendingFlushes implements PendingWindows {

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

    @Override
    public long departures() {
        return departures.get();
    }

    @Override
    public Map<Long, List<Window>> view() {
        return Map.copyOf(bySeq);
    }

    @Override
    public int windows() {
        int n = 0;
        for (List<Window> w : bySeq.values()) {
            n += w.size();
        }
        return n;
    }
}
