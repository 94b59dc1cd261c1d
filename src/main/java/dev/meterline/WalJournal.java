package dev.meterline;

import dev.meterline.aggregate.Journal;
import dev.meterline.model.Point;
import dev.meterline.wal.Wal;

import java.util.List;

/** The shards' journal written to the write-ahead log. */
final class WalJournal implements Journal {

    private final Wal wal;

    WalJournal(Wal wal) {
        this.wal = wal;
    }

    @Override
    public long segment() {
        return wal.segment();
    }

    @Override
    public void points(int shard, List<Point> points, int[] numbers, int[] renumbered, Runnable done) {
        wal.points(shard, points, numbers, renumbered, done);
    }

    @Override
    public void closed(int shard, long seq, long cutoff, boolean all) {
        wal.closed(shard, seq, cutoff, all);
    }
}
