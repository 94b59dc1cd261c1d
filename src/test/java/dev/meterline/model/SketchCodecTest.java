package dev.meterline.model;

import com.datadoghq.sketch.ddsketch.DDSketch;
import com.datadoghq.sketch.ddsketch.encoding.BinEncodingMode;
import com.datadoghq.sketch.ddsketch.encoding.Flag;
import com.datadoghq.sketch.ddsketch.encoding.GrowingByteArrayOutput;
import com.datadoghq.sketch.ddsketch.encoding.Output;
import com.datadoghq.sketch.ddsketch.encoding.VarEncodingHelper;
import com.datadoghq.sketch.ddsketch.mapping.LogarithmicMapping;
import com.datadoghq.sketch.ddsketch.store.CollapsingLowestDenseStore;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.RepetitionInfo;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

/**
 * The codec's encoder against the encoder it replaced (which wrote through the library's output and variable-length
 * helpers) on random bins, and against the library's own encoding of a sketch holding the same values.
 */
final class SketchCodecTest {

    private static final LogarithmicMapping MAPPING = new LogarithmicMapping(Aggregate.RELATIVE_ACCURACY);
    private static final SketchCodec CODEC = new SketchCodec(MAPPING);

    private static DDSketch sketch() {
        return new DDSketch(MAPPING, () -> new CollapsingLowestDenseStore(Aggregate.MAX_BINS));
    }

    private static byte[] libraryBytes(DDSketch sketch) throws IOException {
        GrowingByteArrayOutput out = GrowingByteArrayOutput.withDefaultInitialCapacity();
        sketch.encode(out, false);
        return out.trimmedCopy();
    }

    private static byte[] codecBytes(DDSketch sketch) {
        double binned = sketch.getPositiveValueStore().getTotalCount() + sketch.getNegativeValueStore().getTotalCount();
        long zeros = Math.round(sketch.getCount() - binned);
        return CODEC.encode(zeros, BinCounts.of(sketch.getPositiveValueStore()),
                BinCounts.of(sketch.getNegativeValueStore()));
    }

    /** A count of one shape: mostly small, some up to the double's exact integers and past them. */
    private static long count(Random rnd) {
        return switch (rnd.nextInt(6)) {
            case 0 -> 1L + rnd.nextInt(1 << 20);
            case 1 -> 1L + (rnd.nextLong() >>> (11 + rnd.nextInt(40)));
            case 2 -> (1L << 53) + (rnd.nextLong() >>> 20) * 2;
            default -> 1 + rnd.nextInt(3);
        };
    }

    @RepeatedTest(400)
    void randomBinsEncodeAsThePreviousEncoderWroteThem(RepetitionInfo rep) throws IOException {
        Random rnd = new Random(rep.getCurrentRepetition() * 104_729L);
        DDSketch sketch = sketch();
        int values = rnd.nextInt(rnd.nextBoolean() ? 20 : 3_000);
        // Spreads from one bin to ranges past the store's bins (which collapse), in one sign, the other or both.
        double center = Math.pow(10, rnd.nextInt(121) - 60);
        double spread = Math.pow(10, rnd.nextInt(7) - 3);
        int signs = rnd.nextInt(3);
        for (int i = 0; i < values; i++) {
            double v = center * Math.pow(1 + spread, rnd.nextGaussian() * 40);
            if (!(v < MAPPING.maxIndexableValue())) {
                continue;
            }
            if (signs == 1 || signs == 2 && rnd.nextBoolean()) {
                v = -v;
            }
            if (rnd.nextInt(50) == 0) {
                v = 0;
            }
            sketch.accept(v, count(rnd));
        }
        double binned = sketch.getPositiveValueStore().getTotalCount() + sketch.getNegativeValueStore().getTotalCount();
        long zeros = Math.round(sketch.getCount() - binned);
        BinCounts positive = BinCounts.of(sketch.getPositiveValueStore());
        BinCounts negative = BinCounts.of(sketch.getNegativeValueStore());
        assertArrayEquals(PreviousEncoder.encode(MAPPING, zeros, positive, negative),
                CODEC.encode(zeros, positive, negative), "repetition " + rep.getCurrentRepetition());
    }

