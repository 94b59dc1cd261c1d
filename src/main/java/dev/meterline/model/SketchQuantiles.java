package dev.meterline.model;

import com.datadoghq.sketch.ddsketch.encoding.GrowingByteArrayOutput;
import com.datadoghq.sketch.ddsketch.mapping.IndexMapping;
import com.datadoghq.sketch.ddsketch.mapping.LogarithmicMapping;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Arrays;

/**
 * Quantiles read straight from a stored sketch encoding ({@link Aggregate#sketchBytes()}), with the answers
 * {@link Aggregate#restore} followed by {@link Aggregate#valueAtQuantile} gives, but without building bins or an
 * aggregate: remote write reads three quantiles of every stored window it sends. It answers only for the layout the
 * store writes where the decoding needs no collapsing (ascending distinct indexes spanning fewer than
 * {@link Aggregate#MAX_BINS}, whole counts); for anything else, malformed input included, it answers false and the
 * caller restores the aggregate. Not thread-safe: its scratch arrays are reused from call to call.
 */
public final class SketchQuantiles extends SketchInput {

    private static final IndexMapping MAPPING = new LogarithmicMapping(Aggregate.RELATIVE_ACCURACY);
    private static final byte[] MAPPING_BYTES = mappingBytes();

    /**
     * Writes into {@code out[i]} the value at quantile {@code qs[i]} (each in [0, 1]) of the sketch {@code sketch}
     * of a window whose min and max are {@code min} and {@code max}; NaN each when the sketch holds no value.
     * Returns false, leaving {@code out} undefined, when the bytes must be decoded by the library instead.
     */
    public boolean read(byte[] sketch, double min, double max, double[] qs, double[] out) {
        if (sketch == null || sketch.length == 0) {
            Arrays.fill(out, 0, qs.length, Double.NaN);
            return true;
        }
        if (sketch.length < MAPPING_BYTES.length
                || !Arrays.equals(sketch, 0, MAPPING_BYTES.length, MAPPING_BYTES, 0, MAPPING_BYTES.length)) {
            return false;
        }
        in = sketch;
        p = MAPPING_BYTES.length;
        bad = false;
        n = 0;
        long zeros = 0;
        int negativeEnd = 0;
        long total = 0;
        int stage = 0;
        while (p < in.length) {
            byte flag = in[p++];
            if (flag == ZERO_COUNT_FLAG && stage < 1) {
                double z = varDouble();
                if (bad || !whole(z)) {
                    return false;
                }
                zeros = (long) z;
                stage = 1;
            } else if ((flag == POSITIVE_DENSE_FLAG || flag == POSITIVE_SPARSE_FLAG) && stage < 2) {
                negativeEnd = n;
                total += store(flag == POSITIVE_DENSE_FLAG);
                stage = 2;
            } else if ((flag == NEGATIVE_DENSE_FLAG || flag == NEGATIVE_SPARSE_FLAG) && stage < 3) {
                // The negative store comes last: move the positive bins read so far behind it afterwards.
                int positive = n;
                total += store(flag == NEGATIVE_DENSE_FLAG);
                if (!bad) {
                    rotate(positive, n);
                    negativeEnd = n - positive;
                }
                stage = 3;
            } else {
                return false;
            }
            if (bad) {
                return false;
            }
        }
        if (stage < 2) {
            negativeEnd = 0;
        }
        total += zeros;
        if (total == 0) {
            // Only empty bins: the decoded aggregate has no bins, and no quantile.
            Arrays.fill(out, 0, qs.length, Double.NaN);
            return true;
        }
        for (int k = 0; k < qs.length; k++) {
            out[k] = clamp(valueAt(qs[k], total, zeros, negativeEnd), min, max);
        }
        return true;
    }

    /** The lower quantile as {@link Aggregate#valueAtQuantile} walks it: negative bins from the lowest value up. */
    private double valueAt(double q, long total, long zeros, int negativeEnd) {
        if (q < 0 || q > 1) {
            throw new IllegalArgumentException("The quantile must be between 0 and 1.");
        }
        double rank = q * ((double) total - 1);
        double seen = 0;
        for (int i = negativeEnd - 1; i >= 0; i--) {
            if ((seen += counts[i]) > rank) {
                return -MAPPING.value(indexes[i]);
            }
        }
        if ((seen += zeros) > rank) {
            return 0;
        }
        for (int i = negativeEnd; i < n; i++) {
            if ((seen += counts[i]) > rank) {
                return MAPPING.value(indexes[i]);
            }
        }
        throw new IllegalStateException("no bin holds rank " + rank + " of " + total);
    }

    private static double clamp(double v, double min, double max) {
        return Math.max(min, Math.min(max, v));
    }

    /**
     * Reads one store's bins into the arrays from {@link #n} and returns their total; sets {@link #bad} where the
     * library must decide (collapsing, counts the aggregate's bins do not hold as they are, malformed bytes).
     */
    private long store(boolean contiguous) {
        int first = n;
        long total = appendStore(contiguous);
        if (!bad && n > first && ((long) indexes[n - 1] - indexes[first] >= Aggregate.MAX_BINS
                || total > SortedBins.NARROW_MAX)) {
            bad = true;
            return 0;
        }
        return total;
    }

    /** Turns [0, split) [split, n) into [split, n) [0, split). */
    private void rotate(int split, int end) {
        if (split == 0 || split == end) {
            return;
        }
        int[] ix = Arrays.copyOf(indexes, split);
        long[] cs = Arrays.copyOf(counts, split);
        System.arraycopy(indexes, split, indexes, 0, end - split);
        System.arraycopy(counts, split, counts, 0, end - split);
        System.arraycopy(ix, 0, indexes, end - split, split);
        System.arraycopy(cs, 0, counts, end - split, split);
    }

    private static byte[] mappingBytes() {
        GrowingByteArrayOutput out = GrowingByteArrayOutput.withInitialCapacity(32);
        try {
            MAPPING.encode(out);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot encode an index mapping in memory", e);
        }
        return out.trimmedCopy();
    }
}
