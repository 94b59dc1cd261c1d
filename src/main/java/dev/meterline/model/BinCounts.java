package dev.meterline.model;

import com.datadoghq.sketch.ddsketch.mapping.IndexMapping;
import com.datadoghq.sketch.ddsketch.store.Store;

import java.util.Arrays;

/**
 * The bins of one sign of a quantile sketch: its distinct bin indexes in ascending order with their counts, the
 * lowest bins collapsed exactly as DDSketch's {@code CollapsingLowestDenseStore(MAX_BINS)} collapses them.
 *
 * <p>Such a store keeps at most {@link #MAX_BINS} bins anchored at its highest index: once the indexes it has seen span
 * {@code MAX_BINS} or more, every bin below {@code highest - (MAX_BINS - 1)} has moved into that bin. The outcome
 * depends only on the indexes seen, never on their order, so bins merged in batches or in any grouping hold what the
 * library's store would.
 *
 * <p>While the sign's total count fits {@link #COUNT_BITS} bits, each bin is one {@code int}: its offset from the
 * lowest bin in the high bits (the span is below {@code MAX_BINS}, so 11 bits suffice) and its count in the low bits.
 * Past that the bins move to an {@code int} index and a {@code long} count each, exact up to {@code Long.MAX_VALUE}.
 * Not thread-safe.
 */
final class BinCounts {

    /** Bins kept per sign before the lowest ones collapse; the dense store's maximum. */
    static final int MAX_BINS = Aggregate.MAX_BINS;
    /** Bits of a narrow bin's count; the remaining high bits hold the bin's offset from the lowest bin. */
    static final int COUNT_BITS = 21;
    /** The largest total count of a sign kept in the narrow form. */
    static final long NARROW_MAX = (1L << COUNT_BITS) - 1;
    private static final int COUNT_MASK = (1 << COUNT_BITS) - 1;

    static {
        if (MAX_BINS - 1 > -1 >>> COUNT_BITS) {
            throw new IllegalStateException("MAX_BINS " + MAX_BINS + " does not fit beside " + COUNT_BITS
                    + " count bits");
        }
    }

    private int size;
    private long total;
    /** The lowest bin's index; a narrow bin's offset counts from it. */
    private int base;
    /** Narrow form: (index - base) << COUNT_BITS | count, ascending; null in the wide form. */
    private int[] packed;
    /** Wide form: indexes ascending and their counts; null in the narrow form. */
    private int[] indexes;
    private long[] counts;

    private BinCounts(int size, long total, int base, int[] packed, int[] indexes, long[] counts) {
        this.size = size;
        this.total = total;
        this.base = base;
        this.packed = packed;
        this.indexes = indexes;
        this.counts = counts;
    }

    /**
     * The bins of {@code values[from..to)}, all of one sign and sorted so that their magnitudes ascend (reversed when
     * {@code negated}: the magnitudes of ascending negative values descend); at most {@link #NARROW_MAX} of them.
     */
    static BinCounts ofSorted(IndexMapping mapping, double[] values, int from, int to, boolean negated) {
        int n = to - from;
        int low = mapping.index(Math.abs(values[negated ? to - 1 : from]));
        int high = mapping.index(Math.abs(values[negated ? from : to - 1]));
        int floor = collapseFloor(low, high);
        int[] packed = new int[n];
        int size = 0;
        int previous = Integer.MIN_VALUE;
        for (int k = 0; k < n; k++) {
            double v = values[negated ? to - 1 - k : from + k];
            int index = Math.max(floor, mapping.index(Math.abs(v)));
            if (index == previous) {
                packed[size - 1]++;
            } else {
                packed[size++] = (index - floor) << COUNT_BITS | 1;
                previous = index;
            }
        }
        return new BinCounts(size, n, floor, packed, null, null);
    }

    /** The bins of a library store, or null when it is empty; throws when a count is not a whole number. */
    static BinCounts of(Store store) {
        if (store.isEmpty()) {
            return null;
        }
        int[] found = new int[1];
        store.forEach((index, count) -> found[0]++);
        int[] ids = new int[found[0]];
        long[] cs = new long[found[0]];
        int[] n = new int[1];
        store.forEach((index, count) -> {
            if (count != Math.rint(count) || count < 0 || count >= 0x1p63) {
                throw new IllegalArgumentException("bin " + index + " has count " + count
                        + " (expected: a whole number of values)");
            }
            ids[n[0]] = index;
            cs[n[0]++] = (long) count;
        });
        BinCounts built = new BinCounts(0, 0, 0, new int[0], null, null);
        built.mergeWith(new BinCounts(n[0], sum(cs, n[0]), n[0] == 0 ? 0 : ids[0], null, ids, cs));
        return built.size == 0 ? null : built;
    }

