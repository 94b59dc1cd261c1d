package dev.meterline.model;

import com.datadoghq.sketch.ddsketch.store.Store;

import java.util.Arrays;

/**
 * Bins as their distinct indexes in ascending order with their counts, for a sign with few bins or a huge total.
 *
 * <p>While the sign's total count fits {@link #COUNT_BITS} bits, each bin is one {@code int}: its offset from the
 * lowest bin in the high bits (the span is below {@code MAX_BINS}, so 11 bits suffice) and its count in the low bits.
 * Past that the bins move to an {@code int} index and a {@code long} count each, exact up to {@code Long.MAX_VALUE}.
 * New values and other bins merge in one pass over both, written backwards in place when there is room.
 */
final class SortedBins extends BinCounts {

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

    /** The lowest bin's index; a narrow bin's offset counts from it. */
    private int base;
    /** Narrow form: (index - base) << COUNT_BITS | count, ascending; null in the wide form. */
    private int[] packed;
    /** Wide form: indexes ascending and their counts; null in the narrow form. */
    private int[] indexes;
    private long[] counts;

    private SortedBins(int size, long total, int base, int[] packed, int[] indexes, long[] counts) {
        super(size, total);
        this.base = base;
        this.packed = packed;
        this.indexes = indexes;
        this.counts = counts;
    }

    /** The bins of a first batch of ascending indexes held as doubles, in the narrow form. */
    static SortedBins ofIndexes(double[] batch, int from, int to) {
        int n = to - from;
        int floor = collapseFloor((int) batch[from], (int) batch[to - 1]);
        int[] packed = new int[n];
        int size = 0;
        int previous = Integer.MIN_VALUE;
        for (int k = from; k < to; k++) {
            int index = Math.max(floor, (int) batch[k]);
            if (index == previous) {
                packed[size - 1]++;
            } else {
                packed[size++] = (index - floor) << COUNT_BITS | 1;
                previous = index;
            }
        }
        return new SortedBins(size, n, floor, packed, null, null);
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
        SortedBins built = new SortedBins(0, 0, 0, new int[0], null, null);
        BinCounts merged = built.merge(new SortedBins(n[0], sum(cs, n[0]), n[0] == 0 ? 0 : ids[0], null, ids, cs),
                null, 0, 0);
        return merged.size() == 0 ? null : merged;
    }

    /**
     * The bins of {@code n} distinct ascending indexes and their counts, spanning fewer than {@code MAX_BINS} and
     * totalling at most {@link #NARROW_MAX}, in the form {@link #of} gives the same bins; the arrays are not kept.
     */
    static BinCounts ofAscending(int[] indexes, long[] counts, int n, long total) {
        int base = indexes[0];
        int[] packed = new int[n];
        for (int i = 0; i < n; i++) {
            packed[i] = (indexes[i] - base) << COUNT_BITS | (int) counts[i];
        }
        SortedBins bins = new SortedBins(n, total, base, packed, null, null);
        return denseFits(n, base, indexes[n - 1], total) ? DenseBins.of(bins) : bins;
    }

    /** The bins of any form in the wide form, as the sorted form holds a total too large for the others. */
    static SortedBins wideOf(BinCounts bins) {
        int[] ids = new int[bins.size()];
        long[] cs = new long[bins.size()];
        int n = 0;
        for (int s = 0; s < bins.slots(); s++) {
            long c = bins.countAt(s);
            if (c != 0) {
                ids[n] = bins.indexAt(s);
                cs[n++] = c;
            }
        }
        return new SortedBins(n, bins.total(), bins.lowest(), null, ids, cs);
    }

    private static long sum(long[] values, int n) {
        long s = 0;
        for (int i = 0; i < n; i++) {
            s += values[i];
        }
        return s;
    }

    @Override
    int lowest() {
        return indexAt(0);
    }

    @Override
    int highest() {
        return indexAt(size - 1);
    }

    @Override
    int slots() {
        return size;
    }

    @Override
    int indexAt(int i) {
        return packed != null ? base + (packed[i] >>> COUNT_BITS) : indexes[i];
    }

