package dev.meterline.model;

import com.datadoghq.sketch.ddsketch.mapping.IndexMapping;
import com.datadoghq.sketch.ddsketch.mapping.LogarithmicMapping;

import java.util.Arrays;
import java.util.NoSuchElementException;

/**
 * The mergeable summary of one series in one window: exact count, sum, min, max and last, event-time bounds, late
 * points, and quantiles from the bins of a DDSketch with {@link #RELATIVE_ACCURACY} relative accuracy.
 *
 * <p>The bins are those a {@code DDSketch} over {@code CollapsingLowestDenseStore(MAX_BINS)} would hold for the same
 * values, kept compactly as {@link BinCounts} per sign (sorted distinct indexes with their counts while a sign has
 * few bins, an array of counts once it has many) plus the zero count, and every answer (quantiles, the encoding) is
 * the one that sketch gives. A window's first {@link #IMPLICIT_MAX} values wait in no array at all: while there are no
 * bins, two of them are its min and its max (one value: its min), which the window keeps anyway, and the others wait
 * in two fields, so that a series' window of a few points is one object. Further values wait in a small array (up
 * to {@link #SPARSE_MAX}; a quiet series' open window costs tens of bytes) and move into the bins a batch at a time:
 * mapped to bin indexes, then merged with sorted bins in one pass (which touches them once per batch instead of once
 * per value) or counted into dense ones. A sketch's bins do not depend on the order of its values, so the batches
 * change nothing.
 *
 * <p>Not thread-safe: an aggregate is owned by one shard at a time and copied when it leaves. A subclass may carry
 * a window together with what its holder keeps beside it (the shard's state of a series is the aggregate of its
 * newest window, one object where there would be two; an older window carries its start and the next older one); it
 * adds fields, never behaviour, as every method here is final.
 */
public class Aggregate {

    /** Quantiles are within this relative error of an exact quantile of the same values. */
    public static final double RELATIVE_ACCURACY = 0.01;
    /**
     * Bins per sign; past this the lowest bins collapse, which only ever touches quantiles below
     * {@code max / (1.0202^MAX_BINS)}, far below anything a percentile of interest reaches.
     */
    public static final int MAX_BINS = 2048;

    /** Most values waiting beside the bins before they move into them. */
    static final int SPARSE_MAX = 16;
    /** Most values waiting in fields (min, max, {@code third}, {@code fourth}) before they move into an array. */
    static final int IMPLICIT_MAX = 4;

    private static final IndexMapping MAPPING = new LogarithmicMapping(RELATIVE_ACCURACY);
    /** As DDSketch sorts a value: above this magnitude into a sign's bins, else into the zero count. */
    private static final double MIN_INDEXED = Math.max(0, MAPPING.minIndexableValue());
    /** Magnitudes above this are out of the mapping's range, refused as DDSketch refuses them. */
    private static final double MAX_INDEXED = MAPPING.maxIndexableValue();
    private static final SketchCodec CODEC = new SketchCodec(MAPPING);

    private long count;
    private double sum;
    private double min = Double.POSITIVE_INFINITY;
    private double max = Double.NEGATIVE_INFINITY;
    private double last = Double.NaN;
    private long firstTimestamp = Long.MAX_VALUE;
    private long lastTimestamp = Long.MIN_VALUE;
    /**
     * The values not yet in the bins (at most SPARSE_MAX). Null while the waiting values are implicit: then there are
     * no bins, and the first {@code valueCount} (at most IMPLICIT_MAX) of {@code min}, {@code max}, {@code third} and
     * {@code fourth} are the waiting values (one value: {@code min}). Min and max stay among them, as a value that
     * moves either takes the old one's place in a field.
     */
    private double[] values;
    private int valueCount;
    private double third;
    private double fourth;
    /** The bins and the late count; null while the window has neither. */
    private Extra extra;

    /**
     * What a window gets only once its values outgrow the waiting array, or a point comes late: its bins and its
     * late count. Apart, so that a window of a few values (most windows when series are many) costs fewer bytes.
     */
    private static final class Extra {
        long late;
        /** The values in the zero bin, and the bins of each sign (null while a sign has none). */
        long zeros;
        BinCounts positive;
        BinCounts negative;
        /**
         * The bins still in the encoding they were stored in, decoded when first needed; while set, the three fields
         * above hold nothing. Never changed in place, so copies share it.
         */
        byte[] encoded;

