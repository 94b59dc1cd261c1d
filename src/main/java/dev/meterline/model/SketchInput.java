package dev.meterline.model;

import com.datadoghq.sketch.ddsketch.encoding.BinEncodingMode;
import com.datadoghq.sketch.ddsketch.encoding.Flag;
import com.datadoghq.sketch.ddsketch.encoding.GrowingByteArrayOutput;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Arrays;

/**
 * A cursor over a sketch in DDSketch's binary encoding, shared by the readers that take Meterline's own layout
 * without the library (the codec's direct decoder, the export's quantile reader): the flag bytes, variable-length
 * integers and doubles read from {@link #in} at {@link #p}, and a store's bins appended to {@link #indexes} and
 * {@link #counts}. Reading past the end sets {@link #bad} and reads 0, so a reader checks once per value rather than
 * around every byte.
 */
abstract class SketchInput {

    private static final long ONE_BITS = Double.doubleToRawLongBits(1);
    /** The flag bytes before the zero count and each store's bins, as the library writes them. */
    static final byte ZERO_COUNT_FLAG = flagByte(Flag.ZERO_COUNT);
    static final byte POSITIVE_DENSE_FLAG =
            flagByte(BinEncodingMode.CONTIGUOUS_COUNTS.toFlag(Flag.Type.POSITIVE_STORE));
    static final byte POSITIVE_SPARSE_FLAG =
            flagByte(BinEncodingMode.INDEX_DELTAS_AND_COUNTS.toFlag(Flag.Type.POSITIVE_STORE));
    static final byte NEGATIVE_DENSE_FLAG =
            flagByte(BinEncodingMode.CONTIGUOUS_COUNTS.toFlag(Flag.Type.NEGATIVE_STORE));
    static final byte NEGATIVE_SPARSE_FLAG =
            flagByte(BinEncodingMode.INDEX_DELTAS_AND_COUNTS.toFlag(Flag.Type.NEGATIVE_STORE));

    byte[] in;
    int p;
    boolean bad;
    /** Bins read: ascending indexes and their counts, the first {@link #n} of them. */
    int[] indexes = new int[16];
    long[] counts = new long[16];
    int n;

    /** Whether a count is one the narrow sorted form holds as it is: a whole number, not negative, not huge. */
    static boolean whole(double count) {
        return count >= 0 && count <= SortedBins.NARROW_MAX && count == Math.rint(count);
    }

    /**
     * Reads one store's bins (the dense or the sparse form) and appends those not empty after the {@link #n} held;
     * returns their total count. Sets {@link #bad} on what the narrow sorted form does not hold as it is: a count
     * that is not a whole number, an index outside {@code int}, indexes not ascending, bytes missing.
     */
    final long appendStore(boolean contiguous) {
        long bins = unsignedVarLong();
        long index = contiguous ? signedVarLong() : 0;
        long step = contiguous ? signedVarLong() : 0;
        if (bad || bins < 0 || bins > in.length - p) {
            bad = true;
            return 0;
        }
        int first = n;
        long total = 0;
        for (long i = 0; i < bins; i++) {
            if (!contiguous) {
                index += signedVarLong();
            }
            double count = varDouble();
            if (bad || !whole(count) || index < Integer.MIN_VALUE || index > Integer.MAX_VALUE) {
                bad = true;
                return 0;
            }
            if (count != 0) {
                if (n > first && index <= indexes[n - 1]) {
                    bad = true;
                    return 0;
                }
                if (n == indexes.length) {
                    indexes = Arrays.copyOf(indexes, n * 2);
                    counts = Arrays.copyOf(counts, n * 2);
                }
                indexes[n] = (int) index;
                counts[n++] = (long) count;
                total += (long) count;
            }
            if (contiguous) {
                index += step;
            }
        }
        return total;
    }

    final long unsignedVarLong() {
        long value = 0;
        for (int shift = 0; ; shift += 7) {
            if (p >= in.length) {
                bad = true;
                return 0;
            }
            byte next = in[p++];
            if (next >= 0 || shift == 56) {
                return value | ((long) next << shift);
            }
            value |= (next & 127L) << shift;
        }
    }

    final long signedVarLong() {
        long v = unsignedVarLong();
        return (v >>> 1) ^ -(v & 1);
    }

    final double varDouble() {
        long bits = 0;
        for (int shift = 57; ; shift -= 7) {
            if (p >= in.length) {
                bad = true;
                return 0;
            }
            byte next = in[p++];
            if (shift == 1) {
                bits |= Byte.toUnsignedLong(next);
                break;
            }
            if (next >= 0) {
                bits |= (long) next << shift;
                break;
            }
            bits |= (next & 127L) << shift;
        }
        return Double.longBitsToDouble(Long.rotateRight(bits, 6) + ONE_BITS) - 1;
    }

    /** A flag's byte as the library writes it. */
    private static byte flagByte(Flag flag) {
        GrowingByteArrayOutput out = GrowingByteArrayOutput.withInitialCapacity(1);
        try {
            flag.encode(out);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot encode a flag in memory", e);
        }
        byte[] bytes = out.trimmedCopy();
        if (bytes.length != 1) {
            throw new IllegalStateException("a sketch flag encodes in " + bytes.length + " bytes, expected 1");
        }
        return bytes[0];
    }
}