    @Override
    long countAt(int i) {
        return packed != null ? packed[i] & COUNT_MASK : counts[i];
    }

    /** Whether the bins are one {@code int} each. */
    boolean narrow() {
        return packed != null;
    }

    @Override
    SortedBins copy() {
        return packed != null
                ? new SortedBins(size, total, base, Arrays.copyOf(packed, size), null, null)
                : new SortedBins(size, total, base, null, Arrays.copyOf(indexes, size),
                        Arrays.copyOf(counts, size));
    }

    @Override
    BinCounts addIndexes(double[] batch, int from, int to) {
        if (to > from && packed != null && size > 0 && total + (to - from) <= NARROW_MAX) {
            int low = Math.min(indexAt(0), (int) batch[from]);
            int high = Math.max(indexAt(size - 1), (int) batch[to - 1]);
            if ((long) high - low < MAX_BINS) {
                return addNarrow(batch, from, to, low);
            }
        }
        return merge(null, batch, from, to);
    }

    /** {@link #addIndexes} through the general merge, whatever the form; for tests that hold the two alike. */
    BinCounts addIndexesByMerge(double[] batch, int from, int to) {
        return merge(null, batch, from, to);
    }

    /**
     * {@link #addIndexes} for the usual case: narrow bins that stay narrow and a batch that collapses nothing, lowest
     * index {@code low} of both. Works on the packed words alone: an existing bin moves to the new lowest bin by one
     * addition, a batch's run of equal indexes adds its length to a count. The same bins as the general merge.
     */
    private BinCounts addNarrow(double[] batch, int from, int to, int low) {
        int[] source = packed;
        int n = size;
        int shift = base - low;
        int merged = n;
        for (int i = 0, j = from, previous = -1; j < to; j++) {
            int b = (int) batch[j] - low;
            if (b == previous) {
                continue;
            }
            previous = b;
            while (i < n && (source[i] >>> COUNT_BITS) + shift < b) {
                i++;
            }
            if (i == n || (source[i] >>> COUNT_BITS) + shift != b) {
                merged++;
            }
        }
        int[] target = source.length >= merged ? source : new int[merged + (merged >> 2) + 2];
        int lift = shift << COUNT_BITS;
        int i = n - 1;
        int k = merged;
        for (int j = to - 1; j >= from; ) {
            int index = (int) batch[j--];
            int run = 1;
            while (j >= from && (int) batch[j] == index) {
                run++;
                j--;
            }
            int b = index - low;
            while (i >= 0 && (source[i] >>> COUNT_BITS) + shift > b) {
                target[--k] = source[i--] + lift;
            }
            if (i >= 0 && (source[i] >>> COUNT_BITS) + shift == b) {
                target[--k] = source[i--] + lift + run;
            } else {
                target[--k] = b << COUNT_BITS | run;
            }
        }
        if (target != source || lift != 0) {
            while (i >= 0) {
                target[--k] = source[i--] + lift;
            }
        }
        size = merged;
        total += to - from;
        base = low;
        packed = target;
        return denseFits(size, low, indexAt(size - 1), total) ? DenseBins.of(this) : this;
    }

    @Override
    BinCounts mergeWith(BinCounts other) {
        if (other instanceof SortedBins sorted) {
            if (packed != null && sorted.packed != null && size > 0 && sorted.size > 0
                    && total + sorted.total <= NARROW_MAX) {
                int low = Math.min(indexAt(0), sorted.indexAt(0));
                int high = Math.max(indexAt(size - 1), sorted.indexAt(sorted.size - 1));
                if ((long) high - low < MAX_BINS) {
                    return mergeNarrow(sorted, low, high);
                }
            }
            return merge(sorted, null, 0, 0);
        }
        if (total + other.total() <= DENSE_MAX) {
            return other.copy().mergeWith(this);
        }
        return merge(wideOf(other), null, 0, 0);
    }

    /** {@link #mergeWith} through the general merge, whatever the forms; for tests that hold the two alike. */
    BinCounts mergeWithByMerge(SortedBins other) {
        return merge(other, null, 0, 0);
    }