        Extra copy() {
            Extra c = new Extra();
            c.late = late;
            c.encoded = encoded;
            c.zeros = zeros;
            c.positive = positive == null ? null : positive.copy();
            c.negative = negative == null ? null : negative.copy();
            return c;
        }
    }

    private Extra extra() {
        Extra e = extra;
        if (e == null) {
            e = new Extra();
            extra = e;
        }
        return e;
    }

    public Aggregate() {
    }

    /**
     * Moves this aggregate's contents into a new aggregate, which it returns, and leaves this one empty, as a new one
     * is; for a holder that hands the contents on and goes on with the same object ({@link AggregateColumns#take}).
     */
    final Aggregate moveOut() {
        Aggregate out = new Aggregate();
        out.take(this);
        clear();
        return out;
    }

    /** Empties this aggregate in place, as a new one is. */
    final void clear() {
        count = 0;
        sum = 0;
        min = Double.POSITIVE_INFINITY;
        max = Double.NEGATIVE_INFINITY;
        last = Double.NaN;
        firstTimestamp = Long.MAX_VALUE;
        lastTimestamp = Long.MIN_VALUE;
        values = null;
        valueCount = 0;
        extra = null;
    }

    /**
     * True when this aggregate is its fields alone: its waiting values are implicit (at most {@link #IMPLICIT_MAX},
     * in min, max, {@code third} and {@code fourth}), with no array, no bins and no late count. Such an aggregate is
     * the fields {@link AggregateColumns} holds.
     */
    final boolean fieldsOnly() {
        return values == null && extra == null;
    }

    /** Writes this aggregate, which must be {@link #fieldsOnly}, into the row of {@code c} at {@code at}. */
    final void writeTo(AggregateColumns c, int at) {
        long[] r = c.rows;
        r[at + AggregateColumns.COUNT] = count;
        r[at + AggregateColumns.SUM] = Double.doubleToRawLongBits(sum);
        r[at + AggregateColumns.MIN] = Double.doubleToRawLongBits(min);
        r[at + AggregateColumns.MAX] = Double.doubleToRawLongBits(max);
        r[at + AggregateColumns.LAST] = Double.doubleToRawLongBits(last);
        r[at + AggregateColumns.FIRST_TIMESTAMP] = firstTimestamp;
        r[at + AggregateColumns.LAST_TIMESTAMP] = lastTimestamp;
        r[at + AggregateColumns.THIRD] = Double.doubleToRawLongBits(third);
        r[at + AggregateColumns.FOURTH] = Double.doubleToRawLongBits(fourth);
        r[at + AggregateColumns.WAITING] = valueCount;
    }

    /** The aggregate the row of {@code c} at {@code at} holds in its fields; the inverse of {@link #writeTo}. */
    static Aggregate readFrom(AggregateColumns c, int at) {
        long[] r = c.rows;
        Aggregate a = new Aggregate();
        a.count = r[at + AggregateColumns.COUNT];
        a.sum = Double.longBitsToDouble(r[at + AggregateColumns.SUM]);
        a.min = Double.longBitsToDouble(r[at + AggregateColumns.MIN]);
        a.max = Double.longBitsToDouble(r[at + AggregateColumns.MAX]);
        a.last = Double.longBitsToDouble(r[at + AggregateColumns.LAST]);
        a.firstTimestamp = r[at + AggregateColumns.FIRST_TIMESTAMP];
        a.lastTimestamp = r[at + AggregateColumns.LAST_TIMESTAMP];
        a.third = Double.longBitsToDouble(r[at + AggregateColumns.THIRD]);
        a.fourth = Double.longBitsToDouble(r[at + AggregateColumns.FOURTH]);
        a.valueCount = (int) r[at + AggregateColumns.WAITING];
        return a;
    }

    /**
     * Exchanges the contents of this aggregate and {@code other}, arrays and all, copying no value; for a subclass
     * whose object stays with its holder while the window it carries changes places with another aggregate.
     */
    protected final void swapContents(Aggregate other) {
        long count = this.count;
        double sum = this.sum;
        double min = this.min;
        double max = this.max;
        double last = this.last;
        long firstTimestamp = this.firstTimestamp;
        long lastTimestamp = this.lastTimestamp;
        double[] values = this.values;
        int valueCount = this.valueCount;
        double third = this.third;
        double fourth = this.fourth;
        Extra extra = this.extra;
        take(other);
        other.count = count;
        other.sum = sum;
        other.min = min;
        other.max = max;
        other.last = last;
        other.firstTimestamp = firstTimestamp;
        other.lastTimestamp = lastTimestamp;
        other.values = values;
        other.valueCount = valueCount;
        other.third = third;
        other.fourth = fourth;
        other.extra = extra;
    }

