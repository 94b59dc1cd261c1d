package dev.meterline.export;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.WireFormat;
import dev.meterline.model.Aggregate;
import dev.meterline.model.PrometheusNames;
import dev.meterline.model.SeriesKey;
import dev.meterline.store.ExportRow;
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
        assertEquals(9, new WindowSamples(encoder).add(key, true, a, end));
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
        assertEquals(2, new WindowSamples(encoder).add(SeriesKey.of("m", Map.of()), false, empty, 10_000));
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

    /**
     * Windows of random series (tags that sort before and after {@code __name__} and {@code quantile}, colliding
     * metrics, empty windows, NaN bounds, one value, extremes) encode byte for byte as the reference encoding of
     * each sample's full sorted label set does, from a merged aggregate and from one stored partial alike.
     */
    @Test
    void theSamplesOfAWindowEncodeAsTheirSortedLabelSetsDo() {
        Random random = new Random(31);
        String[] keys = {"A", "Zone", "_x", "__y", "a", "host", "le", "quantile", "quantilf", "r", "z", "é", "0d"};
        String[] metrics = {"cpu", "cpu.usage", "http_latency", "9x", "m"};
        WriteRequestEncoder encoder = new WriteRequestEncoder(16);
        WindowSamples samples = new WindowSamples(encoder);
        WriteRequestEncoder reference = new WriteRequestEncoder(16);
        int added = 0;
        for (int w = 0; w < 3_000; w++) {
            Map<String, String> tags = new LinkedHashMap<>();
            for (int t = random.nextInt(5); t > 0; t--) {
                tags.put(keys[random.nextInt(keys.length)], "v" + random.nextInt(100));
            }
            SeriesKey key = SeriesKey.of(metrics[random.nextInt(metrics.length)], tags);
            boolean collides = random.nextBoolean();
            Aggregate a = randomAggregate(random);
            long end = 1_700_000_000_000L + w * 10_000L;
            int before = reference.samples();
            referenceAdd(reference, key, collides, Aggregate.restore(a.count(), a.sum(), a.min(), a.max(), a.last(),
                    a.firstTimestamp(), a.lastTimestamp(), a.late(), a.sketchBytes()), end);
            int expected = reference.samples() - before;
            if (random.nextBoolean()) {
                assertEquals(expected, samples.add(key, collides, a.copy(), end));
            } else {
                ExportRow row = new ExportRow(key, end - 10_000, a.count(), a.sum(),
                        a.count() == 0 ? Double.NaN : a.min(), a.count() == 0 ? Double.NaN : a.max(), a.last(),
                        a.firstTimestamp(), a.lastTimestamp(), a.late(), a.sketchBytes());
                assertEquals(expected, samples.add(row, collides, end));
            }
            added += expected;
            if (random.nextInt(100) == 0) {
                samples.clearNames();
            }
        }
        assertEquals(reference.samples(), encoder.samples());
        assertTrue(added > 20_000, "samples: " + added);
        assertArrayEquals(Arrays.copyOf(reference.array(), reference.length()),
                Arrays.copyOf(encoder.array(), encoder.length()));
    }

    private static Aggregate randomAggregate(Random random) {
        Aggregate a = new Aggregate();
        long t = 1_700_000_000_000L;
        switch (random.nextInt(8)) {
            case 0 -> a.markLate();
            case 1 -> a.accept(random.nextGaussian() * 100, t);
            case 2 -> {
                a.accept(Double.MAX_VALUE / 4, t);
                a.accept(-Double.MAX_VALUE / 4, t + 1);
                a.accept(Double.MIN_NORMAL, t + 2);
                a.accept(0, t + 3);
            }
            default -> {
                int n = 1 + random.nextInt(random.nextBoolean() ? 20 : 3000);
                double scale = Math.pow(10, random.nextInt(12) - 4);
                for (int i = 0; i < n; i++) {
                    double v = random.nextInt(10) == 0 ? -random.nextDouble() * scale : random.nextDouble() * scale;
                    a.accept(random.nextInt(50) == 0 ? 0 : v, t + random.nextInt(10_000));
                }
            }
        }
        return a;
    }

    /** Each sample as one series of its full label set, sorted in a map, as the encoding is defined. */
    private static void referenceAdd(WriteRequestEncoder encoder, SeriesKey key, boolean collides, Aggregate a,
                                     long end) {
        java.util.TreeMap<String, String> labels = PrometheusNames.labels(key, collides);
        String base = PrometheusNames.baseName(key.metric());
        for (PrometheusNames.Stat stat : PrometheusNames.Stat.values()) {
            double v = stat.of(a);
            if (Double.isNaN(v) || a.count() == 0 && stat != PrometheusNames.Stat.COUNT
                    && stat != PrometheusNames.Stat.SUM) {
                continue;
            }
            java.util.TreeMap<String, String> l = new java.util.TreeMap<>(labels);
            l.put("__name__", stat.sampleName(base));
            encoder.add(pairs(l), end, v);
        }
        if (a.count() == 0) {
            return;
        }
        for (int i = 0; i < PrometheusNames.QUANTILES.size(); i++) {
            double v = a.valueAtQuantile(PrometheusNames.QUANTILES.get(i));
            if (Double.isNaN(v)) {
                continue;
            }
            java.util.TreeMap<String, String> l = new java.util.TreeMap<>(labels);
            l.put("__name__", base);
            l.put(PrometheusNames.QUANTILE_LABEL, PrometheusNames.QUANTILE_VALUES.get(i));
            encoder.add(pairs(l), end, v);
        }
    }

    private static byte[][] pairs(Map<String, String> labels) {
        byte[][] out = new byte[labels.size() * 2][];
        int i = 0;
        for (Map.Entry<String, String> e : labels.entrySet()) {
            out[i++] = utf8(e.getKey());
            out[i++] = utf8(e.getValue());
        }
        return out;
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
