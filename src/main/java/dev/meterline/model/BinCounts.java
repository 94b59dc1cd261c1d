package dev.meterline.model;

import com.datadoghq.sketch.ddsketch.mapping.IndexMapping;
import com.datadoghq.sketch.ddsketch.store.Store;

/**
 * The bins of one sign of a quantile sketch, the lowest collapsed exactly as DDSketch's
 * {@code CollapsingLowestDenseStore(MAX_BINS)} collapses them: sorted distinct bins while they are few
 * ({@link SortedBins}), an array of counts by bin index once they are many ({@link DenseBins}).
 *
 * <p>Such a store keeps at most {@link #MAX_BINS} bins anchored at its highest index: once the indexes it has seen span
 * {@code MAX_BINS} or more, every bin below {@code highest - (MAX_BINS - 1)} has moved into that bin. The outcome
 * depends only on the indexes seen, never on their order, so bins merged in batches, in any grouping and in either
 * form hold what the library's store would.
 *
 * <p>A form holds its bins in slots {@code 0 .. slots() - 1} of ascending bin index; a dense form's empty slots count
 * zero. Adding and merging return the bins that hold the result: this object, or a new one when the form changes.
 * The form only moves one way: sorted to dense when {@link #denseFits} says so, and either to the sorted wide form
 * when a sign's total passes what the form's counts hold. Not thread-safe.
 */
abstract sealed class BinCounts permits SortedBins, DenseBins {

    /** Bins kept per sign before the lowest ones collapse; the dense store's maximum. */
    static final int MAX_BINS = Aggregate.MAX_BINS;
    /** Fewest distinct bins kept dense, so that a window of a few dozen values stays in the sorted form. */
    static final int DENSE_MIN_BINS = 64;
    /** The largest total count of a sign kept dense: one {@code int} per bin. */
    static final long DENSE_MAX = Integer.MAX_VALUE;
    /**
     * Values of a sign from which its bins count as busy: a merge into the sorted form then costs a pass over every
     * bin per batch, so an array over a wider range ({@link #BUSY_SPREAD} cells per bin) is worth its memory.
     */
    static final long BUSY_TOTAL = 256;
    /** Cells per distinct bin that a busy sign's dense array may take. */
    static final int BUSY_SPREAD = 4;

    /** The number of distinct bins holding a value; kept up to date by the form. */
    int size;
    /** The sum of the counts; kept up to date by the form. */
    long total;

    BinCounts(int size, long total) {
        this.size = size;
        this.total = total;
    }

    /** The number of distinct bins holding a value. */
    final int size() {
        return size;
    }

    /** The sum of the counts. */
    final long total() {
        return total;
    }

    /** The lowest bin index holding a value. */
    abstract int lowest();

    /** The highest bin index holding a value. */
    abstract int highest();

    /** The number of slots; slot {@code slots() - 1} holds the highest bin. */
    abstract int slots();

    /** The bin index of a slot. */
    abstract int indexAt(int slot);

    /** The count of a slot, zero for a dense form's empty one. */
    abstract long countAt(int slot);

    /** A copy sized to its bins. */
    abstract BinCounts copy();

    /**
     * Adds one value to the bin of each index in {@code indexes[from..to)}, ascending bin indexes held exactly as
     * doubles (see {@link #toIndexes}), at most {@link SortedBins#NARROW_MAX} of them.
     */
    abstract BinCounts addIndexes(double[] indexes, int from, int to);

    /** Adds the bins of {@code other}, which is left as it was. */
    abstract BinCounts mergeWith(BinCounts other);

    /** The bins of a first batch of indexes, as {@link #addIndexes} takes them. */
    static BinCounts ofIndexes(double[] indexes, int from, int to) {
        return SortedBins.ofIndexes(indexes, from, to);
    }

    /** The bins of a library store, or null when it is empty; throws when a count is not a whole number. */
    static BinCounts of(Store store) {
        return SortedBins.of(store);
    }

    /**
     * Replaces {@code values[from..to)}, all of one sign and sorted ascending, by their bin indexes in ascending order
     * (so reversed when {@code negated}: the magnitudes of ascending negative values descend).
     */
    static void toIndexes(IndexMapping mapping, double[] values, int from, int to, boolean negated) {
        for (int k = from; k < to; k++) {
            values[k] = mapping.index(Math.abs(values[k]));
        }
        if (negated) {
            for (int i = from, j = to - 1; i < j; i++, j--) {
                double t = values[i];
                values[i] = values[j];
                values[j] = t;
            }
        }
    }

    /** The lowest bin kept when a store has seen indexes from {@code low} to {@code high}. */
    static int collapseFloor(int low, int high) {
        return (long) high - low >= MAX_BINS ? high - (MAX_BINS - 1) : low;
    }

    /**
     * Whether bins of this size, index range and total take the dense form: many bins (at least
     * {@link #DENSE_MIN_BINS}), an array over their range costing at most twice the sorted form's one {@code int} per
     * bin, or at most {@link #BUSY_SPREAD} times once the sign holds {@link #BUSY_TOTAL} values, and counts that fit
     * an {@code int}.
     */
    static boolean denseFits(int size, int lowest, int highest, long total) {
        long range = (long) highest - lowest + 1;
        return size >= DENSE_MIN_BINS && total <= DENSE_MAX
                && (range <= 2L * size || (total >= BUSY_TOTAL && range <= (long) BUSY_SPREAD * size));
    }
}
