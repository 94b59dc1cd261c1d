package dev.meterline.model;

import com.datadoghq.sketch.ddsketch.encoding.BinEncodingMode;
import com.datadoghq.sketch.ddsketch.encoding.Flag;
import com.datadoghq.sketch.ddsketch.encoding.GrowingByteArrayOutput;
import com.datadoghq.sketch.ddsketch.encoding.Output;
import com.datadoghq.sketch.ddsketch.encoding.VarEncodingHelper;
import com.datadoghq.sketch.ddsketch.mapping.IndexMapping;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Arrays;

/**
 * The DDSketch encoding of a few values written straight from the values, byte for byte what a {@code DDSketch}
 * over a {@code SparseStore} would encode, without building the sketch, its bin maps and their boxed entries (which
 * took most of a flush's time on the store's thread).
 */
final class SparseSketch {

    private final IndexMapping mapping;
    private final int maxBins;
    private final byte[] mappingBytes;
    private final double minIndexable;
    private final double maxIndexable;

    /** Encodes with {@code mapping}, for values whose bins of each sign span fewer than {@code maxBins}. */
    SparseSketch(IndexMapping mapping, int maxBins) {
        this.mapping = mapping;
        this.maxBins = maxBins;
        GrowingByteArrayOutput out = GrowingByteArrayOutput.withInitialCapacity(32);
        try {
            mapping.encode(out);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot encode an index mapping in memory", e);
        }
        this.mappingBytes = out.trimmedCopy();
        // As DDSketch sorts a value: above the smallest indexable magnitude into a store, else into the zero count.
        this.minIndexable = Math.max(0, mapping.minIndexableValue());
        this.maxIndexable = mapping.maxIndexableValue();
    }

    /**
     * The encoding of the first {@code n} of {@code values}, or null when a dense store must take them: a sign's
     * bins span {@code maxBins} or more (a sketch would collapse its lowest bins), or a value is out of the
     * mapping's range (a sketch refuses it).
     */
    byte[] encode(double[] values, int n) {
        int[] positive = new int[n];
        int[] negative = new int[n];
        int p = 0;
        int q = 0;
        long zeros = 0;
        for (int i = 0; i < n; i++) {
            double v = values[i];
            if (v < -maxIndexable || v > maxIndexable) {
                return null;
            }
            if (v > minIndexable) {
                positive[p++] = mapping.index(v);
            } else if (v < -minIndexable) {
                negative[q++] = mapping.index(-v);
            } else {
                zeros++;
            }
        }
        Arrays.sort(positive, 0, p);
        Arrays.sort(negative, 0, q);
        if (!fits(positive, p) || !fits(negative, q)) {
            return null;
        }
        GrowingByteArrayOutput out = GrowingByteArrayOutput.withInitialCapacity(mappingBytes.length + 8 + 4 * n);
        try {
            for (byte b : mappingBytes) {
                out.writeByte(b);
            }
            if (zeros > 0) {
                Flag.ZERO_COUNT.encode(out);
                VarEncodingHelper.encodeVarDouble(out, zeros);
            }
            bins(out, positive, p, Flag.Type.POSITIVE_STORE);
            bins(out, negative, q, Flag.Type.NEGATIVE_STORE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot encode a sketch in memory", e);
        }
        return out.trimmedCopy();
    }

    private boolean fits(int[] sorted, int n) {
        return n == 0 || sorted[n - 1] - sorted[0] < maxBins - 1;
    }

    /** A store's bins, ascending: their number, then each index as the delta from the previous and its count. */
    private static void bins(Output out, int[] sorted, int n, Flag.Type store) throws IOException {
        if (n == 0) {
            return;
        }
        int distinct = 1;
        for (int i = 1; i < n; i++) {
            if (sorted[i] != sorted[i - 1]) {
                distinct++;
            }
        }
        BinEncodingMode.INDEX_DELTAS_AND_COUNTS.toFlag(store).encode(out);
        VarEncodingHelper.encodeUnsignedVarLong(out, distinct);
        long previous = 0;
        int i = 0;
        while (i < n) {
            int index = sorted[i];
            int count = 0;
            while (i < n && sorted[i] == index) {
                count++;
                i++;
            }
            VarEncodingHelper.encodeSignedVarLong(out, index - previous);
            VarEncodingHelper.encodeVarDouble(out, count);
            previous = index;
        }
    }
}
