package dev.meterline.aggregate;

import dev.meterline.model.Point;

import java.util.List;

/**
 * Where shards record what they did, before a batch is acknowledged: the points each shard aggregated and the
 * windows it closed, in that shard's order. The acknowledgement of a part travels through here: {@code done} runs
 * once the points are durable as the log's setting promises. Calls never block the shard.
 */
public interface Journal {

    /** No log: parts are acknowledged as soon as they are aggregated. */
    Journal NONE = new Journal() {
        @Override
        public long segment() {
            return 0;
        }

        @Override
        public void points(int shard, List<Point> points, int[] numbers, int[] renumbered, Runnable done) {
            done.run();
        }

        @Override
        public void closed(int shard, long seq, long cutoff, boolean all) {
        }
    };

    /** A lower bound of the log segment the next record lands in. */
    long segment();

    /**
     * Records the points {@code shard} aggregated, with their series' numbers in that shard ({@code numbers[i]} is
     * the number of {@code points.get(i)}'s series); {@code renumbered} are the numbers the shard gave to another
     * series since its last call, which the journal forgets before it records these points. {@code done} runs once
     * they are durable.
     */
    void points(int shard, List<Point> points, int[] numbers, int[] renumbered, Runnable done);

    /** Records that {@code shard} closed, as flush {@code seq}, its windows due at {@code cutoff} (all of them when {@code all}). */
    void closed(int shard, long seq, long cutoff, boolean all);
}
