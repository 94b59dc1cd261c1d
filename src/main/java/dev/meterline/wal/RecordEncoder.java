package dev.meterline.wal;

import dev.meterline.model.Point;

import java.util.Arrays;
import java.util.List;

/**
 * Encodes the log's records into one buffer: a series record the first time a segment sees a series, then samples
 * by its reference; each segment's header carries every shard's latest cutoff. A series is known by its number in
 * its shard, so its reference is found by an array index and no key is held past its part.
 */
final class RecordEncoder {

    private static final int INITIAL_NUMBERS = 1024;

    private final WalFormat.Out out = new WalFormat.Out();
    private final long[] cutoffs;
    /**
     * Per shard, per series number: the segment stamp in the high half and the series' reference in that segment in
     * the low half. A stamp other than the current segment's means no reference yet, so a roll forgets every
     * reference without clearing.
     */
    private final long[][] refs;
    /** The current segment's stamp, from 1 (a zeroed slot is no reference). */
    private int stamp;
    /** The next reference the current segment hands out. */
    private int nextRef;
    /** The series references of the part being encoded, reused from part to part. */
    private int[] ids = new int[1024];

    RecordEncoder(int shards) {
        this.cutoffs = new long[shards];
        Arrays.fill(cutoffs, Long.MIN_VALUE);
        this.refs = new long[shards][INITIAL_NUMBERS];
    }

    /** The encoded records not yet written. */
    WalFormat.Out out() {
        return out;
    }

    /** The bytes of a segment's header, the whole of a segment nothing was appended to. */
    long headerBytes() {
        return WalFormat.FRAME + 8 + 1 + 2 + 8 + 8L * cutoffs.length;
    }

    /** Distinct series given a reference in the current segment. */
    int references() {
        return nextRef;
    }

    /** Starts segment {@code segment}: its header, and series references numbered afresh. */
    void header(long segment) {
        stamp++;
        if (stamp == 0) {
            // Four billion segments on: old stamps could match again.
            for (long[] r : refs) {
                Arrays.fill(r, 0);
            }
            stamp = 1;
        }
        nextRef = 0;
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

    /**
     * Encodes the points {@code shard} aggregated: {@code numbers[i]} is the number of {@code points.get(i)}'s series
     * in that shard, and {@code renumbered} the numbers the shard gave to other series since its last points, whose
     * references are forgotten first.
     */
    void points(int shard, List<Point> points, int[] numbers, int[] renumbered) {
        long[] slots = refs[shard];
        for (int number : renumbered) {
            if (number < slots.length) {
                slots[number] = 0;
            }
        }
        if (points.isEmpty()) {
            return;
        }
        int n = points.size();
        if (ids.length < n) {
            ids = new int[Math.max(n, 2 * ids.length)];
        }
        int[] ids = this.ids;
        long current = (long) stamp << 32;
        for (int i = 0; i < n; i++) {
            int number = numbers[i];
            if (number >= slots.length) {
                slots = grow(shard, number);
            }
            long slot = slots[number];
            if ((slot & 0xFFFF_FFFF_0000_0000L) == current) {
                ids[i] = (int) slot;
            } else {
                int ref = nextRef++;
                slots[number] = current | ref;
                out.series(ref, points.get(i).series());
                ids[i] = ref;
            }
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

    /** Makes room for series number {@code number} of {@code shard}. */
    private long[] grow(int shard, int number) {
        long[] slots = Arrays.copyOf(refs[shard], Math.max(number + 1, 2 * refs[shard].length));
        refs[shard] = slots;
        return slots;
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
