package dev.meterline.model;

import com.datadoghq.sketch.ddsketch.DDSketch;
import com.datadoghq.sketch.ddsketch.encoding.ByteArrayInput;
import com.datadoghq.sketch.ddsketch.encoding.GrowingByteArrayOutput;
import com.datadoghq.sketch.ddsketch.mapping.IndexMapping;
import com.datadoghq.sketch.ddsketch.mapping.LogarithmicMapping;
import com.datadoghq.sketch.ddsketch.store.CollapsingLowestDenseStore;
import com.datadoghq.sketch.ddsketch.store.SparseStore;
import com.datadoghq.sketch.ddsketch.store.Store;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Arrays;
import java.util.function.Supplier;

/**
 * The mergeable summary of one series in one window: exact count, sum, min, max and last, event-time bounds, late
 * points, and quantiles from a DDSketch with {@link #RELATIVE_ACCURACY} relative accuracy.
 *
 * <p>A window with few values keeps them as they are (up to {@link #SPARSE_MAX}) and builds the sketch only when it
 * outgrows that, or for a moment when asked for a quantile or its encoding: an open window of a quiet series costs
 * tens of bytes instead of a sketch's bin array. Once there is a sketch, the same array buffers new values and
 * they go into the sketch {@link #SPARSE_MAX} at a time (or when the sketch is read): adding to a sketch touches its
 * bin array, which is rarely in the cache among thousands of series, and a batch pays for that once. Every answer is
 * the one the sketch would give, since a DDSketch built from the same values holds the same bins whatever the order.
 *
 * <p>Not thread-safe: an aggregate is owned by one shard at a time and copied when it leaves.
 */
public final class Aggregate {

    /** Quantiles are within this relative error of an exact quantile of the same values. */
    public static final double RELATIVE_ACCURACY = 0.01;
    /**
     * Bins per sign; past this the lowest bins collapse, which only ever touches quantiles below
     * {@code max / (1.0202^MAX_BINS)}, far below anything a percentile of interest reaches.
     */
    public static final int MAX_BINS = 2048;

    /** Most values kept as they are before they move into a sketch (or, with a sketch, before they are added). */
    static final int SPARSE_MAX = 16;

    private static final IndexMapping MAPPING = new LogarithmicMapping(RELATIVE_ACCURACY);
    private static final Supplier<Store> STORES = () -> new CollapsingLowestDenseStore(MAX_BINS);
    /**
     * For the throwaway sketch of a sparse window whose values span fewer than {@link #MAX_BINS} bins per sign, where
     * the dense store never collapses: the bins and the encoding are then the dense store's, without growing and
     * shifting a bin array for each new extreme (half the time of a flush of small windows went there).
     */
    private static final Supplier<Store> FEW_VALUE_STORES = SparseStore::new;
    /** Encodes the values of a window without a sketch as a sketch over {@link #FEW_VALUE_STORES} would. */
    private static final SparseSketch SPARSE_ENCODING = new SparseSketch(MAPPING, MAX_BINS);

    private long count;
    private double sum;
    private double min = Double.POSITIVE_INFINITY;
    private double max = Double.NEGATIVE_INFINITY;
    private double last = Double.NaN;
    private long firstTimestamp = Long.MAX_VALUE;
    private long lastTimestamp = Long.MIN_VALUE;
    private long late;
    /** The values not in the sketch (at most SPARSE_MAX; all of them while there is no sketch); null before the first. */
    private double[] values;
    private int valueCount;
    /** The sketch once the values outgrew the sparse form (or one was merged in or restored); else null. */
    private DDSketch sketch;

    public Aggregate() {
    }

    /** Records one value observed at event time {@code timestamp}; a later arrival wins a timestamp tie for last. */
    public void accept(double value, long timestamp) {
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
        addToQuantiles(value);
    }

    private void addToQuantiles(double value) {
        if (values == null) {
            values = new double[sketch == null ? 2 : SPARSE_MAX];
        } else if (valueCount == values.length) {
            if (valueCount == SPARSE_MAX) {
                sketch();
            } else {
                values = Arrays.copyOf(values, valueCount * 2);
            }
        }
        values[valueCount++] = value;
    }

    /** Counts one point merged after its window was first flushed. */
    public void markLate() {
        late++;
    }