    private void take(Aggregate o) {
        count = o.count;
        sum = o.sum;
        min = o.min;
        max = o.max;
        last = o.last;
        firstTimestamp = o.firstTimestamp;
        lastTimestamp = o.lastTimestamp;
        values = o.values;
        valueCount = o.valueCount;
        third = o.third;
        fourth = o.fourth;
        extra = o.extra;
    }

    /** Records one value observed at event time {@code timestamp}; a later arrival wins a timestamp tie for last. */
    public final void accept(double value, long timestamp) {
        // NaN moves no min or max, so it never waits implicitly.
        boolean implicit = values == null && valueCount < IMPLICIT_MAX && value == value && !hasBins();
        if (!implicit && values == null && valueCount > 0) {
            spillImplicit();
        }
        if (implicit && valueCount >= 2) {
            // The min or max this value replaces, or else the value itself, waits in the next field.
            double waits = value < min ? min : value > max ? max : value;
            if (valueCount == 2) {
                third = waits;
            } else {
                fourth = waits;
            }
        }
        count++;
        sum += value;
        if (value < min) {
            min = value;
        }
        if (value > max) {
            max = value;
        }
        if (timestamp >= lastTimestamp) {
            lastTimestamp = timestamp;
            last = value;
        }
        if (timestamp < firstTimestamp) {
            firstTimestamp = timestamp;
        }
        if (implicit) {
            valueCount++;
        } else {
            addToQuantiles(value);
        }
    }

    /**
     * Moves the implicit waiting values into an array with room for more: before a value past IMPLICIT_MAX, a NaN,
     * a merge, or binning.
     */
    private void spillImplicit() {
        double[] v = new double[Math.max(4, 2 * valueCount)];
        for (int i = 0; i < valueCount; i++) {
            v[i] = waiting(i);
        }
        values = v;
    }

    /** Waiting value {@code i} of {@code valueCount}. */
    private double waiting(int i) {
        if (values != null) {
            return values[i];
        }
        return switch (i) {
            case 0 -> min;
            case 1 -> max;
            case 2 -> third;
            default -> fourth;
        };
    }

    private void addToQuantiles(double value) {
        if (values == null) {
            values = new double[hasBins() ? SPARSE_MAX : 2];
        } else if (valueCount == values.length) {
            if (valueCount >= SPARSE_MAX) {
                binValues();
            } else {
                values = Arrays.copyOf(values, Math.min(SPARSE_MAX, valueCount * 2));
            }
        }
        values[valueCount++] = value;
    }

    /** Counts one point merged after its window was first flushed. */
    public final void markLate() {
        extra().late++;
    }

    /**
     * Merges {@code other} into this aggregate, as if its points had arrived after this one's: count, sum, min, max
     * and last are exact, quantiles stay within the sketch's bound.
     */
    public final void mergeWith(Aggregate other) {
        long otherLate = other.late();
        if (otherLate != 0) {
            extra().late += otherLate;
        }
        if (other.count == 0) {
            return;
        }
        if (values == null && valueCount > 0) {
            spillImplicit();
        }
        count += other.count;
        sum += other.sum;
        min = Math.min(min, other.min);
        max = Math.max(max, other.max);
        if (other.lastTimestamp >= lastTimestamp) {
            lastTimestamp = other.lastTimestamp;
            last = other.last;
        }
        firstTimestamp = Math.min(firstTimestamp, other.firstTimestamp);
        Extra o = other.extra;
        if (o != null && o.encoded != null) {
            mergeEncoded(o.encoded);
        } else if (other.hasBins()) {
            binValues();
            decodeBins();
            Extra e = extra();
            e.zeros += o.zeros;
            e.positive = merged(e.positive, o.positive);
            e.negative = merged(e.negative, o.negative);
        }
        for (int i = 0; i < other.valueCount; i++) {
            addToQuantiles(other.waiting(i));
        }
    }

