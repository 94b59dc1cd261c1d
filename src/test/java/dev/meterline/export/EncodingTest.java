package dev.meterline.export;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.WireFormat;
import dev.meterline.model.Aggregate;
import dev.meterline.model.PrometheusNames;
import dev.meterline.model.SeriesKey;
import org.junit.jupiter.api.Test;
import org.xerial.snappy.Snappy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The remote write encoding read back by independent decoders: snappy-java's block decompressor and protobuf-java's
 * wire reader, field by field as the remote write 1.0 proto defines the messages.
 */
final class EncodingTest {

    /** A decoded TimeSeries: labels in wire order, then its samples. */
    record Series(List<Map.Entry<String, String>> labels, List<long[]> timestamps, List<Double> values) {
        Map<String, String> labelMap() {
            Map<String, String> m = new LinkedHashMap<>();
            labels.forEach(e -> m.put(e.getKey(), e.getValue()));
            return m;
        }
    }

    static List<Series> decode(byte[] compressed) throws IOException {
        byte[] raw = Snappy.uncompress(compressed);
        CodedInputStream in = CodedInputStream.newInstance(raw);
        List<Series> out = new ArrayList<>();
        while (!in.isAtEnd()) {
            int tag = in.readTag();
            assertEquals(1, WireFormat.getTagFieldNumber(tag), "WriteRequest field");
            out.add(series(in.readBytes().newCodedInput()));
        }
        return out;
    }

    private static Series series(CodedInputStream in) throws IOException {
        List<Map.Entry<String, String>> labels = new ArrayList<>();
        List<long[]> ts = new ArrayList<>();
        List<Double> values = new ArrayList<>();
        while (!in.isAtEnd()) {
            int tag = in.readTag();
            CodedInputStream m = in.readBytes().newCodedInput();
            if (WireFormat.getTagFieldNumber(tag) == 1) {
                String name = null;
                String value = "";
                while (!m.isAtEnd()) {
                    int t = m.readTag();
                    if (WireFormat.getTagFieldNumber(t) == 1) {
                        name = m.readString();
                    } else {
                        value = m.readString();
                    }
                }
                labels.add(Map.entry(name, value));
            } else {
                assertEquals(2, WireFormat.getTagFieldNumber(tag), "TimeSeries field");
                double v = 0;
                long t = 0;
                while (!m.isAtEnd()) {
                    int f = m.readTag();
                    if (WireFormat.getTagFieldNumber(f) == 1) {
                        v = m.readDouble();
                    } else {
                        t = m.readInt64();
                    }
                }
                ts.add(new long[]{t});
                values.add(v);
            }
        }
        return new Series(labels, ts, values);
    }

    @Test
    void oneWindowGivesNineSortedSeriesThatDecodeToItsValues() throws IOException {
        SeriesKey key = SeriesKey.of("http.latency", Map.of("zone", "eu-1", "Host", "web \"1\" é", "__x", "reserved"));
        Aggregate a = new Aggregate();
        for (int i = 1; i <= 1000; i++) {
            a.accept(i, 1_700_000_000_000L + i);
        }
        WriteRequestEncoder encoder = new WriteRequestEncoder(16);
        long end = 1_700_000_010_000L;
        assertEquals(9, WindowSamples.add(encoder, key, true, a, end));
        List<Series> decoded = decode(new SnappyBlock().compress(encoder.array(), encoder.length()));
        assertEquals(9, decoded.size());
        Map<String, Double> byName = new LinkedHashMap<>();
        for (Series s : decoded) {
            List<String> names = s.labels().stream().map(Map.Entry::getKey).toList();
            List<String> sorted = new ArrayList<>(names);
            sorted.sort(null);
            assertEquals(sorted, names, "label names sorted");
            Map<String, String> l = s.labelMap();
            assertEquals("web \"1\" é", l.get("Host"));
            assertEquals("eu-1", l.get("zone"));
            assertEquals("reserved", l.get("tag___x"));
            assertEquals("http.latency", l.get(PrometheusNames.METRIC_LABEL));
            assertEquals(List.of(end), s.timestamps().stream().map(t -> t[0]).toList());
            String name = l.get("__name__") + (l.containsKey("quantile") ? "{" + l.get("quantile") + "}" : "");
            byName.put(name, s.values().get(0));
        }
        assertEquals(1000.0, byName.get("http_latency_count"));
        assertEquals(500_500.0, byName.get("http_latency_sum"));
        assertEquals(1.0, byName.get("http_latency_min"));
        assertEquals(1000.0, byName.get("http_latency_max"));
        assertEquals(500.5, byName.get("http_latency_mean"));
        assertEquals(1000.0, byName.get("http_latency_last"));
        assertEquals(500, byName.get("http_latency{0.5}"), 500 * 0.02);
        assertEquals(900, byName.get("http_latency{0.9}"), 900 * 0.02);
        assertEquals(990, byName.get("http_latency{0.99}"), 990 * 0.02);
    }