    private static long sum(long[] values, int n) {
        long s = 0;
        for (int i = 0; i < n; i++) {
            s += values[i];
        }
        return s;
    }

    /** The lowest bin kept when a store has seen indexes from {@code low} to {@code high}. */
    private static int collapseFloor(int low, int high) {
        return (long) high - low >= MAX_BINS ? high - (MAX_BINS - 1) : low;
    }

    int size() {
        return size;
    }

    /** The sum of the counts. */
    long total() {
        return total;
    }

    int indexAt(int i) {
        return packed != null ? base + (packed[i] >>> COUNT_BITS) : indexes[i];
    }

    long countAt(int i) {
        return packed != null ? packed[i] & COUNT_MASK : counts[i];
    }

    /** A copy sized to its bins. */
    BinCounts copy() {
        return packed != null
                ? new BinCounts(size, total, base, Arrays.copyOf(packed, size), null, null)
                : new BinCounts(size, total, base, null, Arrays.copyOf(indexes, size),
                        Arrays.copyOf(counts, size));
    }

    /**
     * Adds the bins of {@code other} in one pass over both, collapsing the lowest as the dense store would. The result
     * is written backwards into this one's array when it has room and nothing collapses, else into a new one.
     */
    void mergeWith(BinCounts other) {
        if (other.size == 0) {
            return;
        }
        int low = size == 0 ? other.indexAt(0) : Math.min(indexAt(0), other.indexAt(0));
        int high = size == 0 ? other.indexAt(other.size - 1) : Math.max(indexAt(size - 1), other.indexAt(other.size - 1));
        int floor = collapseFloor(low, high);
        long newTotal = total + other.total;
        boolean narrow = newTotal <= NARROW_MAX;
        int merged = mergedSize(other, floor);
        boolean inPlace = floor == low && narrow == (packed != null) && size > 0
                && (narrow ? packed.length : indexes.length) >= merged;
        int[] toPacked = null;
        int[] toIndexes = null;
        long[] toCounts = null;
        if (inPlace) {
            toPacked = packed;
            toIndexes = indexes;
            toCounts = counts;
        } else {
            int capacity = merged + (merged >> 2) + 2;
            if (narrow) {
                toPacked = new int[capacity];
            } else {
                toIndexes = new int[capacity];
                toCounts = new long[capacity];
            }
        }
        int i = size - 1;
        int j = other.size - 1;
        int k = merged;
        int written = Integer.MIN_VALUE;
        while (i >= 0 || j >= 0) {
            int a = i >= 0 ? Math.max(floor, indexAt(i)) : Integer.MIN_VALUE;
            int b = j >= 0 ? Math.max(floor, other.indexAt(j)) : Integer.MIN_VALUE;
            int index;
            long count;
            if (a >= b) {
                index = a;
                count = countAt(i--);
                if (a == b) {
                    count += other.countAt(j--);
                }
            } else {
                index = b;
                count = other.countAt(j--);
            }
            if (index == written) {
                // Bins folded into the lowest kept one: only when collapsing, never in place.
                if (narrow) {
                    toPacked[k] += (int) count;
                } else {
                    toCounts[k] += count;
                }
            } else {
                k--;
                written = index;
                if (narrow) {
                    toPacked[k] = (index - floor) << COUNT_BITS | (int) count;
                } else {
                    toIndexes[k] = index;
                    toCounts[k] = count;
                }
            }
        }
        size = merged;
        total = newTotal;
        base = floor;
        packed = toPacked;
        indexes = toIndexes;
        counts = toCounts;
    }

    /** How many bins this and {@code other} make together once the bins below {@code floor} are folded into it. */
    private int mergedSize(BinCounts other, int floor) {
        int i = 0;
        int j = 0;
        int n = 0;
        int previous = Integer.MIN_VALUE;
        while (i < size || j < other.size) {
            int a = i < size ? Math.max(floor, indexAt(i)) : Integer.MAX_VALUE;
            int b = j < other.size ? Math.max(floor, other.indexAt(j)) : Integer.MAX_VALUE;
            int index = Math.min(a, b);
            if (a == index) {
                i++;
            }
            if (b == index) {
                j++;
            }
            if (index != previous) {
                n++;
                previous = index;
            }
        }
        return n;
    }
}
