package dev.meterline.aggregate;

import dev.meterline.model.Window;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;

/**
 * Windows that left the shards and are not yet committed to storage, by flush sequence number; queries read them so
 * that a window is visible in exactly one place at any time (memory, pending, or the store).
 */
public final class PendingFlushes {

    private final ConcurrentSkipListMap<Long, List<Window>> bySeq = new ConcurrentSkipListMap<>();

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
        bySeq.remove(seq);
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
