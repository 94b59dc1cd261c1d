package dev.meterline.wal;

import dev.meterline.model.SeriesKey;

/**
 * Receives the log's records in the order they were written, when the log is read at start. Each shard's records
 * come in the order that shard wrote them, so feeding them to the same shards rebuilds what they held.
 */
public interface Replay {

    /** From a segment's header: shard {@code shard} had closed every window due at {@code cutoff}. */
    void closedThrough(int shard, long cutoff);

    /** One acknowledged point, aggregated by {@code shard}, read from segment {@code segment}. */
    void point(int shard, SeriesKey series, long timestamp, double value, long segment);

    /**
     * Shard {@code shard} closed the windows due at {@code cutoff} as flush {@code seq}; when {@code all}, it closed
     * every window at shutdown, {@code cutoff} being the time then.
     */
    void closed(int shard, long seq, long cutoff, boolean all);
}