    @RepeatedTest(100)
    void randomSketchesOfSingleValuesEncodeAsTheLibraryEncodesThem(RepetitionInfo rep) throws IOException {
        Random rnd = new Random(rep.getCurrentRepetition() * 7_561L);
        DDSketch sketch = sketch();
        double scale = Math.pow(10, rnd.nextInt(61) - 30);
        double width = 1 + rep.getCurrentRepetition() % 9;
        for (int i = 0, n = rnd.nextInt(2_000); i < n; i++) {
            double v = rnd.nextInt(20) == 0 ? 0 : scale * Math.exp(rnd.nextGaussian() * width);
            sketch.accept(rnd.nextInt(4) == 0 ? -v : v);
        }
        assertArrayEquals(libraryBytes(sketch), codecBytes(sketch), "repetition " + rep.getCurrentRepetition());
    }

    @Test
    void sparseAndContiguousLayoutsAndTheirTieEncodeAsTheLibrarysDo() throws IOException {
        // Two bins far apart (index deltas), a run of neighbours (contiguous counts), and gaps of one and two bins,
        // which cost about the same either way.
        double[][] cases = {{1, 1e6}, {1, 1.02, 1.0404, 1.0612}, {1, 1.0404}, {1, 1.0612}, {-1, -1e-9, 3}};
        for (double[] values : cases) {
            DDSketch sketch = sketch();
            for (double v : values) {
                sketch.accept(v);
            }
            assertArrayEquals(libraryBytes(sketch), codecBytes(sketch), java.util.Arrays.toString(values));
        }
    }

    @Test
    void anAggregatesDenseBinsEncodeAsTheLibrarysStore() throws IOException {
        Random rnd = new Random(5);
        DDSketch sketch = sketch();
        Aggregate a = new Aggregate();
        for (int i = 0; i < 5_000; i++) {
            double v = 1 + rnd.nextInt(9_999) / 100.0;
            sketch.accept(v);
            a.accept(v, i);
        }
        assertInstanceOf(DenseBins.class, a.bins(false));
        assertArrayEquals(libraryBytes(sketch), a.sketchBytes());
    }

    @Test
    void onlyZerosEncodeAsTheMappingAndTheZeroCount() throws IOException {
        DDSketch sketch = sketch();
        sketch.accept(0, 7);
        byte[] bytes = codecBytes(sketch);
        assertArrayEquals(libraryBytes(sketch), bytes);
        assertEquals(7, CODEC.decode(bytes, Aggregate.MAX_BINS).zeros());
    }

