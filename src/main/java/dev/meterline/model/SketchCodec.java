package dev.meterline.model;

import com.datadoghq.sketch.ddsketch.DDSketch;
import com.datadoghq.sketch.ddsketch.encoding.BinEncodingMode;
import com.datadoghq.sketch.ddsketch.encoding.ByteArrayInput;
import com.datadoghq.sketch.ddsketch.encoding.Flag;
import com.datadoghq.sketch.ddsketch.encoding.GrowingByteArrayOutput;
import com.datadoghq.sketch.ddsketch.encoding.Output;
import com.datadoghq.sketch.ddsketch.encoding.VarEncodingHelper;
import com.datadoghq.sketch.ddsketch.mapping.IndexMapping;
import com.datadoghq.sketch.ddsketch.store.CollapsingLowestDenseStore;
import com.datadoghq.sketch.ddsketch.store.Store;

import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * DDSketch's portable encoding of a zero count and two signs' bins, written straight from the bins and byte
 * for byte what a {@code DDSketch} over {@code CollapsingLowestDenseStore}s holding the same bins encodes (each store
 * as contiguous counts or as index deltas, whichever is no longer); decoding goes through the library.
 */
final class SketchCodec {

    private static final int ZERO_COUNT_LENGTH = VarEncodingHelper.varDoubleEncodedLength(0);

    private final IndexMapping mapping;
    private final byte[] mappingBytes;

    SketchCodec(IndexMapping mapping) {
        this.mapping = mapping;
        GrowingByteArrayOutput out = GrowingByteArrayOutput.withInitialCapacity(32);
        try {
            mapping.encode(out);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot encode an index mapping in memory", e);
        }
        this.mappingBytes = out.trimmedCopy();
    }

    /** The encoding of {@code zeros} values in the zero bin and the bins of each sign (either may be null). */
    byte[] encode(long zeros, BinCounts positive, BinCounts negative) {
        int bins = (positive == null ? 0 : positive.size()) + (negative == null ? 0 : negative.size());
        GrowingByteArrayOutput out = GrowingByteArrayOutput.withInitialCapacity(mappingBytes.length + 16 + 3 * bins);
        try {
            for (byte b : mappingBytes) {
                out.writeByte(b);
            }
            if (zeros != 0) {
                Flag.ZERO_COUNT.encode(out);
                VarEncodingHelper.encodeVarDouble(out, zeros);
            }
            store(out, positive, Flag.Type.POSITIVE_STORE);
            store(out, negative, Flag.Type.NEGATIVE_STORE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot encode a sketch in memory", e);
        }
        return out.trimmedCopy();
    }

    /** One store's bins, in the shorter of the dense store's two layouts (contiguous counts on a tie). */
    private static void store(Output out, BinCounts bins, Flag.Type type) throws IOException {
        if (bins == null || bins.size() == 0) {
            return;
        }
        int n = bins.size();
        int slots = bins.slots();
        int minIndex = bins.lowest();
        long span = (long) bins.highest() - minIndex + 1;
        long dense = VarEncodingHelper.unsignedVarLongEncodedLength(span)
                + VarEncodingHelper.signedVarLongEncodedLength(minIndex)
                + VarEncodingHelper.signedVarLongEncodedLength(1)
                + (span - n) * ZERO_COUNT_LENGTH;
        long sparse = 0;
        long previous = 0;
        for (int i = 0; i < slots; i++) {
            long count = bins.countAt(i);
            if (count == 0) {
                continue;
            }
            int index = bins.indexAt(i);
            int countLength = VarEncodingHelper.varDoubleEncodedLength(count);
            dense += countLength;
            sparse += VarEncodingHelper.signedVarLongEncodedLength(index - previous) + countLength;
            previous = index;
        }
        if (dense <= sparse) {
            BinEncodingMode.CONTIGUOUS_COUNTS.toFlag(type).encode(out);
            VarEncodingHelper.encodeUnsignedVarLong(out, span);
            VarEncodingHelper.encodeSignedVarLong(out, minIndex);
            VarEncodingHelper.encodeSignedVarLong(out, 1);
            int next = minIndex;
            for (int i = 0; i < slots; i++) {
                long count = bins.countAt(i);
                if (count == 0) {
                    continue;
                }
                int index = bins.indexAt(i);
                for (; next < index; next++) {
                    VarEncodingHelper.encodeVarDouble(out, 0);
                }
                VarEncodingHelper.encodeVarDouble(out, count);
                next = index + 1;
            }
        } else {
            BinEncodingMode.INDEX_DELTAS_AND_COUNTS.toFlag(type).encode(out);
            VarEncodingHelper.encodeUnsignedVarLong(out, n);
            previous = 0;
            for (int i = 0; i < slots; i++) {
                long count = bins.countAt(i);
                if (count == 0) {
                    continue;
                }
                int index = bins.indexAt(i);
                VarEncodingHelper.encodeSignedVarLong(out, index - previous);
                VarEncodingHelper.encodeVarDouble(out, count);
                previous = index;
            }
        }
    }

    /**
     * A stored encoding decoded by the library into dense stores of {@code maxBins} (so it collapses as they do),
     * then read back as bins; throws when the bytes are not a DDSketch encoding with this codec's mapping.
     */
    Decoded decode(byte[] bytes, int maxBins) {
        DDSketch sketch;
        try {
            sketch = DDSketch.decode(ByteArrayInput.wrap(bytes), () -> new CollapsingLowestDenseStore(maxBins), mapping);
        } catch (IOException e) {
            throw new UncheckedIOException("stored sketch is not a valid DDSketch encoding", e);
        }
        Store positive = sketch.getPositiveValueStore();
        Store negative = sketch.getNegativeValueStore();
        double zeros = sketch.getCount() - negative.getTotalCount() - positive.getTotalCount();
        return new Decoded(Math.round(zeros), BinCounts.of(positive), BinCounts.of(negative));
    }

    /** A decoded encoding: the zero count and each sign's bins (null when empty). */
    record Decoded(long zeros, BinCounts positive, BinCounts negative) {
    }
}
