package dev.meterline.ingest;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * Eight bytes of an array read as one word, the first byte in the lowest bits, and the tests the readers run on
 * such words to find a byte without looking at the bytes one by one.
 */
final class Words {

    /** 0x01 in every byte. */
    static final long ONES = 0x0101_0101_0101_0101L;
    /** The top bit of every byte. */
    static final long HIGHS = 0x8080_8080_8080_8080L;

    private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

    private Words() {
    }

    /** The eight bytes {@code b[i, i + 8)}, {@code b[i]} in the lowest bits. */
    static long at(byte[] b, int i) {
        return (long) LONGS.get(b, i);
    }

    /** {@code c} in every byte. */
    static long repeated(char c) {
        return (c & 0xFFL) * ONES;
    }

    /**
     * The top bit of the lowest zero byte of {@code x} set, and perhaps of later bytes (a borrow only runs from a
     * zero byte into the ones after it), never of earlier ones; 0 when no byte is zero.
     */
    static long zeroBytes(long x) {
        return (x - ONES) & ~x & HIGHS;
    }

    /**
     * The index of the first byte of {@code b[from, to)} that is the byte {@code pattern} repeats ({@link #repeated}),
     * or -1; sixteen bytes per step, two words tested with one branch, then eight.
     */
    static int indexOf(byte[] b, int from, int to, long pattern) {
        int i = from;
        for (; i + 16 <= to; i += 16) {
            long low = zeroBytes(at(b, i) ^ pattern);
            long high = zeroBytes(at(b, i + 8) ^ pattern);
            // Without a zero byte in the low word, its marks are 0 and the high word's lowest mark is exact.
            if ((low | high) != 0) {
                return low != 0 ? i + first(low) : i + 8 + first(high);
            }
        }
        for (; i + 8 <= to; i += 8) {
            // A byte of the word is zero where the byte sought is.
            long marks = zeroBytes(at(b, i) ^ pattern);
            if (marks != 0) {
                return i + first(marks);
            }
        }
        byte c = (byte) pattern;
        for (; i < to; i++) {
            if (b[i] == c) {
                return i;
            }
        }
        return -1;
    }

    /** The position, 0 to 7, of the lowest byte whose top bit {@code marks} sets; {@code marks} is not 0. */
    static int first(long marks) {
        return Long.numberOfTrailingZeros(marks) >>> 3;
    }
}
