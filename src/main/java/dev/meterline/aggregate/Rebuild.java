package dev.meterline.aggregate;

import dev.meterline.model.SeriesKey;
import dev.meterline.model.Window;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Rebuilds the shards from the write-ahead log before the data path starts: points aggregate again, closes close the
 * same windows again under the same numbers, and the flushes the store does not hold yet are kept to become pending.
 * Shards may replay side by side, each on one thread.
 */
final class Rebuild {

    private final Shard[] shards;
    private final AtomicLong openWindows;
    /** Flushes numbered up to this one are in the store already. */
    private final long committedSeq;
    /** Flushes rebuilt from the log that the store does not hold yet, by number: each shard's windows of it. */
    private final Map<Long, List<List<Window>>> flushes = new HashMap<>();
    private long maxSeq;

    Rebuild(Shard[] shards, AtomicLong openWindows, long committedSeq) {
        this.shards = shards;
        this.openWindows = openWindows;
        this.committedSeq = committedSeq;
        this.maxSeq = committedSeq;
    }

    void closedThrough(int shard, long cutoff) {
        shards[shard].closedThrough(cutoff);
    }

    void point(int shard, SeriesKey series, long timestamp, double value, long segment) {
        Shard s = shards[shard];
        int before = s.openWindows();
        s.replay(series, timestamp, value, segment);
        openWindows.addAndGet(s.openWindows() - before);
    }

    void closed(int shard, long seq, long cutoff, boolean all) {
        Shard s = shards[shard];
        int before = s.openWindows();
        List<Window> windows = all ? s.closeAll(cutoff, seq) : s.close(cutoff, seq);
        openWindows.addAndGet(s.openWindows() - before);
        synchronized (flushes) {
            maxSeq = Math.max(maxSeq, seq);
            if (seq > committedSeq && !windows.isEmpty()) {
                flushes.computeIfAbsent(seq, k -> new ArrayList<>()).add(windows);
            }
        }
    }

    /** Hands the flushes still to be written to {@code pending}; returns the highest flush number the log held. */
    long done(PendingFlushes pending) {
        synchronized (flushes) {
            flushes.forEach((seq, shardWindows) -> pending.register(seq, JoinedWindows.of(shardWindows)));
            flushes.clear();
            return maxSeq;
        }
    }
}
