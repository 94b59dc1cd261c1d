package dev.meterline.model;

import com.datadoghq.sketch.ddsketch.DDSketch;
import com.datadoghq.sketch.ddsketch.encoding.ByteArrayInput;
import com.datadoghq.sketch.ddsketch.encoding.GrowingByteArrayOutput;
import com.datadoghq.sketch.ddsketch.mapping.LogarithmicMapping;
import com.datadoghq.sketch.ddsketch.store.CollapsingLowestDenseStore;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.RepetitionInfo;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * An aggregate's bins held to the library's DDSketch over {@code CollapsingLowestDenseStore(MAX_BINS)} fed the same
 * values: the same quantiles, the same encoding byte for byte, whether the values arrive one by one, through merges
 * of random splits, or through a stored encoding.
 */
final class AggregateSketchPropertyTest {

    private static final double[] QUANTILES = {0, 0.01, 0.5, 0.9, 0.99, 1};
    private static final LogarithmicMapping MAPPING = new LogarithmicMapping(Aggregate.RELATIVE_ACCURACY);

    private static DDSketch reference() {
        return new DDSketch(MAPPING, () -> new CollapsingLowestDenseStore(Aggregate.MAX_BINS));
    }

    private static byte[] encoded(DDSketch sketch) throws IOException {
        GrowingByteArrayOutput out = GrowingByteArrayOutput.withDefaultInitialCapacity();
        sketch.encode(out, false);
        return out.trimmedCopy();
    }

