package dev.meterline.wal;

import dev.meterline.model.Point;

import java.util.List;

/** A request to the log's writer thread; the writer takes them in the order they were queued. */
sealed interface WalEntry permits WalEntry.Points, WalEntry.Closed, WalEntry.Task {

    /**
     * Points shard {@code shard} aggregated, their series' numbers there, and the numbers given to other series since
     * the shard's last points; {@code done} runs once they are written.
     */
    record Points(int shard, List<Point> points, int[] numbers, int[] renumbered, Runnable done) implements WalEntry {
    }

    /** Shard {@code shard} closed, as flush {@code seq}, the windows due at {@code cutoff} ({@code all}: every one). */
    record Closed(int shard, long seq, long cutoff, boolean all) implements WalEntry {
    }

    /** Work for the writer thread between writes: runs after everything queued before it is written. */
    record Task(boolean sync, Runnable work) implements WalEntry {
    }
}
