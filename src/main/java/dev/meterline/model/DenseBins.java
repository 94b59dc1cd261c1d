package dev.meterline.model;

import java.util.Arrays;

/**
 * Bins as an array of {@code int} counts indexed by bin index minus the lowest bin's, for a sign with many bins: a
 * value costs one increment instead of a share of a merge over every bin.
 *
 * <p>The array starts at the lowest bin and has room above the highest; a new lowest bin shifts the counts up, a new
 * highest past the room grows the array (never past {@code MAX_BINS}, the most a collapsed store spans). The sign's
 * total stays within {@link #DENSE_MAX}; past it the bins move to the sorted wide form.
 */
final class DenseBins extends BinCounts {

    private int lowest;
    private int highest;
    /** cells[i] counts the values of bin {@code lowest + i}; zero past {@code highest - lowest}. */
    private int[] cells;

    private DenseBins(int size, long total, int lowest, int highest, int[] cells) {
        super(size, total);
        this.lowest = lowest;
        this.highest = highest;
        this.cells = cells;
    }

    /** The bins of {@code bins}, which hold at most {@link #DENSE_MAX} values, in the dense form. */
    static DenseBins of(BinCounts bins) {
        int span = bins.highest() - bins.lowest() + 1;
        int[] cells = new int[capacity(span)];
        int lowest = bins.lowest();
        for (int s = 0; s < bins.slots(); s++) {
            cells[bins.indexAt(s) - lowest] += (int) bins.countAt(s);
        }
        return new DenseBins(bins.size(), bins.total(), lowest, bins.highest(), cells);
    }

    /** Room for {@code span} bins and a quarter more above them, within {@code MAX_BINS}. */
    private static int capacity(int span) {
        return Math.min(MAX_BINS, Math.max(span, span + (span >> 2)));
    }

    @Override
    int lowest() {
        return lowest;
    }

    @Override
    int highest() {
        return highest;
    }

    @Override
    int slots() {
        return highest - lowest + 1;
    }

    @Override
    int indexAt(int slot) {
        return lowest + slot;
    }

    @Override
    long countAt(int slot) {
        return cells[slot];
    }

    @Override
    DenseBins copy() {
        return new DenseBins(size, total, lowest, highest, Arrays.copyOf(cells, highest - lowest + 1));
    }

    @Override
    BinCounts addIndexes(double[] indexes, int from, int to) {
        return add(indexes, from, to, (int) indexes[from], (int) indexes[to - 1]);
    }

    /**
     * Adds one value to the bin of each index in {@code indexes[from..to)}, bin indexes held exactly as doubles in any
     * order, the least of them {@code low} and the greatest {@code high}.
     */
    BinCounts add(double[] indexes, int from, int to, int low, int high) {
        if (total + (to - from) > DENSE_MAX) {
            return SortedBins.wideOf(this).addIndexes(sorted(indexes, from, to), from, to);
        }
        int floor = reframe(low, high);
        int[] c = cells;
        int origin = lowest;
        int added = 0;
        for (int k = from; k < to; k++) {
            if (c[Math.max(floor, (int) indexes[k]) - origin]++ == 0) {
                added++;
            }
        }
        size += added;
        total += to - from;
        return this;
    }

    private static double[] sorted(double[] indexes, int from, int to) {
        Arrays.sort(indexes, from, to);
        return indexes;
    }

    @Override
    BinCounts mergeWith(BinCounts other) {
        if (total + other.total() > DENSE_MAX) {
            return SortedBins.wideOf(this).mergeWith(other);
        }
        int floor = reframe(other.lowest(), other.highest());
        int[] c = cells;
        int origin = lowest;
        int added = 0;
        for (int s = 0, n = other.slots(); s < n; s++) {
            long count = other.countAt(s);
            if (count != 0) {
                int slot = Math.max(floor, other.indexAt(s)) - origin;
                if (c[slot] == 0) {
                    added++;
                }
                c[slot] += (int) count;
            }
        }
        size += added;
        total += other.total();
        return this;
    }

    /**
     * Makes the cells cover the bins once indexes from {@code low} to {@code high} arrive, collapsing the lowest bins
     * as the dense store would; returns the lowest bin kept, where indexes below it count.
     */
    private int reframe(int low, int high) {
        int newHigh = Math.max(highest, high);
        int floor = collapseFloor(Math.min(lowest, low), newHigh);
        if (floor == lowest && newHigh == highest) {
            return floor;
        }
        int oldSpan = highest - lowest + 1;
        int newSpan = newHigh - floor + 1;
        if (floor == lowest) {
            if (newSpan > cells.length) {
                cells = Arrays.copyOf(cells, capacity(newSpan));
            }
            highest = newHigh;
            return floor;
        }
        // Bins below the floor fold into it; the rest move by the change of the lowest bin.
        int below = Math.min(Math.max(0, floor - lowest), oldSpan);
        long folded = 0;
        int foldedBins = 0;
        for (int i = 0; i < below; i++) {
            if (cells[i] != 0) {
                folded += cells[i];
                foldedBins++;
            }
        }
        int kept = oldSpan - below;
        int to = Math.max(0, lowest - floor);
        int[] target = newSpan <= cells.length ? cells : new int[capacity(newSpan)];
        System.arraycopy(cells, below, target, to, kept);
        if (target == cells) {
            Arrays.fill(target, 0, to, 0);
            Arrays.fill(target, to + kept, Math.max(oldSpan, newSpan), 0);
        }
        size -= foldedBins;
        if (folded != 0) {
            if (target[0] == 0) {
                size++;
            }
            target[0] += (int) folded;
        }
        cells = target;
        lowest = floor;
        highest = newHigh;
        return floor;
    }
}
