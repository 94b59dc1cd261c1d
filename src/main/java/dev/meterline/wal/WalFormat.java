package dev.meterline.wal;

import dev.meterline.model.SeriesKey;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.zip.CRC32C;

/**
 * The log's byte format. A segment is a sequence of records, each {@code [type:1][length:4][crc32c:4][payload]},
 * the checksum over the type byte and the payload. The first record of a segment is its header; a series is defined
 * once per segment (its reference is then used by the sample records of that segment), so every segment reads on
 * its own and any prefix of segments may be dropped.
 */
final class WalFormat {

    static final byte HEADER = 1;
    static final byte SERIES = 2;
    static final byte SAMPLES = 3;
    static final byte CLOSE = 4;
    static final byte CLOSE_ALL = 5;

    static final int MAGIC = 0x4D4C5741; // "MLWA"
    static final int VERSION = 1;
    static final int FRAME = 9;
    /** The longest payload a reader accepts; anything longer is a damaged length field. */
    static final int MAX_PAYLOAD = 64 << 20;
    static final String SUFFIX = ".wal";

    private WalFormat() {
    }

    static String fileName(long segment) {
        return String.format("%016d%s", segment, SUFFIX);
    }

    /** The segment number of a file name, or -1 when the name is not a segment's. */
    static long segmentOf(String name) {
        if (!name.endsWith(SUFFIX) || name.length() != 16 + SUFFIX.length()) {
            return -1;
        }
        try {
            return Long.parseLong(name.substring(0, 16));
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    static int crc(byte type, byte[] payload, int off, int len) {
        CRC32C c = new CRC32C();
        c.update(type);
        c.update(payload, off, len);
        return (int) c.getValue();
    }

    /** A growable byte buffer that writes whole records. */
    static final class Out {
        byte[] buf = new byte[1 << 16];
        int size;
        private int recordStart = -1;

        void begin(byte type) {
            ensure(FRAME);
            recordStart = size;
            buf[size] = type;
            size += FRAME;
        }

        void end() {
            int payloadOff = recordStart + FRAME;
            int len = size - payloadOff;
            putIntAt(recordStart + 1, len);
            putIntAt(recordStart + 5, crc(buf[recordStart], buf, payloadOff, len));
            recordStart = -1;
        }

        void reset() {
            size = 0;
        }

        private void ensure(int n) {
            if (size + n > buf.length) {
                buf = Arrays.copyOf(buf, Math.max(buf.length * 2, size + n));
            }
        }

        private void putIntAt(int at, int v) {
            buf[at] = (byte) (v >>> 24);
            buf[at + 1] = (byte) (v >>> 16);
            buf[at + 2] = (byte) (v >>> 8);
            buf[at + 3] = (byte) v;
        }

        void varint(long v) {
            ensure(10);
            while ((v & ~0x7FL) != 0) {
                buf[size++] = (byte) ((v & 0x7F) | 0x80);
                v >>>= 7;
            }
            buf[size++] = (byte) v;
        }

        void zigzag(long v) {
            varint((v << 1) ^ (v >> 63));
        }

        void fixed64(long v) {
            ensure(8);
            for (int i = 56; i >= 0; i -= 8) {
                buf[size++] = (byte) (v >>> i);
            }
        }

        void string(String s) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            varint(b.length);
            ensure(b.length);
            System.arraycopy(b, 0, buf, size, b.length);
            size += b.length;
        }

        void series(int ref, SeriesKey key) {
            begin(SERIES);
            varint(ref);
            string(key.metric());
            varint(key.tagCount());
            for (int i = 0; i < key.tagCount(); i++) {
                string(key.tagKey(i));
                string(key.tagValue(i));
            }
            end();
        }
    }

    /** Reads the payload of one record; every read past its end throws {@link Malformed}. */
    static final class In {
        private final byte[] buf;
        private int pos;
        private final int end;

        In(byte[] buf, int off, int len) {
            this.buf = buf;
            this.pos = off;
            this.end = off + len;
        }

        boolean more() {
            return pos < end;
        }

        long varint() {
            long v = 0;
            for (int shift = 0; shift < 64; shift += 7) {
                byte b = next();
                v |= (long) (b & 0x7F) << shift;
                if (b >= 0) {
                    return v;
                }
            }
            throw new Malformed("varint too long");
        }

        int varint32() {
            long v = varint();
            if (v < 0 || v > Integer.MAX_VALUE) {
                throw new Malformed("value out of range: " + v);
            }
            return (int) v;
        }

        long zigzag() {
            long v = varint();
            return (v >>> 1) ^ -(v & 1);
        }

        long fixed64() {
            long v = 0;
            for (int i = 0; i < 8; i++) {
                v = (v << 8) | (next() & 0xFF);
            }
            return v;
        }

        String string() {
            int n = varint32();
            if (n > end - pos) {
                throw new Malformed("string of " + n + " bytes past the record's end");
            }
            String s = new String(buf, pos, n, StandardCharsets.UTF_8);
            pos += n;
            return s;
        }

        private byte next() {
            if (pos >= end) {
                throw new Malformed("record ends early");
            }
            return buf[pos++];
        }
    }

    /** A record whose checksum held but whose payload does not parse. */
    static final class Malformed extends RuntimeException {
        private static final long serialVersionUID = 1L;

        Malformed(String message) {
            super(message, null, false, false);
        }
    }
}