    /**
     * Merges bins still encoded, leaving their owner as it is: while this aggregate has no bins, it takes the bytes
     * and decodes nothing (a query at the stored resolution merges one stored window per output window, and most
     * queries never ask a quantile); otherwise the bins are decoded here into fresh ones, which need no copy.
     */
    private void mergeEncoded(byte[] encoded) {
        if (!hasBins()) {
            extra().encoded = encoded;
            return;
        }
        SketchCodec.Decoded d = CODEC.decode(encoded, MAX_BINS);
        if (d.zeros() == 0 && d.positive() == null && d.negative() == null) {
            return;
        }
        binValues();
        Extra e = extra;
        e.zeros += d.zeros();
        e.positive = e.positive == null ? d.positive() : d.positive() == null ? e.positive
                : e.positive.mergeWith(d.positive());
        e.negative = e.negative == null ? d.negative() : d.negative() == null ? e.negative
                : e.negative.mergeWith(d.negative());
    }

    /** Decodes bins still encoded; every use of the bins comes through here or {@link #hasBins}. */
    private void decodeBins() {
        Extra e = extra;
        if (e != null && e.encoded != null) {
            SketchCodec.Decoded d = CODEC.decode(e.encoded, MAX_BINS);
            e.encoded = null;
            e.zeros = d.zeros();
            e.positive = d.positive();
            e.negative = d.negative();
        }
    }

    private static BinCounts merged(BinCounts into, BinCounts from) {
        if (from == null) {
            return into;
        }
        if (into == null) {
            return from.copy();
        }
        return into.mergeWith(from);
    }

    public final Aggregate copy() {
        Aggregate c = new Aggregate();
        c.take(this);
        // The two parts that change in place are the copy's own.
        c.values = values == null || valueCount == 0 ? null : Arrays.copyOf(values, valueCount);
        c.extra = extra == null ? null : extra.copy();
        return c;
    }

    /**
     * The value at quantile {@code q} in [0, 1], clamped to [min, max]; NaN when empty. DDSketch's lower quantile:
     * the bin holding the value of rank {@code q * (count - 1)}, walking negative bins from the lowest value up, then
     * the zero bin, then the positive bins.
     */
    public final double valueAtQuantile(double q) {
        if (count == 0) {
            return Double.NaN;
        }
        binValues();
        if (!hasBins()) {
            return Double.NaN;
        }
        if (q < 0 || q > 1) {
            throw new IllegalArgumentException("The quantile must be between 0 and 1.");
        }
        long zeros = extra.zeros;
        BinCounts positive = extra.positive;
        BinCounts negative = extra.negative;
        double total = (double) zeros + (negative == null ? 0 : negative.total())
                + (positive == null ? 0 : positive.total());
        double rank = q * (total - 1);
        double n = 0;
        // A dense form's empty slots add nothing, so they never end the walk.
        if (negative != null) {
            for (int i = negative.slots() - 1; i >= 0; i--) {
                if ((n += negative.countAt(i)) > rank) {
                    return clamp(-MAPPING.value(negative.indexAt(i)));
                }
            }
        }
        if ((n += zeros) > rank) {
            return clamp(0);
        }
        if (positive != null) {
            for (int i = 0, slots = positive.slots(); i < slots; i++) {
                if ((n += positive.countAt(i)) > rank) {
                    return clamp(MAPPING.value(positive.indexAt(i)));
                }
            }
        }
        throw new NoSuchElementException();
    }

    private double clamp(double v) {
        return Math.max(min, Math.min(max, v));
    }

    private boolean hasBins() {
        Extra e = extra;
        if (e == null) {
            return false;
        }
        if (e.encoded != null) {
            decodeBins();
        }
        return e.zeros != 0 || e.positive != null || e.negative != null;
    }