    @Test
    void aWindowThatOnlyCountsLatePointsSendsCountAndSumOnly() throws IOException {
        Aggregate empty = new Aggregate();
        empty.markLate();
        WriteRequestEncoder encoder = new WriteRequestEncoder(16);
        assertEquals(2, WindowSamples.add(encoder, SeriesKey.of("m", Map.of()), false, empty, 10_000));
        List<Series> decoded = decode(new SnappyBlock().compress(encoder.array(), encoder.length()));
        assertEquals(List.of("m_count", "m_sum"), decoded.stream().map(s -> s.labelMap().get("__name__")).toList());
    }

    @Test
    void manySeriesAndSamplesRoundTripInOrder() throws IOException {
        Random random = new Random(12);
        WriteRequestEncoder encoder = new WriteRequestEncoder(16);
        List<double[]> expected = new ArrayList<>();
        for (int s = 0; s < 5_000; s++) {
            int n = 1 + random.nextInt(4);
            long[] ts = new long[n];
            double[] vs = new double[n];
            long t = random.nextLong() >>> 20;
            for (int i = 0; i < n; i++) {
                t += random.nextInt(100_000);
                ts[i] = t;
                vs[i] = random.nextBoolean() ? random.nextGaussian() * 1e12 : -random.nextInt(3);
            }
            byte[][] labels = {utf8("__name__"), utf8("m" + random.nextInt(50)), utf8("host"),
                    utf8("h-" + random.nextInt(1_000_000))};
            encoder.add(labels, ts, vs);
            expected.add(vs);
        }
        byte[] compressed = new SnappyBlock().compress(encoder.array(), encoder.length());
        assertTrue(encoder.length() > 4 * SnappyBlock.FRAGMENT, "spans several fragments: " + encoder.length());
        assertArrayEquals(Arrays.copyOf(encoder.array(), encoder.length()), Snappy.uncompress(compressed));
        List<Series> decoded = decode(compressed);
        assertEquals(expected.size(), decoded.size());
        for (int i = 0; i < expected.size(); i++) {
            double[] want = expected.get(i);
            List<Double> got = decoded.get(i).values();
            assertEquals(want.length, got.size());
            for (int k = 0; k < want.length; k++) {
                assertEquals(want[k], got.get(k));
            }
            for (int k = 1; k < got.size(); k++) {
                assertTrue(decoded.get(i).timestamps().get(k)[0] >= decoded.get(i).timestamps().get(k - 1)[0]);
            }
        }
    }

    @Test
    void randomBytesOfEveryLengthRoundTripThroughTheBlockFormat() throws IOException {
        Random random = new Random(7);
        SnappyBlock snappy = new SnappyBlock();
        for (int length : new int[]{0, 1, 15, 16, 17, 1000, 65_535, 65_536, 65_537, 200_000, 1 << 20}) {
            byte[] in = new byte[length];
            for (int i = 0; i < length; i++) {
                // Runs and repeats, so that copies are used, with noise between them.
                in[i] = (byte) (random.nextInt(8) == 0 ? random.nextInt() : i % 64 < 40 ? 'a' + i % 7 : i / 97);
            }
            byte[] compressed = snappy.compress(in, length);
            assertArrayEquals(in, Snappy.uncompress(compressed), "length " + length);
            assertEquals(length, Snappy.uncompressedLength(compressed));
        }
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
