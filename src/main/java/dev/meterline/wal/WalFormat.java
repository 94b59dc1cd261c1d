package dev.meterline.wal;

import dev.meterline.model.SeriesKey;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
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
    private static final VarHandle BIG_ENDIAN_LONG =
            MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.BIG_ENDIAN);

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
        return crc(new CRC32C(), type, payload, off, len);
    }

    /** As above with {@code c}, which is reset first: the writer keeps one for every record it frames. */
    static int crc(CRC32C c, byte type, byte[] payload, int off, int len) {
        c.reset();
        c.update(type);
        c.update(payload, off, len);
        return (int) c.getValue();
    }

    /** A growable byte buffer that writes whole records. */
    static final class Out {
        byte[] buf = new byte[1 << 16];
        int size;
        private int recordStart = -1;
        /** Reused for every record: one encoder frames them all on one thread. */
        private final CRC32C crc = new CRC32C();

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
            putIntAt(recordStart + 5, crc(crc, buf[recordStart], buf, payloadOff, len));
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
            BIG_ENDIAN_LONG.set(buf, size, v);
            size += 8;
        }

        /**
         * One point of a samples record: its series reference (varint), its timestamp's delta from the previous
         * point (zigzag varint) and its value's bits (8 bytes), the same bytes as those three calls with one bound
         * check instead of three.
         */
        void sample(int ref, long delta, long valueBits) {
            ensure(5 + 10 + 8);
            byte[] b = buf;
            int at = size;
            int r = ref;
            while ((r & ~0x7F) != 0) {
                b[at++] = (byte) ((r & 0x7F) | 0x80);
                r >>>= 7;
            }
            b[at++] = (byte) r;
            long z = (delta << 1) ^ (delta >> 63);
            while ((z & ~0x7FL) != 0) {
                b[at++] = (byte) ((z & 0x7F) | 0x80);
                z >>>= 7;
            }
            b[at++] = (byte) z;
            BIG_ENDIAN_LONG.set(b, at, valueBits);
            size = at + 8;
        }

        void string(String s) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            varint(b.length);
            ensure(b.length);
            System.arraycopy(b, 0, buf, size, b.length);
            size += b.length;
        }

        /**
         * A series record. When the key's strings are all ASCII and shorter than 128 characters (and it has fewer
         * than 128 tags), its encoded content already is the record's strings, byte for byte: copied as one block,
         * with the tag count put in after the metric. Otherwise each string is encoded as UTF-8.
         */
        void series(int ref, SeriesKey key) {
            begin(SERIES);
            varint(ref);
            int tags = key.tagCount();
            int n = key.contentLength();
            if (tags < 0x80) {
                ensure(n + 1);
                int at = size + 1;
                key.copyContent(buf, at);
                if (plain(buf, at, n)) {
                    // The metric (its length byte and characters) moves one byte down; the tag count fills the gap.
                    int metric = 1 + buf[at];
                    System.arraycopy(buf, at, buf, size, metric);
                    buf[size + metric] = (byte) tags;
                    size += n + 1;
                    end();
                    return;
                }
            }
            seriesStrings(key);
            end();
        }

        /** The body of a series record after its reference, each string encoded on its own. */
        void seriesStrings(SeriesKey key) {
            string(key.metric());
            varint(key.tagCount());
            for (int i = 0; i < key.tagCount(); i++) {
                string(key.tagKey(i));
                string(key.tagValue(i));
            }
        }

        private static boolean plain(byte[] b, int from, int n) {
            int any = 0;
            for (int i = from, to = from + n; i < to; i++) {
                any |= b[i];
            }
            return any >= 0;
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