    /**
     * Merges {@code other} into this aggregate, as if its points had arrived after this one's: count, sum, min, max
     * and last are exact, quantiles stay within the sketch's bound.
     */
    public void mergeWith(Aggregate other) {
        if (other.count == 0) {
            late += other.late;
            return;
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
        late += other.late;
        if (other.sketch != null) {
            sketch().mergeWith(other.sketch);
        }
        for (int i = 0; i < other.valueCount; i++) {
            addToQuantiles(other.values[i]);
        }
    }

    public Aggregate copy() {
        Aggregate c = new Aggregate();
        c.count = count;
        c.sum = sum;
        c.min = min;
        c.max = max;
        c.last = last;
        c.firstTimestamp = firstTimestamp;
        c.lastTimestamp = lastTimestamp;
        c.late = late;
        c.values = values == null ? null : values.clone();
        c.valueCount = valueCount;
        c.sketch = sketch == null ? null : sketch.copy();
        return c;
    }

    /** The value at quantile {@code q} in [0, 1], clamped to [min, max]; NaN when empty. */
    public double valueAtQuantile(double q) {
        DDSketch s = count == 0 ? null : readableSketch();
        if (s == null || s.isEmpty()) {
            return Double.NaN;
        }
        double v = s.getValueAtQuantile(q);
        return Math.max(min, Math.min(max, v));
    }

    /** The sketch, with the buffered values moved into it: from now on this aggregate keeps a sketch. */
    private DDSketch sketch() {
        if (sketch == null) {
            sketch = new DDSketch(MAPPING, STORES);
        }
        for (int i = 0; i < valueCount; i++) {
            sketch.accept(values[i]);
        }
        valueCount = 0;
        return sketch;
    }

    /** The sketch, or a throwaway one built from the sparse values; null when no value was recorded. */
    private DDSketch readableSketch() {
        if (sketch != null) {
            return sketch();
        }
        if (valueCount == 0) {
            return null;
        }
        DDSketch s = new DDSketch(MAPPING, fitsWithoutCollapse() ? FEW_VALUE_STORES : STORES);
        for (int i = 0; i < valueCount; i++) {
            s.accept(values[i]);
        }
        return s;
    }

    /** True when the sparse values of each sign span fewer bins than a dense store keeps. */
    private boolean fitsWithoutCollapse() {
        double minIndexable = MAPPING.minIndexableValue();
        double lowPositive = Double.POSITIVE_INFINITY;
        double highPositive = 0;
        double lowNegative = Double.POSITIVE_INFINITY;
        double highNegative = 0;
        for (int i = 0; i < valueCount; i++) {
            double v = values[i];
            if (v > minIndexable) {
                lowPositive = Math.min(lowPositive, v);
                highPositive = Math.max(highPositive, v);
            } else if (v < -minIndexable) {
                lowNegative = Math.min(lowNegative, -v);
                highNegative = Math.max(highNegative, -v);
            }
        }
        return (highPositive == 0 || MAPPING.index(highPositive) - MAPPING.index(lowPositive) < MAX_BINS - 1)
                && (highNegative == 0 || MAPPING.index(highNegative) - MAPPING.index(lowNegative) < MAX_BINS - 1);
    }

    public long count() {
        return count;
    }

    public double sum() {
        return sum;
    }

    public double min() {
        return min;
    }

    public double max() {
        return max;
    }

    public double mean() {
        return count == 0 ? Double.NaN : sum / count;
    }

    public double last() {
        return last;
    }

    public long firstTimestamp() {
        return firstTimestamp;
    }

    public long lastTimestamp() {
        return lastTimestamp;
    }

    public long late() {
        return late;
    }

    /** The sketch in DDSketch's portable binary encoding; empty when no value was recorded. */
    public byte[] sketchBytes() {
        if (sketch == null && valueCount > 0) {
            byte[] direct = SPARSE_ENCODING.encode(values, valueCount);
            if (direct != null) {
                return direct;
            }
        }
        DDSketch s = readableSketch();
        if (s == null) {
            return new byte[0];
        }
        GrowingByteArrayOutput out = GrowingByteArrayOutput.withDefaultInitialCapacity();
        try {
            s.encode(out, false);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot encode a sketch in memory", e);
        }
        return out.trimmedCopy();
    }

    /** Rebuilds a stored aggregate; the inverse of reading each accessor and {@link #sketchBytes()}. */
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
        a.late = late;
        if (sketchBytes != null && sketchBytes.length > 0) {
            try {
                a.sketch = DDSketch.decode(ByteArrayInput.wrap(sketchBytes), STORES, MAPPING);
            } catch (IOException e) {
                throw new UncheckedIOException("stored sketch is not a valid DDSketch encoding", e);
            }
        }
        return a;
    }

    @Override
    public String toString() {
        return "Aggregate{count=" + count + ", sum=" + sum + ", min=" + min + ", max=" + max + ", last=" + last
                + ", late=" + late + '}';
    }
}