    /** Values of a window of one shape: few or many, one sign or both, zeros, spans past the store's bins. */
    private static double[] windowValues(Random rnd) {
        int n = switch (rnd.nextInt(4)) {
            case 0 -> 1 + rnd.nextInt(4);
            case 1 -> 1 + rnd.nextInt(40);
            case 2 -> 1 + rnd.nextInt(200);
            default -> 1 + rnd.nextInt(3_000);
        };
        int shape = rnd.nextInt(7);
        double scale = Math.pow(10, rnd.nextInt(201) - 100);
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            v[i] = switch (shape) {
                case 0 -> rnd.nextInt(10_000) / 100.0;
                case 1 -> -scale * (1 + rnd.nextInt(500) / 100.0);
                case 2 -> rnd.nextInt(4) == 0 ? 0 : scale * Math.exp(rnd.nextGaussian() * 2) * (rnd.nextBoolean() ? 1 : -1);
                // Magnitudes from 1e-300 to 1e300: more bins than a store keeps, so the lowest collapse.
                case 3 -> Math.pow(10, rnd.nextDouble() * 600 - 300) * (rnd.nextInt(3) == 0 ? -1 : 1);
                // Mostly one narrow range, now and then a value far above it: collapses in some batches only.
                case 4 -> rnd.nextInt(30) == 0 ? 1e250 : 1 + rnd.nextInt(50) / 100.0;
                case 5 -> new double[] {0, -0.0, 1e-320, 1, -1, 2, 1e300}[rnd.nextInt(7)];
                default -> scale * (1 + rnd.nextInt(3));
            };
        }
        return v;
    }

    @RepeatedTest(500)
    void windowsEncodeAsTheLibraryAndThePreviousEncoderOverTheLibrarysBins(RepetitionInfo rep) throws IOException {
        Random rnd = new Random(rep.getCurrentRepetition() * 31_337L);
        DDSketch sketch = sketch();
        Aggregate a = new Aggregate();
        Aggregate merged = new Aggregate();
        Aggregate part = new Aggregate();
        double[] values = windowValues(rnd);
        for (int i = 0; i < values.length; i++) {
            sketch.accept(values[i]);
            a.accept(values[i], i);
            part.accept(values[i], i);
            if (rnd.nextInt(20) == 0) {
                merged.mergeWith(part);
                part = new Aggregate();
            }
        }
        merged.mergeWith(part);
        String what = "repetition " + rep.getCurrentRepetition() + ", " + values.length + " values";
        byte[] library = libraryBytes(sketch);
        double binned = sketch.getPositiveValueStore().getTotalCount() + sketch.getNegativeValueStore().getTotalCount();
        byte[] previous = PreviousEncoder.encode(MAPPING, Math.round(sketch.getCount() - binned),
                BinCounts.of(sketch.getPositiveValueStore()), BinCounts.of(sketch.getNegativeValueStore()));
        assertArrayEquals(library, previous, what);
        assertArrayEquals(library, a.copy().sketchBytes(), what + ", copied");
        assertArrayEquals(library, a.sketchBytes(), what);
        assertArrayEquals(library, merged.sketchBytes(), what + ", merged");
    }

    @RepeatedTest(500)
    void batchesAddToNarrowBinsAsTheGeneralMergeAddsThem(RepetitionInfo rep) throws IOException {
        Random rnd = new Random(rep.getCurrentRepetition() * 65_537L);
        int origin = rnd.nextInt(4_001) - 2_000;
        int width = 1 + rnd.nextInt(rnd.nextBoolean() ? 40 : 2_200);
        BinCounts fast = null;
        BinCounts general = null;
        for (int round = 0, rounds = 1 + rnd.nextInt(30); round < rounds; round++) {
            int n = 1 + rnd.nextInt(rnd.nextInt(8) == 0 ? 300 : 16);
            double[] batch = new double[n];
            for (int k = 0; k < n; k++) {
                batch[k] = origin + rnd.nextInt(width) - (rnd.nextInt(10) == 0 ? rnd.nextInt(100) : 0);
            }
            java.util.Arrays.sort(batch);
            if (fast == null) {
                fast = BinCounts.ofIndexes(batch, 0, n);
                general = fast.copy();
                continue;
            }
            double[] copy = batch.clone();
            fast = fast.addIndexes(batch, 0, n);
            general = general instanceof SortedBins sorted ? sorted.addIndexesByMerge(copy, 0, n)
                    : general.addIndexes(copy, 0, n);
            String what = "repetition " + rep.getCurrentRepetition() + " round " + round;
            assertEquals(general.getClass(), fast.getClass(), what);
            assertEquals(general.size(), fast.size(), what);
            assertEquals(general.total(), fast.total(), what);
            assertEquals(general.slots(), fast.slots(), what);
            for (int s = 0; s < fast.slots(); s++) {
                assertEquals(general.indexAt(s), fast.indexAt(s), what + " slot " + s);
                assertEquals(general.countAt(s), fast.countAt(s), what + " slot " + s);
            }
            assertArrayEquals(CODEC.encode(0, general, null), CODEC.encode(0, fast, null), what);
            if (fast instanceof SortedBins sorted && sorted.narrow()) {
                assertArrayEquals(PreviousEncoder.encode(MAPPING, 0, fast, fast),
                        CODEC.encode(0, fast, fast), what + ", both signs");
            }
        }
    }

    @RepeatedTest(500)
    void narrowBinsMergeAsTheGeneralMergeMergesThem(RepetitionInfo rep) {
        Random rnd = new Random(rep.getCurrentRepetition() * 40_503L);
        int origin = rnd.nextInt(4_001) - 2_000;
        int width = 1 + rnd.nextInt(rnd.nextBoolean() ? 60 : 2_200);
        BinCounts fast = null;
        BinCounts general = null;
        for (int round = 0, rounds = 1 + rnd.nextInt(40); round < rounds; round++) {
            int n = 1 + rnd.nextInt(rnd.nextInt(8) == 0 ? 300 : 16);
            double[] batch = new double[n];
            int shift = rnd.nextInt(10) == 0 ? rnd.nextInt(400) - 200 : 0;
            for (int k = 0; k < n; k++) {
                batch[k] = origin + shift + rnd.nextInt(width);
            }
            java.util.Arrays.sort(batch);
            BinCounts other = BinCounts.ofIndexes(batch, 0, n);
            if (rnd.nextInt(5) == 0) {
                other = other.addIndexes(batch.clone(), 0, n);
            }
            if (fast == null) {
                fast = other;
                general = other.copy();
                continue;
            }
            BinCounts before = other.copy();
            fast = fast.mergeWith(other);
            general = general instanceof SortedBins sorted && other instanceof SortedBins o
                    ? sorted.mergeWithByMerge(o) : general.mergeWith(other);
            String what = "repetition " + rep.getCurrentRepetition() + " round " + round;
            assertSameBins(before, other, what + ", merged in");
            assertSameBins(general, fast, what);
        }
    }

    /**
     * Encodings of random windows, as stored and with random bytes changed, decode to the bins the library's stores
     * give (in the same form), or fail wherever the library's decoding fails.
     */
    @RepeatedTest(500)
    void encodingsDecodeAsTheLibraryDecodesThem(RepetitionInfo rep) {
        Random rnd = new Random(rep.getCurrentRepetition() * 92_821L);
        Aggregate a = new Aggregate();
        double[] values = windowValues(rnd);
        for (int i = 0; i < values.length; i++) {
            a.accept(values[i], i);
        }
        byte[] bytes = a.sketchBytes();
        String what = "repetition " + rep.getCurrentRepetition() + ", " + values.length + " values";
        assertSameDecoding(bytes, Aggregate.MAX_BINS, what);
        assertSameDecoding(bytes, 1 + rnd.nextInt(100), what + ", few bins");
        for (int k = 0; k < 20 && bytes.length > 0; k++) {
            byte[] changed = bytes.clone();
            for (int j = 0, n = 1 + rnd.nextInt(3); j < n; j++) {
                changed[rnd.nextInt(changed.length)] = (byte) rnd.nextInt(256);
            }
            if (rnd.nextInt(4) == 0) {
                changed = java.util.Arrays.copyOf(changed, rnd.nextInt(changed.length + 3));
            }
            assertSameDecoding(changed, Aggregate.MAX_BINS, what + ", changed " + k);
        }
    }

    @Test
    void windowsThatCollapseNothingDecodeWithoutTheLibrary() throws IOException {
        Random rnd = new Random(11);
        Aggregate few = new Aggregate();
        Aggregate many = new Aggregate();
        Aggregate both = new Aggregate();
        for (int i = 0; i < 3_000; i++) {
            double v = Math.exp(rnd.nextGaussian());
            if (i < 10) {
                few.accept(v, i);
            }
            many.accept(v, i);
            both.accept(i % 5 == 0 ? 0 : i % 2 == 0 ? -v : v, i);
        }
        for (Aggregate a : new Aggregate[] {few, many, both}) {
            assertEquals(CODEC.decodeByLibrary(a.sketchBytes(), Aggregate.MAX_BINS).zeros(),
                    CODEC.decodeDirect(a.sketchBytes(), Aggregate.MAX_BINS).zeros());
        }
        assertInstanceOf(DenseBins.class, CODEC.decodeDirect(many.sketchBytes(), Aggregate.MAX_BINS).positive());
        // Bins wider than a store keeps, as an unbounded store encodes them: the library collapses them.
        DDSketch wide = new DDSketch(MAPPING, com.datadoghq.sketch.ddsketch.store.UnboundedSizeDenseStore::new);
        wide.accept(1e-300);
        wide.accept(1e300);
        byte[] bytes = libraryBytes(wide);
        assertEquals(null, CODEC.decodeDirect(bytes, Aggregate.MAX_BINS));
        assertEquals(2, CODEC.decode(bytes, Aggregate.MAX_BINS).positive().total());
    }

    private static void assertSameDecoding(byte[] bytes, int maxBins, String what) {
        SketchCodec.Decoded expected;
        try {
            expected = CODEC.decodeByLibrary(bytes, maxBins);
        } catch (RuntimeException e) {
            org.junit.jupiter.api.Assertions.assertThrows(e.getClass(), () -> CODEC.decode(bytes, maxBins), what);
            return;
        }
        SketchCodec.Decoded actual = CODEC.decode(bytes, maxBins);
        assertEquals(expected.zeros(), actual.zeros(), what);
        assertSameBins(expected.positive(), actual.positive(), what + ", positive");
        assertSameBins(expected.negative(), actual.negative(), what + ", negative");
    }

    private static void assertSameBins(BinCounts expected, BinCounts actual, String what) {
        if (expected == null || actual == null) {
            assertEquals(expected, actual, what);
            return;
        }
        assertEquals(expected.getClass(), actual.getClass(), what);
        assertEquals(expected.size(), actual.size(), what);
        assertEquals(expected.total(), actual.total(), what);
        assertEquals(expected.slots(), actual.slots(), what);
        for (int s = 0; s < expected.slots(); s++) {
            assertEquals(expected.indexAt(s), actual.indexAt(s), what + " slot " + s);
            assertEquals(expected.countAt(s), actual.countAt(s), what + " slot " + s);
        }
    }

    /** The encoder as it was before it measured its output: the library's growing output and helpers. */
    private static final class PreviousEncoder {

        private static final int ZERO_COUNT_LENGTH = VarEncodingHelper.varDoubleEncodedLength(0);

        static byte[] encode(LogarithmicMapping mapping, long zeros, BinCounts positive, BinCounts negative)
                throws IOException {
            GrowingByteArrayOutput out = GrowingByteArrayOutput.withInitialCapacity(32);
            mapping.encode(out);
            if (zeros != 0) {
                Flag.ZERO_COUNT.encode(out);
                VarEncodingHelper.encodeVarDouble(out, zeros);
            }
            store(out, positive, Flag.Type.POSITIVE_STORE);
            store(out, negative, Flag.Type.NEGATIVE_STORE);
            return out.trimmedCopy();
        }

        private static void store(Output out, BinCounts bins, Flag.Type type) throws IOException {
            if (bins == null || bins.size() == 0) {
                return;
            }
            int n = bins.size();
            int minIndex = bins.lowest();
            long span = (long) bins.highest() - minIndex + 1;
            long dense = VarEncodingHelper.unsignedVarLongEncodedLength(span)
                    + VarEncodingHelper.signedVarLongEncodedLength(minIndex)
                    + VarEncodingHelper.signedVarLongEncodedLength(1)
                    + (span - n) * ZERO_COUNT_LENGTH;
            long sparse = 0;
            long previous = 0;
            for (int i = 0; i < bins.slots(); i++) {
                long count = bins.countAt(i);
                if (count != 0) {
                    int countLength = VarEncodingHelper.varDoubleEncodedLength(count);
                    dense += countLength;
                    sparse += VarEncodingHelper.signedVarLongEncodedLength(bins.indexAt(i) - previous) + countLength;
                    previous = bins.indexAt(i);
                }
            }
            if (dense <= sparse) {
                BinEncodingMode.CONTIGUOUS_COUNTS.toFlag(type).encode(out);
                VarEncodingHelper.encodeUnsignedVarLong(out, span);
                VarEncodingHelper.encodeSignedVarLong(out, minIndex);
                VarEncodingHelper.encodeSignedVarLong(out, 1);
                int next = minIndex;
                for (int i = 0; i < bins.slots(); i++) {
                    long count = bins.countAt(i);
                    if (count != 0) {
                        for (; next < bins.indexAt(i); next++) {
                            VarEncodingHelper.encodeVarDouble(out, 0);
                        }
                        VarEncodingHelper.encodeVarDouble(out, count);
                        next = bins.indexAt(i) + 1;
                    }
                }
            } else {
                BinEncodingMode.INDEX_DELTAS_AND_COUNTS.toFlag(type).encode(out);
                VarEncodingHelper.encodeUnsignedVarLong(out, n);
                previous = 0;
                for (int i = 0; i < bins.slots(); i++) {
                    long count = bins.countAt(i);
                    if (count != 0) {
                        VarEncodingHelper.encodeSignedVarLong(out, bins.indexAt(i) - previous);
                        VarEncodingHelper.encodeVarDouble(out, count);
                        previous = bins.indexAt(i);
                    }
                }
            }
        }
    }
}
