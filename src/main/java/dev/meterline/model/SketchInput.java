package dev.meterline.model;

/**
 * A cursor over a sketch in DDSketch's binary encoding: its variable-length integers and doubles, read from
 * {@link #in} at {@link #p}. Reading past the end sets {@link #bad} and reads 0, so a reader checks once per value
 * rather than around every byte.
 */
abstract class SketchInput {

    private static final long ONE_BITS = Double.doubleToRawLongBits(1);

    byte[] in;
    int p;
    boolean bad;

    /** Whether a count is one the narrow sorted form holds as it is: a whole number, not negative, not huge. */
    static boolean whole(double count) {
        return count >= 0 && count <= SortedBins.NARROW_MAX && count == Math.rint(count);
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
}
