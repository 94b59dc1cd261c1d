package dev.meterline.wal;

import dev.meterline.model.SeriesKey;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/** The record encoder's shortcuts write the same bytes as the plain encoding, and those bytes read back. */
class WalFormatTest {

    private static byte[] bytes(WalFormat.Out out) {
        return Arrays.copyOf(out.buf, out.size);
    }

    /** A series record as each string encoded on its own: the format's definition. */
    private static byte[] plainSeries(int ref, SeriesKey key) {
        WalFormat.Out out = new WalFormat.Out();
        out.begin(WalFormat.SERIES);
        out.varint(ref);
        out.seriesStrings(key);
        out.end();
        return bytes(out);
    }

    private static void assertSeriesRecord(int ref, SeriesKey key) {
        WalFormat.Out out = new WalFormat.Out();
        out.series(ref, key);
        byte[] written = bytes(out);
        assertArrayEquals(plainSeries(ref, key), written, key.toString());

        WalFormat.In in = new WalFormat.In(written, WalFormat.FRAME, written.length - WalFormat.FRAME);
        assertEquals(ref, in.varint32());
        String metric = in.string();
        int tags = in.varint32();
        String[] pairs = new String[2 * tags];
        for (int i = 0; i < pairs.length; i++) {
            pairs[i] = in.string();
        }
        assertFalse(in.more());
        SeriesKey read = SeriesKey.ofPairs(metric, pairs, tags);
        assertEquals(key, read);
        assertEquals(key.metric(), read.metric());
        assertEquals(key.tags(), read.tags());
    }

    @Test
    void everyRecordOfOneBufferCarriesTheChecksumOfItsOwnBytes() {
        WalFormat.Out out = new WalFormat.Out();
        int[] starts = new int[20];
        for (int r = 0; r < starts.length; r++) {
            starts[r] = out.size;
            out.begin(WalFormat.SAMPLES);
            for (int i = 0; i <= r; i++) {
                out.varint(r * 1000L + i);
            }
            out.end();
        }
        byte[] written = bytes(out);
        for (int r = 0; r < starts.length; r++) {
            int at = starts[r];
            int len = readInt(written, at + 1);
            int crc = readInt(written, at + 5);
            assertEquals(WalFormat.crc(written[at], written, at + WalFormat.FRAME, len), crc, "record " + r);
        }
    }

    private static int readInt(byte[] b, int at) {
        return (b[at] & 0xFF) << 24 | (b[at + 1] & 0xFF) << 16 | (b[at + 2] & 0xFF) << 8 | (b[at + 3] & 0xFF);
    }

    @Test
    void asciiSeriesRecordsAreTheKeysContentWithTheTagCountPutIn() {
        assertSeriesRecord(0, SeriesKey.of("cpu", Map.of("host", "web-1", "region", "eu")));
        assertSeriesRecord(300, SeriesKey.of("app.metric042", Map.of()));
        assertSeriesRecord(Integer.MAX_VALUE, SeriesKey.of("", Map.of("", "")));
        assertSeriesRecord(5, SeriesKey.of("m".repeat(127), Map.of("k".repeat(127), "v".repeat(127))));
    }

    @Test
    void keysWithOtherCharactersOrLongStringsAreEncodedAsUtf8() {
        assertSeriesRecord(1, SeriesKey.of("température", Map.of("host", "a")));
        assertSeriesRecord(2, SeriesKey.of("cpu", Map.of("ville", "Zürich", "host", "web-1")));
        assertSeriesRecord(3, SeriesKey.of("cpu", Map.of("emoji", "\uD83D\uDE00")));
        assertSeriesRecord(4, SeriesKey.of("m".repeat(128), Map.of("host", "a")));
        assertSeriesRecord(5, SeriesKey.of("m", Map.of("host", "h".repeat(1000))));
    }

    /** A byte with its high bit set is seen wherever it lies in a key's content. */
    @Test
    void anOtherCharacterAnywhereInTheKeyIsEncodedAsUtf8() {
        int ref = 10;
        for (int at = 0; at < 40; at++) {
            String value = "v".repeat(at) + "é" + "w".repeat(at % 9);
            assertSeriesRecord(ref++, SeriesKey.of("cpu", Map.of("host", value)));
            assertSeriesRecord(ref++, SeriesKey.of("c".repeat(1 + at) + "ü", Map.of("k", "v")));
        }
        for (int length = 120; length < 136; length++) {
            assertSeriesRecord(ref++, SeriesKey.of("m", Map.of("host", "h".repeat(length))));
        }
    }

    @Test
    void keysWithManyTagsAreEncodedStringByString() {
        for (int count : new int[] {127, 128, 300}) {
            Map<String, String> tags = new LinkedHashMap<>();
            for (int i = 0; i < count; i++) {
                tags.put("k" + i, "v" + i);
            }
            assertSeriesRecord(count, SeriesKey.of("many", tags));
        }
    }

    @Test
    void aSampleIsItsReferenceDeltaAndValueAsSeparateFields() {
        int[] refs = {0, 1, 127, 128, 16_383, 16_384, 100_000, Integer.MAX_VALUE};
        long[] deltas = {0, 1, -1, 63, -64, 64, 1_000, -1_000_000, Long.MAX_VALUE, Long.MIN_VALUE};
        double[] values = {0.0, -0.0, 1.5, Double.NaN, Double.MAX_VALUE, Double.NEGATIVE_INFINITY};
        WalFormat.Out fast = new WalFormat.Out();
        WalFormat.Out plain = new WalFormat.Out();
        for (int ref : refs) {
            for (long delta : deltas) {
                for (double value : values) {
                    long bits = Double.doubleToRawLongBits(value);
                    fast.sample(ref, delta, bits);
                    plain.varint(ref);
                    plain.zigzag(delta);
                    // The value's 8 bytes, most significant first (the buffer of 64 KiB holds every case).
                    for (int i = 56; i >= 0; i -= 8) {
                        plain.buf[plain.size++] = (byte) (bits >>> i);
                    }
                }
            }
        }
        assertArrayEquals(bytes(plain), bytes(fast));

        WalFormat.In in = new WalFormat.In(fast.buf, 0, fast.size);
        for (int ref : refs) {
            for (long delta : deltas) {
                for (double value : values) {
                    assertEquals(ref, in.varint32());
                    assertEquals(delta, in.zigzag());
                    assertEquals(Double.doubleToRawLongBits(value), in.fixed64());
                }
            }
        }
        assertFalse(in.more());
    }
}