    /**
     * Moves the waiting values into the bins: each sign's values sorted by magnitude, mapped to bin indexes in place
     * (the array is the buffer's own) and merged with that sign's bins in one pass; values that all go to dense
     * positive bins skip the sort. Refuses, before changing anything, a value out of the mapping's range, as DDSketch
     * refuses it when it is added.
     */
    private void binValues() {
        int n = valueCount;
        if (n == 0) {
            return;
        }
        if (values == null) {
            spillImplicit();
        }
        decodeBins();
        double[] v = values;
        boolean allPositive = true;
        for (int i = 0; i < n; i++) {
            if (v[i] < -MAX_INDEXED || v[i] > MAX_INDEXED) {
                throw new IllegalArgumentException("The input value is outside the range that is tracked by the sketch.");
            }
            allPositive &= v[i] > MIN_INDEXED;
        }
        Extra e = extra();
        if (allPositive && e.positive instanceof DenseBins dense) {
            int low = Integer.MAX_VALUE;
            int high = Integer.MIN_VALUE;
            for (int i = 0; i < n; i++) {
                int index = MAPPING.index(v[i]);
                v[i] = index;
                low = Math.min(low, index);
                high = Math.max(high, index);
            }
            e.positive = dense.add(v, 0, n, low, high);
            valueCount = 0;
            return;
        }
        Arrays.sort(v, 0, n);
        // Ascending: values below -MIN_INDEXED, then the zero bin's, then those above MIN_INDEXED, then any NaN
        // (which DDSketch counts in the zero bin too).
        int negativeEnd = 0;
        while (negativeEnd < n && v[negativeEnd] < -MIN_INDEXED) {
            negativeEnd++;
        }
        int positiveStart = negativeEnd;
        while (positiveStart < n && !(v[positiveStart] > MIN_INDEXED) && !Double.isNaN(v[positiveStart])) {
            positiveStart++;
        }
        int positiveEnd = positiveStart;
        while (positiveEnd < n && v[positiveEnd] > MIN_INDEXED) {
            positiveEnd++;
        }
        e.zeros += (positiveStart - negativeEnd) + (n - positiveEnd);
        if (negativeEnd > 0) {
            BinCounts.toIndexes(MAPPING, v, 0, negativeEnd, true);
            e.negative = e.negative == null ? BinCounts.ofIndexes(v, 0, negativeEnd)
                    : e.negative.addIndexes(v, 0, negativeEnd);
        }
        if (positiveEnd > positiveStart) {
            BinCounts.toIndexes(MAPPING, v, positiveStart, positiveEnd, false);
            e.positive = e.positive == null ? BinCounts.ofIndexes(v, positiveStart, positiveEnd)
                    : e.positive.addIndexes(v, positiveStart, positiveEnd);
        }
        valueCount = 0;
    }

    /** The bins of one sign, null while it has none; for tests of their form. */
    BinCounts bins(boolean negativeSign) {
        binValues();
        decodeBins();
        return extra == null ? null : negativeSign ? extra.negative : extra.positive;
    }

    public final long count() {
        return count;
    }

    public final double sum() {
        return sum;
    }

    public final double min() {
        return min;
    }

    public final double max() {
        return max;
    }

    public final double mean() {
        return count == 0 ? Double.NaN : sum / count;
    }

    public final double last() {
        return last;
    }

    public final long firstTimestamp() {
        return firstTimestamp;
    }

    public final long lastTimestamp() {
        return lastTimestamp;
    }

    public final long late() {
        return extra == null ? 0 : extra.late;
    }

    /**
     * The bins in DDSketch's portable binary encoding, the bytes a DDSketch over {@code CollapsingLowestDenseStore}s
     * of the same values encodes; empty when no value was recorded.
     */
    public final byte[] sketchBytes() {
        binValues();
        if (!hasBins()) {
            return new byte[0];
        }
        return CODEC.encode(extra.zeros, extra.positive, extra.negative);
    }

    /**
     * Rebuilds a stored aggregate; the inverse of reading each accessor and {@link #sketchBytes()}. The sketch is
     * decoded when its bins are first needed (a quantile, the encoding, a merge into bins), not here: count, sum,
     * min, max, mean and last never need it.
     */
    public static Aggregate restore(long count, double sum, double min, double max, double last,
                                    long firstTimestamp, long lastTimestamp, long late, byte[] sketchBytes) {
        Aggregate a = new Aggregate();
        a.count = count;
        a.sum = sum;
        a.min = count == 0 ? Double.POSITIVE_INFINITY : min;
        a.max = count == 0 ? Double.NEGATIVE_INFINITY : max;
        a.last = last;
        a.firstTimestamp = firstTimestamp;
        a.lastTimestamp = lastTimestamp;
        if (late != 0) {
            a.extra().late = late;
        }
        if (sketchBytes != null && sketchBytes.length > 0) {
            a.extra().encoded = sketchBytes;
        }
        return a;
    }

    @Override
    public final String toString() {
        return "Aggregate{count=" + count + ", sum=" + sum + ", min=" + min + ", max=" + max + ", last=" + last
                + ", late=" + late() + '}';
    }
}
