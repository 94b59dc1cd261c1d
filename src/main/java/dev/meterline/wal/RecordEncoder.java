package dev.meterline.wal;

import dev.meterline.model.Point;
import dev.meterline.model.SeriesKey;

import java.util.Arrays;
import java.util.List;

/**
 * Encodes the log's records into one buffer: a series record the first time a segment sees a series, then samples
 * by its reference; each segment's header carries every shard's latest cutoff.
 */
final class RecordEncoder {

    private final WalFormat.Out out = new WalFormat.Out();
    private final SeriesRefs refs = new SeriesRefs();
    private final long[] cutoffs;
    /** The series references of the part being encoded, reused from part to part. */
    private int[] ids = new int[1024];

    RecordEncoder(int shards) {
        this.cutoffs = new long[shards];
        Arrays.fill(cutoffs, Long.MIN_VALUE);
    }

    /** The encoded records not yet written. */
    WalFormat.Out out() {
        return out;
    }

    /** The bytes of a segment's header, the whole of a segment nothing was appended to. */
    long headerBytes() {
        return WalFormat.FRAME + 8 + 1 + 2 + 8 + 8L * cutoffs.length;
    }

    /** Starts segment {@code segment}: its header, and series references numbered afresh. */
    void header(long segment) {
        refs.clear();
        out.begin(WalFormat.HEADER);
        out.fixed64(WalFormat.MAGIC);
        out.varint(WalFormat.VERSION);
        out.varint(cutoffs.length);
        out.fixed64(segment);
        for (long c : cutoffs) {
            out.fixed64(c);
        }
        out.end();
    }

    void points(int shard, List<Point> points) {
        if (points.isEmpty()) {
            return;
        }
        int n = points.size();
        if (ids.length < n) {
            ids = new int[Math.max(n, 2 * ids.length)];
        }
        int[] ids = this.ids;
        refs.findAtHome(points, ids);
        for (int i = 0; i < n; i++) {
            if (ids[i] >= 0) {
                continue;
            }
            // The point's copy of the hash: a probe that meets this very instance reads nothing of the key.
            Point p = points.get(i);
            SeriesKey key = p.series();
            int ref = refs.find(key, p.seriesHash());
            if (ref < 0) {
                ref = refs.add(key);
                out.series(ref, key);
            }
            ids[i] = ref;
        }
        out.begin(WalFormat.SAMPLES);
        out.varint(shard);
        out.varint(n);
        long ts = points.get(0).timestamp();
        out.fixed64(ts);
        for (int i = 0; i < n; i++) {
            Point pt = points.get(i);
            long t = pt.timestamp();
            out.sample(ids[i], t - ts, Double.doubleToRawLongBits(pt.value()));
            ts = t;
        }
        out.end();
    }

    void closed(int shard, long seq, long cutoff, boolean all) {
        out.begin(all ? WalFormat.CLOSE_ALL : WalFormat.CLOSE);
        out.varint(shard);
        out.varint(seq);
        out.fixed64(cutoff);
        out.end();
        if (!all) {
            cutoffs[shard] = Math.max(cutoffs[shard], cutoff);
        }
    }
}