    /** Values of one of several shapes: tiny to huge ranges, both signs, zeros, spans that force a collapse. */
    private static double[] values(Random rnd, int n) {
        int shape = rnd.nextInt(8);
        double scale = Math.pow(10, rnd.nextInt(601) - 300);
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            v[i] = switch (shape) {
                case 0 -> rnd.nextInt(10_000) / 100.0;
                case 1 -> scale * Math.exp(rnd.nextGaussian() * 3) * (rnd.nextInt(4) == 0 ? -1 : 1);
                case 2 -> rnd.nextInt(3) == 0 ? 0 : scale * (1 + rnd.nextDouble() * 1e-3);
                // Magnitudes from 1e-300 to 1e300: far more than MAX_BINS bins, so both signs collapse.
                case 3 -> Math.pow(10, rnd.nextDouble() * 600 - 300) * (rnd.nextBoolean() ? -1 : 1);
                case 4 -> rnd.nextInt(50) == 0 ? 1e250 : Math.pow(10, rnd.nextDouble() * 40 - 20);
                case 5 -> new double[] {0, -0.0, 1e-320, -1e-320, 1, -1, 1e300, -1e300, 42}[rnd.nextInt(9)];
                case 6 -> -scale * rnd.nextInt(1000);
                default -> Math.round(rnd.nextGaussian() * 1000);
            };
        }
        return v;
    }

    /** Feeds {@code n} values of the benchmark's kind (1 to 100.98 by hundredths) to both the reference and {@code a}. */
    private static void feedBoth(Random rnd, int n, DDSketch reference, Aggregate a) {
        for (int i = 0; i < n; i++) {
            double v = 1 + rnd.nextInt(9_999) / 100.0;
            reference.accept(v);
            a.accept(v, i);
        }
    }

    private static void assertSameAsReference(DDSketch reference, double min, double max, Aggregate a, String what)
            throws IOException {
        for (double q : QUANTILES) {
            double expected = reference.isEmpty() ? Double.NaN
                    : Math.max(min, Math.min(max, reference.getValueAtQuantile(q)));
            assertEquals(expected, a.valueAtQuantile(q), what + " q=" + q);
        }
        byte[] bytes = a.sketchBytes();
        if (reference.isEmpty()) {
            assertEquals(0, bytes.length, what);
            return;
        }
        assertArrayEquals(encoded(reference), bytes, what);
        DDSketch decoded = DDSketch.decode(ByteArrayInput.wrap(bytes),
                () -> new CollapsingLowestDenseStore(Aggregate.MAX_BINS), MAPPING);
        assertEquals(reference.getCount(), decoded.getCount(), what);
        for (int k = 0; k <= 200; k++) {
            double q = k / 200.0;
            assertEquals(reference.getValueAtQuantile(q), decoded.getValueAtQuantile(q), what + " decoded q=" + q);
        }
    }

    @RepeatedTest(300)
    void valuesOneByOneMergedSplitsAndRestoredEncodingsMatchTheLibrarysSketch(RepetitionInfo rep) throws IOException {
        Random rnd = new Random(rep.getCurrentRepetition() * 7919L);
        int n = rep.getCurrentRepetition() % 10 == 0 ? rnd.nextInt(5_001) : rnd.nextInt(rnd.nextBoolean() ? 40 : 800);
        double[] values = values(rnd, n);
        DDSketch reference = reference();
        Aggregate all = new Aggregate();
        double min = Double.POSITIVE_INFINITY;
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            reference.accept(values[i]);
            all.accept(values[i], i);
            min = Math.min(min, values[i]);
            max = Math.max(max, values[i]);
        }
        String what = "repetition " + rep.getCurrentRepetition() + ", n=" + n;
        assertSameAsReference(reference, min, max, all, what);

        // Random splits, some parts round-tripped through their encoding, folded together in random order.
        int parts = 1 + rnd.nextInt(6);
        List<Aggregate> partials = new ArrayList<>();
        for (int p = 0; p < parts; p++) {
            partials.add(new Aggregate());
        }
        for (int i = 0; i < n; i++) {
            partials.get(rnd.nextInt(parts)).accept(values[i], i);
        }
        for (int p = 0; p < parts; p++) {
            Aggregate part = partials.get(p);
            if (rnd.nextBoolean()) {
                partials.set(p, Aggregate.restore(part.count(), part.sum(), part.min(), part.max(), part.last(),
                        part.firstTimestamp(), part.lastTimestamp(), part.late(), part.sketchBytes()));
            }
        }
        while (partials.size() > 1) {
            Aggregate a = partials.remove(rnd.nextInt(partials.size()));
            Aggregate b = partials.remove(rnd.nextInt(partials.size()));
            Aggregate merged = rnd.nextBoolean() ? a.copy() : a;
            merged.mergeWith(b);
            partials.add(merged);
        }
        assertSameAsReference(reference, min, max, partials.get(0), what + " merged");

        Aggregate restored = Aggregate.restore(all.count(), all.sum(), all.min(), all.max(), all.last(),
                all.firstTimestamp(), all.lastTimestamp(), all.late(), all.sketchBytes());
        assertSameAsReference(reference, min, max, restored, what + " restored");
        assertArrayEquals(all.sketchBytes(), restored.copy().sketchBytes(), what);
    }

    /**
     * A window's first values, which wait as its min and max rather than in an array, answer as the library's sketch
     * after every value, read through a copy (which leaves the original as it was) or from the original itself, and
     * go on the same once a third value, a NaN or a merge makes them move into an array; zeros of either sign and
     * NaN included.
     */
    @RepeatedTest(200)
    void aWindowsFirstValuesMatchTheLibrarysSketchBeforeAndAfterTheyMove(RepetitionInfo rep) throws IOException {
        Random rnd = new Random(rep.getCurrentRepetition() * 31L + 5);
        int n = 1 + rnd.nextInt(5);
        double[] values = values(rnd, n);
        for (int i = 0; i < n; i++) {
            int pick = rnd.nextInt(8);
            if (pick == 0) {
                values[i] = Double.NaN;
            } else if (pick == 1) {
                values[i] = rnd.nextBoolean() ? 0.0 : -0.0;
            }
        }
        DDSketch reference = reference();
        Aggregate a = new Aggregate();
        double min = Double.POSITIVE_INFINITY;
        double max = Double.NEGATIVE_INFINITY;
        String what = "repetition " + rep.getCurrentRepetition() + ", values " + Arrays.toString(values);
        for (int i = 0; i < n; i++) {
            reference.accept(values[i]);
            a.accept(values[i], i);
            if (!Double.isNaN(values[i])) {
                min = Math.min(min, values[i]);
                max = Math.max(max, values[i]);
            }
            // Zeros of either sign compare equal here; the clamp takes the aggregate's own.
            assertTrue(min == a.min() && max == a.max(), what);
            assertSameAsReference(reference, a.min(), a.max(), a.copy(), what + " copy after " + (i + 1));
            assertEquals(i + 1, a.count(), what);
        }
        Aggregate other = new Aggregate();
        DDSketch both = reference.copy();
        int more = rnd.nextInt(3);
        for (int i = 0; i < more; i++) {
            double v = values(rnd, 1)[0];
            other.accept(v, 100 + i);
            both.accept(v);
            min = Math.min(min, v);
            max = Math.max(max, v);
        }
        Aggregate merged = a.copy();
        merged.mergeWith(other);
        assertTrue(min == merged.min() && max == merged.max(), what);
        assertSameAsReference(both, merged.min(), merged.max(), merged, what + " merged with " + more + " more");
        Aggregate into = other.copy();
        into.mergeWith(a);
        assertSameAsReference(both, into.min(), into.max(), into, what + " merged into " + more + " more");
        assertSameAsReference(reference, a.min(), a.max(), a, what + " itself");
    }

    /**
     * The encoding of an aggregate whose last values still wait beside its bins (none, sorted or dense bins, both
     * signs, collapsed ranges), as a closed window reaches the store, is the library's, and stays the same read
     * again and after a quantile has moved the values into the bins.
     */
    @RepeatedTest(300)
    void waitingValuesEncodeTogetherWithTheBins(RepetitionInfo rep) throws IOException {
        Random rnd = new Random(rep.getCurrentRepetition() * 6_701L);
        int n = switch (rep.getCurrentRepetition() % 4) {
            case 0 -> 1 + rnd.nextInt(Aggregate.SPARSE_MAX);
            case 1 -> Aggregate.SPARSE_MAX + 1 + rnd.nextInt(100);
            default -> rnd.nextInt(3_000);
        };
        DDSketch reference = reference();
        Aggregate a = new Aggregate();
        if (rep.getCurrentRepetition() % 5 == 0) {
            feedBoth(rnd, 2_000 + rnd.nextInt(3), reference, a);
        }
        double[] values = values(rnd, n);
        for (int i = 0; i < n; i++) {
            reference.accept(values[i]);
            a.accept(values[i], i);
        }
        String what = "repetition " + rep.getCurrentRepetition() + ", n=" + n;
        byte[] expected = reference.isEmpty() ? new byte[0] : encoded(reference);
        assertArrayEquals(expected, a.sketchBytes(), what);
        assertArrayEquals(expected, a.sketchBytes(), what + ", read again");
        a.valueAtQuantile(0.5);
        assertArrayEquals(expected, a.sketchBytes(), what + ", after binning");
    }

    /** Values past the collapse: new extremes on either side, one at a time, against the library after each. */
    @Test
    void collapseFollowsTheDenseStoreAfterEveryValue() throws IOException {
        Random rnd = new Random(3);
        DDSketch reference = reference();
        Aggregate a = new Aggregate();
        double min = Double.POSITIVE_INFINITY;
        double max = Double.NEGATIVE_INFINITY;
        double low = 1;
        double high = 1;
        for (int i = 0; i < 3_000; i++) {
            double v = switch (rnd.nextInt(3)) {
                case 0 -> low /= 1.5;
                case 1 -> high *= 1.3;
                default -> Math.exp(rnd.nextGaussian() * 20);
            };
            v = rnd.nextInt(5) == 0 ? -v : v;
            reference.accept(v);
            a.accept(v, i);
            min = Math.min(min, v);
            max = Math.max(max, v);
            if (i % 37 == 0) {
                assertSameAsReference(reference, min, max, a, "after " + i);
            }
        }
        assertSameAsReference(reference, min, max, a, "at the end");
    }

    /** Bins spanning just below, at and just above MAX_BINS, reached from the low end, the high end, and by merges. */
    @Test
    void collapseStartsExactlyWhereTheDenseStoresDoes() throws IOException {
        for (int span = Aggregate.MAX_BINS - 3; span <= Aggregate.MAX_BINS + 3; span++) {
            for (int sign : new int[] {1, -1}) {
                for (boolean highFirst : new boolean[] {false, true}) {
                    int lowIndex = -700 + span % 5;
                    double low = MAPPING.value(lowIndex);
                    double high = MAPPING.value(lowIndex + span - 1);
                    assertEquals(lowIndex + span - 1, MAPPING.index(high));
                    double[] values = {high, MAPPING.value(lowIndex + 1), low, low, MAPPING.value(lowIndex + 5), high};
                    if (highFirst) {
                        java.util.Collections.reverse(Arrays.asList(values));
                    }
                    DDSketch reference = reference();
                    Aggregate a = new Aggregate();
                    Aggregate first = new Aggregate();
                    Aggregate second = new Aggregate();
                    for (int i = 0; i < values.length; i++) {
                        double v = sign * values[i];
                        reference.accept(v);
                        a.accept(v, i);
                        (i < 2 ? first : second).accept(v, i);
                    }
                    // Bins on both sides of the merge: restored from their encodings.
                    Aggregate merged = Aggregate.restore(first.count(), first.sum(), first.min(), first.max(),
                            first.last(), first.firstTimestamp(), first.lastTimestamp(), 0, first.sketchBytes());
                    merged.mergeWith(Aggregate.restore(second.count(), second.sum(), second.min(), second.max(),
                            second.last(), second.firstTimestamp(), second.lastTimestamp(), 0, second.sketchBytes()));
                    String what = "span " + span + " sign " + sign + " highFirst " + highFirst;
                    assertSameAsReference(reference, a.min(), a.max(), a, what);
                    assertSameAsReference(reference, a.min(), a.max(), merged, what + " merged");
                }
            }
        }
    }

    /** Counts past the narrow form's field stay exact, in memory and in the encoding. */
    @Test
    void largeCountsMoveToTheWideFormExactly() throws IOException {
        DDSketch reference = reference();
        Aggregate a = new Aggregate();
        Aggregate unit = new Aggregate();
        for (double v : new double[] {1, 2, 3, -4, 0, 2}) {
            unit.accept(v, 0);
            reference.accept(v);
        }
        // Doubling through merges passes 2^21 values per sign after 20 rounds.
        a.mergeWith(unit);
        DDSketch doubled = reference.copy();
        for (int round = 0; round < 24; round++) {
            a.mergeWith(a.copy());
            doubled.mergeWith(doubled.copy());
        }
        assertTrue(a.count() > SortedBins.NARROW_MAX * 4, "count " + a.count());
        assertSameAsReference(doubled, -4, 3, a, "doubled");
    }

    @Test
    void emptyAndOutOfRangeAnswerAsTheLibrary() {
        Aggregate empty = new Aggregate();
        assertEquals(0, empty.sketchBytes().length);
        assertTrue(Double.isNaN(empty.valueAtQuantile(0.5)));

        Aggregate huge = new Aggregate();
        huge.accept(Double.MAX_VALUE, 0);
        assertThrows(IllegalArgumentException.class, () -> reference().accept(Double.MAX_VALUE));
        assertThrows(IllegalArgumentException.class, () -> huge.valueAtQuantile(0.5));
        assertThrows(IllegalArgumentException.class, huge::sketchBytes);

        Aggregate one = new Aggregate();
        one.accept(5, 0);
        assertThrows(IllegalArgumentException.class, () -> one.valueAtQuantile(1.5));
    }

    /** The bins of a window like the benchmark's stay narrow and sorted: one int per bin, batch after batch. */
    @Test
    void batchesMergeIntoTheBinsInPlace() {
        Random rnd = new Random(17);
        BinCounts bins = null;
        double[] batch = new double[Aggregate.SPARSE_MAX];
        int[] seen = new int[MAPPING.index(101) + 1];
        for (int b = 0; b < 5; b++) {
            for (int i = 0; i < batch.length; i++) {
                batch[i] = 1 + rnd.nextInt(9_999) / 100.0;
                seen[MAPPING.index(batch[i])]++;
            }
            Arrays.sort(batch);
            BinCounts.toIndexes(MAPPING, batch, 0, batch.length, false);
            bins = bins == null ? BinCounts.ofIndexes(batch, 0, batch.length) : bins.addIndexes(batch, 0, batch.length);
        }
        SortedBins sorted = assertInstanceOf(SortedBins.class, bins);
        assertTrue(sorted.narrow());
        int i = 0;
        long total = 0;
        for (int index = 0; index < seen.length; index++) {
            if (seen[index] > 0) {
                assertEquals(index, bins.indexAt(i), "bin " + i);
                assertEquals(seen[index], bins.countAt(i), "count of bin " + index);
                total += seen[index];
                i++;
            }
        }
        assertEquals(i, bins.size());
        assertEquals(total, bins.total());
    }

    /**
     * Batches of indexes added one after another hold, after each, the bins of every index seen so far collapsed at
     * the floor their extremes give: batches within the bins (counted in place), reaching below the lowest bin,
     * far above the highest (collapsing), runs of one index, and bins kept from an earlier window's range.
     */
    @RepeatedTest(30)
    void batchesOfIndexesHoldTheBinsOfEveryIndexSeen(RepetitionInfo rep) {
        Random rnd = new Random(rep.getCurrentRepetition() * 7_919L);
        List<Integer> seen = new ArrayList<>();
        BinCounts bins = null;
        int centre = rnd.nextInt(2_000) - 1_000;
        int spread = 1 + rnd.nextInt(rnd.nextBoolean() ? 40 : 400);
        for (int b = 0; b < 300; b++) {
            int n = 1 + rnd.nextInt(Aggregate.SPARSE_MAX);
            double[] batch = new double[n + 2];
            int from = rnd.nextInt(3);
            int to = Math.min(batch.length, from + n);
            for (int k = from; k < to; k++) {
                int index = switch (rnd.nextInt(40)) {
                    case 0 -> centre - spread - rnd.nextInt(200);      // below the lowest bin
                    case 1 -> centre + rnd.nextInt(3 * BinCounts.MAX_BINS); // past the collapse
                    case 2, 3, 4 -> centre;                              // a run of one bin
                    default -> centre + rnd.nextInt(spread) - spread / 2;
                };
                batch[k] = index;
                seen.add(index);
            }
            Arrays.sort(batch, from, to);
            bins = bins == null ? BinCounts.ofIndexes(batch, from, to) : bins.addIndexes(batch, from, to);
            assertBinsOf(seen, bins, "repetition " + rep.getCurrentRepetition() + ", batch " + b);
        }
    }

    /** The bins of {@code indexes} as a collapsing-lowest store of {@code MAX_BINS} bins holds them. */
    private static void assertBinsOf(List<Integer> indexes, BinCounts bins, String what) {
        int low = indexes.stream().mapToInt(Integer::intValue).min().orElseThrow();
        int high = indexes.stream().mapToInt(Integer::intValue).max().orElseThrow();
        int floor = BinCounts.collapseFloor(low, high);
        java.util.TreeMap<Integer, Long> want = new java.util.TreeMap<>();
        for (int index : indexes) {
            want.merge(Math.max(floor, index), 1L, Long::sum);
        }
        java.util.TreeMap<Integer, Long> got = new java.util.TreeMap<>();
        for (int s = 0; s < bins.slots(); s++) {
            if (bins.countAt(s) != 0) {
                got.put(bins.indexAt(s), bins.countAt(s));
            }
        }
        assertEquals(want, got, what);
        assertEquals(want.size(), bins.size(), what + ": size");
        assertEquals(indexes.size(), bins.total(), what + ": total");
        assertEquals(want.firstKey(), bins.lowest(), what + ": lowest");
        assertEquals(want.lastKey(), bins.highest(), what + ": highest");
    }

    /** The form a window's bins take: sorted for the 80 values of a quiet series, dense once they cover many bins. */
    @Test
    void binsTurnDenseOnlyWhenManyAndCloseTogether() {
        Random rnd = new Random(5);
        Aggregate quiet = new Aggregate();
        Aggregate busy = new Aggregate();
        Aggregate spread = new Aggregate();
        for (int i = 0; i < 5_000; i++) {
            double v = rnd.nextInt(10_000) / 100.0;
            if (i < 80) {
                quiet.accept(v, i);
            }
            busy.accept(v, i);
            // Few values per bin over thousands of bins: the array would cost more than twice the list.
            if (i < 300) {
                spread.accept(Math.pow(10, rnd.nextDouble() * 600 - 300), i);
            }
        }
        assertInstanceOf(SortedBins.class, quiet.bins(false));
        assertInstanceOf(DenseBins.class, busy.bins(false));
        assertInstanceOf(SortedBins.class, spread.bins(false));
    }

    /**
     * Values of 0.01 to 99.99 span about 460 bins, of which a few hundred values fill less than half: such a window
     * stays sorted while it holds fewer than {@link BinCounts#BUSY_TOTAL} values, and from then on its bins are dense
     * with the array over their range up to {@link BinCounts#BUSY_SPREAD} times their number; the answers are the
     * library's before, across and after the move.
     */
    @Test
    void busyBinsTurnDenseOverAWiderRange() throws IOException {
        Random rnd = new Random(31);
        DDSketch reference = reference();
        Aggregate a = new Aggregate();
        double min = Double.POSITIVE_INFINITY;
        double max = Double.NEGATIVE_INFINITY;
        boolean checkedSorted = false;
        for (int i = 0; i < 1_000; i++) {
            // The lowest and the highest of the range first, so that the range is wide from the start.
            double v = i == 0 ? 0.01 : i == 1 ? 99.99 : (1 + rnd.nextInt(9_999)) / 100.0;
            reference.accept(v);
            a.accept(v, i);
            min = Math.min(min, v);
            max = Math.max(max, v);
            if (i == BinCounts.BUSY_TOTAL - 40) {
                BinCounts quiet = a.bins(false);
                assertInstanceOf(SortedBins.class, quiet);
                long range = (long) quiet.highest() - quiet.lowest() + 1;
                assertTrue(quiet.size() >= BinCounts.DENSE_MIN_BINS && range > 2L * quiet.size(),
                        "size " + quiet.size() + " range " + range);
                assertSameAsReference(reference, min, max, a, "sorted, " + (i + 1) + " values");
                checkedSorted = true;
            }
            if (i % 37 == 0) {
                assertSameAsReference(reference, min, max, a, "after " + (i + 1) + " values");
            }
        }
        assertTrue(checkedSorted);
        BinCounts busy = a.bins(false);
        assertInstanceOf(DenseBins.class, busy);
        assertTrue((long) busy.highest() - busy.lowest() + 1 > 2L * busy.size(), "only the wider rule makes it dense");
        assertSameAsReference(reference, min, max, a, "dense");
        Aggregate restored = Aggregate.restore(a.count(), a.sum(), a.min(), a.max(), a.last(), a.firstTimestamp(),
                a.lastTimestamp(), a.late(), a.sketchBytes());
        assertSameAsReference(reference, min, max, restored, "restored");
    }

    /** Windows of thousands of values, one by one, through merges of splits and through their encoding. */
    @RepeatedTest(40)
    void busyWindowsMatchTheLibrarysSketch(RepetitionInfo rep) throws IOException {
        Random rnd = new Random(rep.getCurrentRepetition() * 104_729L);
        int n = 2_000 + rnd.nextInt(48_001);
        double[] values = values(rnd, n);
        DDSketch reference = reference();
        Aggregate all = new Aggregate();
        int parts = 2 + rnd.nextInt(4);
        Aggregate[] partials = new Aggregate[parts];
        for (int p = 0; p < parts; p++) {
            partials[p] = new Aggregate();
        }
        double min = Double.POSITIVE_INFINITY;
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            reference.accept(values[i]);
            all.accept(values[i], i);
            // Uneven parts: a busy one, and small ones that stay sorted.
            partials[rnd.nextInt(4) == 0 ? rnd.nextInt(parts) : 0].accept(values[i], i);
            min = Math.min(min, values[i]);
            max = Math.max(max, values[i]);
        }
        String what = "repetition " + rep.getCurrentRepetition() + ", n=" + n;
        assertSameAsReference(reference, min, max, all, what);
        List<Aggregate> order = new ArrayList<>();
        for (Aggregate part : partials) {
            order.add(rnd.nextBoolean() ? part : Aggregate.restore(part.count(), part.sum(), part.min(), part.max(),
                    part.last(), part.firstTimestamp(), part.lastTimestamp(), part.late(), part.sketchBytes()));
        }
        java.util.Collections.shuffle(order, rnd);
        Aggregate merged = order.get(0).copy();
        for (int p = 1; p < parts; p++) {
            merged.mergeWith(order.get(p));
        }
        assertEquals(n, merged.count(), what);
        assertSameAsReference(reference, min, max, merged, what + " merged");
        Aggregate restored = Aggregate.restore(all.count(), all.sum(), all.min(), all.max(), all.last(),
                all.firstTimestamp(), all.lastTimestamp(), all.late(), all.sketchBytes());
        assertSameAsReference(reference, min, max, restored, what + " restored");
    }

    /** A dense sign merged with a sorted one and the reverse, reaching past either end and collapsing. */
    @Test
    void denseAndSortedBinsMergeInEitherOrder() throws IOException {
        Random rnd = new Random(11);
        double[][] small = {
            {0.5, 3, 7.5},                      // within the dense range
            {1e-5, 0.002, 40},                  // below it
            {1e5, 3e8, 2},                      // above it
            {1e-300, 50},                       // far below: the dense sign's lowest bins collapse
            {1e300, 1e299, 5},                  // far above: everything dense collapses into one bin
            {-1e-5, -1e5, 0, 3},                // the other sign and zero
        };
        for (int c = 0; c < small.length; c++) {
            for (int sign : new int[] {1, -1}) {
                for (boolean denseFirst : new boolean[] {true, false}) {
                    DDSketch reference = reference();
                    Aggregate dense = new Aggregate();
                    Aggregate sorted = new Aggregate();
                    for (int i = 0; i < 3_000; i++) {
                        double v = sign * (1 + rnd.nextInt(9_999) / 100.0);
                        dense.accept(v, i);
                        reference.accept(v);
                    }
                    for (double v : small[c]) {
                        sorted.accept(sign * v, 0);
                        reference.accept(sign * v);
                    }
                    assertInstanceOf(DenseBins.class, dense.bins(sign < 0));
                    assertInstanceOf(SortedBins.class, sorted.bins(sign < 0));
                    Aggregate merged = denseFirst ? dense.copy() : sorted.copy();
                    merged.mergeWith(denseFirst ? sorted : dense);
                    String what = "case " + c + " sign " + sign + " denseFirst " + denseFirst;
                    double min = Math.min(dense.min(), sorted.min());
                    double max = Math.max(dense.max(), sorted.max());
                    assertSameAsReference(reference, min, max, merged, what);
                    // The dense side grows from values too, with the sorted values added one at a time.
                    Aggregate grown = dense.copy();
                    for (double v : small[c]) {
                        grown.accept(sign * v, 1);
                    }
                    assertSameAsReference(reference, min, max, grown, what + " grown");
                }
            }
        }
    }

    /** Dense bins follow the dense store's collapse as new extremes arrive one at a time. */
    @Test
    void denseBinsCollapseAsTheDenseStoreAfterEveryValue() throws IOException {
        Random rnd = new Random(23);
        DDSketch reference = reference();
        Aggregate a = new Aggregate();
        feedBoth(rnd, 2_000, reference, a);
        assertInstanceOf(DenseBins.class, a.bins(false));
        double low = 1;
        double high = 100;
        for (int i = 0; i < 1_500; i++) {
            double v = switch (rnd.nextInt(4)) {
                case 0 -> low /= 1.7;
                case 1 -> high *= 1.4;
                default -> 1 + rnd.nextInt(9_999) / 100.0;
            };
            reference.accept(v);
            a.accept(v, i);
            if (i % 7 == 0) {
                assertSameAsReference(reference, a.min(), a.max(), a, "after " + i);
            }
        }
        assertInstanceOf(DenseBins.class, a.bins(false));
        assertSameAsReference(reference, a.min(), a.max(), a, "at the end");
    }

    /** Dense bins whose total passes an int's range move to the sorted wide form, exactly. */
    @Test
    void denseBinsPastAnIntsCountMoveToTheWideForm() throws IOException {
        Random rnd = new Random(29);
        DDSketch reference = reference();
        Aggregate a = new Aggregate();
        feedBoth(rnd, 1_000, reference, a);
        assertInstanceOf(DenseBins.class, a.bins(false));
        for (int round = 0; round < 22; round++) {
            a.mergeWith(a.copy());
            reference.mergeWith(reference.copy());
        }
        assertTrue(a.count() > BinCounts.DENSE_MAX, "count " + a.count());
        assertInstanceOf(SortedBins.class, a.bins(false));
        feedBoth(rnd, 100, reference, a);
        assertSameAsReference(reference, a.min(), a.max(), a, "doubled");
    }
}
