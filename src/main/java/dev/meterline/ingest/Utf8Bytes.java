package dev.meterline.ingest;

/** Reads UTF-8 byte sequences by their bit patterns, without decoding a line into a string. */
final class Utf8Bytes {

    private Utf8Bytes() {
    }

    /** The index of the first byte that does not start a well-formed UTF-8 sequence, or -1. */
    static int firstInvalidUtf8(byte[] data, int from, int to) {
        int i = from;
        while (i < to) {
            int b = data[i] & 0xFF;
            if (b < 0x80) {
                i++;
                continue;
            }
            int n;
            int min;
            int max = 0xBF;
            if (b >= 0xC2 && b <= 0xDF) {
                n = 1;
                min = 0x80;
            } else if (b >= 0xE0 && b <= 0xEF) {
                n = 2;
                min = b == 0xE0 ? 0xA0 : 0x80;
                max = b == 0xED ? 0x9F : 0xBF;
            } else if (b >= 0xF0 && b <= 0xF4) {
                n = 3;
                min = b == 0xF0 ? 0x90 : 0x80;
                max = b == 0xF4 ? 0x8F : 0xBF;
            } else {
                return i;
            }
            if (i + n >= to) {
                return i;
            }
            int second = data[i + 1] & 0xFF;
            if (second < min || second > max) {
                return i;
            }
            for (int k = 2; k <= n; k++) {
                int c = data[i + k] & 0xFF;
                if (c < 0x80 || c > 0xBF) {
                    return i;
                }
            }
            i += n + 1;
        }
        return -1;
    }

    /**
     * The code point of the UTF-8 sequence at {@code data[i]} decoded by its bit pattern alone (overlong forms
     * pass), or -1 when the bytes do not form one.
     */
    static int lenientCodePoint(byte[] data, int i, int end) {
        int b = data[i] & 0xFF;
        int n;
        int c;
        if (b < 0x80) {
            return b;
        } else if (b >= 0xC0 && b <= 0xDF) {
            n = 1;
            c = b & 0x1F;
        } else if (b >= 0xE0 && b <= 0xEF) {
            n = 2;
            c = b & 0x0F;
        } else if (b >= 0xF0 && b <= 0xF7) {
            n = 3;
            c = b & 0x07;
        } else {
            return -1;
        }
        for (int k = 1; k <= n; k++) {
            if (i + k >= end || (data[i + k] & 0xC0) != 0x80) {
                return -1;
            }
            c = (c << 6) | (data[i + k] & 0x3F);
        }
        return c;
    }

    /** True when {@code data[at, end)} is the start of a well-formed multi-byte sequence that the end cuts short. */
    static boolean cutShort(byte[] data, int at, int end) {
        int b = data[at] & 0xFF;
        int n = b >= 0xC2 && b <= 0xDF ? 1 : b >= 0xE0 && b <= 0xEF ? 2 : b >= 0xF0 && b <= 0xF4 ? 3 : 0;
        if (n == 0 || at + n < end) {
            return false;
        }
        for (int i = at + 1; i < end; i++) {
            if ((data[i] & 0xC0) != 0x80) {
                return false;
            }
        }
        return true;
    }
}
