package dev.meterline.model;

import com.datadoghq.sketch.ddsketch.DDSketch;
import com.datadoghq.sketch.ddsketch.encoding.ByteArrayInput;
import com.datadoghq.sketch.ddsketch.encoding.GrowingByteArrayOutput;
import com.datadoghq.sketch.ddsketch.encoding.VarEncodingHelper;
import com.datadoghq.sketch.ddsketch.mapping.IndexMapping;
import com.datadoghq.sketch.ddsketch.store.CollapsingLowestDenseStore;
import com.datadoghq.sketch.ddsketch.store.Store;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Arrays;

/**
 * DDSketch's portable encoding of a zero count and two signs' bins, written straight from the bins and byte
 * for byte what a {@code DDSketch} over {@code CollapsingLowestDenseStore}s holding the same bins encodes (each store
 * as contiguous counts or as index deltas, whichever is no longer); decoding goes through the library. The encoder
 * measures the encoding first and writes it into an array of exactly that length with the library's variable-length
 * forms, so a sketch costs one allocation and no copy.
 */
final class SketchCodec {

    private static final int ZERO_COUNT_LENGTH = VarEncodingHelper.varDoubleEncodedLength(0);
    private static final long ONE_BITS = Double.doubleToRawLongBits(1);

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
        int positiveLength = storeLength(positive);
        int negativeLength = storeLength(negative);
        int length = mappingBytes.length + (zeros == 0 ? 0 : 1 + varDoubleLength(zeros))
                + Math.abs(positiveLength) + Math.abs(negativeLength);
        byte[] out = new byte[length];
        System.arraycopy(mappingBytes, 0, out, 0, mappingBytes.length);
        int p = mappingBytes.length;
        if (zeros != 0) {
            out[p++] = SketchInput.ZERO_COUNT_FLAG;
            p = putVarDouble(out, p, zeros);
        }
        p = putStore(out, p, positive, positiveLength, SketchInput.POSITIVE_DENSE_FLAG,
                SketchInput.POSITIVE_SPARSE_FLAG);
        p = putStore(out, p, negative, negativeLength, SketchInput.NEGATIVE_DENSE_FLAG,
                SketchInput.NEGATIVE_SPARSE_FLAG);
        if (p != length) {
            throw new IllegalStateException("sketch encoding wrote " + p + " bytes, expected " + length);
        }
        return out;
    }

    /**
     * The encoded length of one store's bins with its flag: positive in the dense store's contiguous counts,
     * negative in its index deltas, whichever is no longer (contiguous counts on a tie); 0 for no bins.
     */
    private static int storeLength(BinCounts bins) {
        if (bins == null || bins.size() == 0) {
            return 0;
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
            int countLength = varDoubleLength(count);
            dense += countLength;
            sparse += VarEncodingHelper.signedVarLongEncodedLength(index - previous) + countLength;
            previous = index;
        }
        if (dense <= sparse) {
            return Math.toIntExact(1 + dense);
        }
        return -Math.toIntExact(1 + VarEncodingHelper.unsignedVarLongEncodedLength(n) + sparse);
    }

    /** Writes one store's bins at {@code p} in the layout {@link #storeLength} chose; returns the next position. */
    private static int putStore(byte[] out, int p, BinCounts bins, int length, byte denseFlag, byte sparseFlag) {
        if (length == 0) {
            return p;
        }
        int slots = bins.slots();
        if (length > 0) {
            int minIndex = bins.lowest();
            out[p++] = denseFlag;
            p = putUnsignedVarLong(out, p, (long) bins.highest() - minIndex + 1);
            p = putSignedVarLong(out, p, minIndex);
            p = putSignedVarLong(out, p, 1);
            int next = minIndex;
            for (int i = 0; i < slots; i++) {
                long count = bins.countAt(i);
                if (count == 0) {
                    continue;
                }
                int index = bins.indexAt(i);
                // An empty bin's count, 0, encodes as the single byte 0, which the new array already holds.
                p += (index - next) * ZERO_COUNT_LENGTH;
                p = putVarDouble(out, p, count);
                next = index + 1;
            }
        } else {
            out[p++] = sparseFlag;
            p = putUnsignedVarLong(out, p, bins.size());
            long previous = 0;
            for (int i = 0; i < slots; i++) {
                long count = bins.countAt(i);
                if (count == 0) {
                    continue;
                }
                int index = bins.indexAt(i);
                p = putSignedVarLong(out, p, index - previous);
                p = putVarDouble(out, p, count);
                previous = index;
            }
        }
        return p;
    }

    /** The library's variable-length unsigned integer: 7 bits a byte, low bits first, a ninth byte of 8 bits. */
    private static int putUnsignedVarLong(byte[] out, int p, long value) {
        int length = (63 - Long.numberOfLeadingZeros(value)) / 7;
        for (int i = 0; i < length && i < 8; i++) {
            out[p++] = (byte) (value | 0x80L);
            value >>>= 7;
        }
        out[p++] = (byte) value;
        return p;
    }

    /** The library's zig-zag signed integer. */
    private static int putSignedVarLong(byte[] out, int p, long value) {
        return putUnsignedVarLong(out, p, (value >> 63) ^ (value << 1));
    }

    /** The library's variable-length double: small non-negative integers in few bytes, high bits first. */
    private static int putVarDouble(byte[] out, int p, double value) {
        long bits = varBits(value);
        for (int i = 0; i < 8; i++) {
            byte next = (byte) (bits >>> 57);
            bits <<= 7;
            if (bits == 0) {
                out[p++] = next;
                return p;
            }
            out[p++] = (byte) (next | 0x80);
        }
        out[p++] = (byte) (bits >>> 56);
        return p;
    }

    private static int varDoubleLength(double value) {
        return VarEncodingHelper.varDoubleEncodedLength(value);
    }

    private static long varBits(double value) {
        return Long.rotateLeft(Double.doubleToRawLongBits(value + 1) - ONE_BITS, 6);
    }

    /**
     * A stored encoding decoded by the library into dense stores of {@code maxBins} (so it collapses as they do),
     * then read back as bins; throws when the bytes are not a DDSketch encoding with this codec's mapping.
     */
    Decoded decode(byte[] bytes, int maxBins) {
        Decoded direct = decodeDirect(bytes, maxBins);
        return direct != null ? direct : decodeByLibrary(bytes, maxBins);
    }

    /** {@link #decode} without the library where that gives the same bins, else null (see {@link Reader}). */
    Decoded decodeDirect(byte[] bytes, int maxBins) {
        return new Reader(bytes).decode(maxBins);
    }

    /** {@link #decode} through the library's stores, whatever the bytes hold. */
    Decoded decodeByLibrary(byte[] bytes, int maxBins) {
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

    /**
     * Reads the layout {@link #encode} writes (this codec's mapping, then at most one zero count, positive store and
     * negative store, in that order) straight into bins, without the library's stores: rollup decodes every
     * partial it merges. It answers only where the library's decoding would give the same bins without collapsing
     * any (ascending distinct indexes spanning fewer than {@code maxBins}, whole counts whose sign totals the narrow
     * sorted form holds); for anything else, malformed input included, it answers null and the library decides.
     */
    private final class Reader extends SketchInput {

        Reader(byte[] in) {
            this.in = in;
        }

        Decoded decode(int maxBins) {
            if (in.length < mappingBytes.length || !Arrays.equals(in, 0, mappingBytes.length,
                    mappingBytes, 0, mappingBytes.length)) {
                return null;
            }
            p = mappingBytes.length;
            long zeros = 0;
            BinCounts positive = null;
            BinCounts negative = null;
            int stage = 0;
            while (p < in.length) {
                byte flag = in[p++];
                if (flag == ZERO_COUNT_FLAG && stage < 1) {
                    double z = varDouble();
                    if (!whole(z)) {
                        return null;
                    }
                    zeros = (long) z;
                    stage = 1;
                } else if ((flag == POSITIVE_DENSE_FLAG || flag == POSITIVE_SPARSE_FLAG) && stage < 2) {
                    positive = store(flag == POSITIVE_DENSE_FLAG, maxBins);
                    stage = 2;
                } else if ((flag == NEGATIVE_DENSE_FLAG || flag == NEGATIVE_SPARSE_FLAG) && stage < 3) {
                    negative = store(flag == NEGATIVE_DENSE_FLAG, maxBins);
                    stage = 3;
                } else {
                    return null;
                }
                if (bad) {
                    return null;
                }
            }
            return new Decoded(zeros, positive, negative);
        }

        /** One store's bins, null when it holds none; sets {@link #bad} when the library must decide. */
        private BinCounts store(boolean contiguous, int maxBins) {
            n = 0;
            long total = appendStore(contiguous);
            if (bad || n == 0) {
                return null;
            }
            if ((long) indexes[n - 1] - indexes[0] >= Math.min(maxBins, BinCounts.MAX_BINS)
                    || total > SortedBins.NARROW_MAX) {
                bad = true;
                return null;
            }
            return SortedBins.ofAscending(indexes, counts, n, total);
        }
    }

    /** A decoded encoding: the zero count and each sign's bins (null when empty). */
    record Decoded(long zeros, BinCounts positive, BinCounts negative) {
    }
}