    /**
     * {@link #mergeWith} for the usual case of a rollup: narrow bins on both sides that stay narrow and collapse
     * nothing, {@code low} to {@code high} the indexes of both. One pass over the packed words into a new array,
     * each side's offsets moved to the new lowest bin by one addition; the same bins as the general merge.
     */
    private BinCounts mergeNarrow(SortedBins other, int low, int high) {
        int[] a = packed;
        int[] b = other.packed;
        int n = size;
        int m = other.size;
        int liftA = (base - low) << COUNT_BITS;
        int liftB = (other.base - low) << COUNT_BITS;
        int[] out = new int[n + m + ((n + m) >> 2) + 2];
        int i = 0;
        int j = 0;
        int k = 0;
        while (i < n && j < m) {
            int x = a[i] + liftA;
            int y = b[j] + liftB;
            int dx = x >>> COUNT_BITS;
            int dy = y >>> COUNT_BITS;
            if (dx < dy) {
                out[k++] = x;
                i++;
            } else if (dx > dy) {
                out[k++] = y;
                j++;
            } else {
                out[k++] = x + (y & COUNT_MASK);
                i++;
                j++;
            }
        }
        while (i < n) {
            out[k++] = a[i++] + liftA;
        }
        while (j < m) {
            out[k++] = b[j++] + liftB;
        }
        size = k;
        total += other.total;
        base = low;
        packed = out;
        return denseFits(size, low, high, total) ? DenseBins.of(this) : this;
    }

    private static int sourceIndex(SortedBins other, double[] batch, int j) {
        return other != null ? other.indexAt(j) : (int) batch[j];
    }

    private static long sourceCount(SortedBins other, int j) {
        return other != null ? other.countAt(j) : 1;
    }

    /**
     * Adds a sorted source, {@code other}'s bins or else one value at each index of {@code batch[from..to)}, in one
     * pass over both, collapsing the lowest as the dense store would. The result is written backwards into this one's
     * array when it has room and nothing collapses, else into a new one; it moves to the dense form when that fits.
     */
    private BinCounts merge(SortedBins other, double[] batch, int from, int to) {
        int first = other != null ? 0 : from;
        int end = other != null ? other.size : to;
        if (end == first) {
            return this;
        }
        long otherTotal = other != null ? other.total : to - from;
        int otherLow = sourceIndex(other, batch, first);
        int otherHigh = sourceIndex(other, batch, end - 1);
        int low = size == 0 ? otherLow : Math.min(indexAt(0), otherLow);
        int high = size == 0 ? otherHigh : Math.max(indexAt(size - 1), otherHigh);
        int floor = collapseFloor(low, high);
        long newTotal = total + otherTotal;
        boolean narrow = newTotal <= NARROW_MAX;
        int merged = mergedSize(other, batch, first, end, floor);
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
        int j = end - 1;
        int k = merged;
        int written = Integer.MIN_VALUE;
        while (i >= 0 || j >= first) {
            int a = i >= 0 ? Math.max(floor, indexAt(i)) : Integer.MIN_VALUE;
            int b = j >= first ? Math.max(floor, sourceIndex(other, batch, j)) : Integer.MIN_VALUE;
            int index;
            long count;
            if (a >= b) {
                index = a;
                count = countAt(i--);
            } else {
                index = b;
                count = sourceCount(other, j--);
            }
            if (index == written) {
                // A bin met again: from the other side, a batch's run, or folded into the lowest kept one.
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
        return denseFits(size, indexAt(0), indexAt(size - 1), total) ? DenseBins.of(this) : this;
    }

    /** How many bins this and a sorted source make together once the bins below {@code floor} are folded into it. */
    private int mergedSize(SortedBins other, double[] batch, int first, int end, int floor) {
        int i = 0;
        int j = first;
        int n = 0;
        int previous = Integer.MIN_VALUE;
        while (i < size || j < end) {
            int a = i < size ? Math.max(floor, indexAt(i)) : Integer.MAX_VALUE;
            int b = j < end ? Math.max(floor, sourceIndex(other, batch, j)) : Integer.MAX_VALUE;
            int index = Math.min(a, b);
            if (a == index) {
                i++;
            } else {
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
