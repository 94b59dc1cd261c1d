package dev.meterline.model;

import org.junit.jupiter.api.RepeatedTest;
import com.datadoghq.sketch.ddsketch.DDSketch;
import com.datadoghq.sketch.ddsketch.mapping.LogarithmicMapping;
import com.datadoghq.sketch.ddsketch.store.CollapsingLowestDenseStore;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AggregateTest {

    private static final double[] QUANTILES = {0.0, 0.1, 0.5, 0.9, 0.99, 1.0};

    /** Merging partials in any order and grouping equals aggregating all points at once. */
    @RepeatedTest(20)
    void mergeOfPartialsEqualsAggregateOfAll(org.junit.jupiter.api.RepetitionInfo rep) {
        Random rnd = new Random(rep.getCurrentRepetition());
        int n = 1 + rnd.nextInt(5_000);
        double[] values = new double[n];
        long[] timestamps = new long[n];
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            // Whole numbers keep sums exact whatever the order of addition; both signs and a wide range.
            values[i] = Math.round(Math.exp(rnd.nextGaussian() * 3)) * (rnd.nextInt(10) == 0 ? -1 : 1);
            timestamps[i] = 1_000L * i + rnd.nextInt(1000);
            order.add(i);
        }
        Aggregate all = new Aggregate();
        for (int i = 0; i < n; i++) {
            all.accept(values[i], timestamps[i]);
        }
        Collections.shuffle(order, rnd);
        int parts = 1 + rnd.nextInt(8);
        List<Aggregate> partials = new ArrayList<>();
        for (int p = 0; p < parts; p++) {
            partials.add(new Aggregate());
        }
        for (int i : order) {
            partials.get(rnd.nextInt(parts)).accept(values[i], timestamps[i]);
        }
        Collections.shuffle(partials, rnd);
        // Random grouping: fold pairs together until one remains.
        while (partials.size() > 1) {
            Aggregate a = partials.remove(rnd.nextInt(partials.size()));
            Aggregate b = partials.remove(rnd.nextInt(partials.size()));
            Aggregate merged = a.copy();
            merged.mergeWith(b);
            partials.add(merged);
        }
        Aggregate merged = partials.get(0);
        assertEquals(all.count(), merged.count());
        assertEquals(all.sum(), merged.sum());
        assertEquals(all.min(), merged.min());
        assertEquals(all.max(), merged.max());
        assertEquals(all.last(), merged.last());
        assertEquals(all.firstTimestamp(), merged.firstTimestamp());
        assertEquals(all.lastTimestamp(), merged.lastTimestamp());
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        for (double q : QUANTILES) {
            double exact = sorted[(int) Math.floor(q * (n - 1))];
            assertWithinRelative(exact, merged.valueAtQuantile(q), q);
            assertWithinRelative(exact, all.valueAtQuantile(q), q);
        }
    }

    @Test
    void lastPrefersGreatestTimestampAndLaterArrivalOnTies() {
        Aggregate a = new Aggregate();
        a.accept(1, 100);
        a.accept(2, 300);
        a.accept(3, 200);
        assertEquals(2, a.last());
        a.accept(4, 300);
        assertEquals(4, a.last(), "a tie goes to the later arrival");

        Aggregate earlier = new Aggregate();
        earlier.accept(10, 500);
        Aggregate later = new Aggregate();
        later.accept(20, 500);
        earlier.mergeWith(later);
        assertEquals(20, earlier.last(), "merging a later partial with the same timestamp takes its value");
    }

    @Test
    void sketchSurvivesItsByteEncoding() {
        Aggregate a = new Aggregate();
        for (int i = 1; i <= 1000; i++) {
            a.accept(i * 1.5, i);
        }
        a.markLate();
        Aggregate b = Aggregate.restore(a.count(), a.sum(), a.min(), a.max(), a.last(), a.firstTimestamp(),
                a.lastTimestamp(), a.late(), a.sketchBytes());
        for (double q : QUANTILES) {
            assertEquals(a.valueAtQuantile(q), b.valueAtQuantile(q));
        }
        assertEquals(1, b.late());
        b.mergeWith(a);
        assertEquals(2000, b.count());
    }

    @Test
    void emptyAggregateHasNoQuantiles() {
        Aggregate a = new Aggregate();
        assertTrue(Double.isNaN(a.valueAtQuantile(0.5)));
        assertTrue(Double.isNaN(a.mean()));
        assertEquals(0, a.sketchBytes().length);
    }

    /** Few values are kept sparse; quantiles, encoding and merges answer as if they were in a sketch all along. */
    @Test
    void sparseWindowsAnswerLikeTheSketch() {
        Random rnd = new Random(7);
        for (int n : new int[]{1, 2, 3, Aggregate.SPARSE_MAX, Aggregate.SPARSE_MAX + 1, 40}) {
            for (int m : new int[]{0, 1, 5, Aggregate.SPARSE_MAX + 3}) {
                Aggregate a = new Aggregate();
                Aggregate b = new Aggregate();
                Aggregate all = new Aggregate();
                for (int i = 0; i < n + m; i++) {
                    double v = rnd.nextInt(3) == 0 ? 0 : rnd.nextGaussian() * 100;
                    (i < n ? a : b).accept(v, i);
                    all.accept(v, i);
                }
                // Force one aggregate into sketch form by round-tripping its encoding.
                Aggregate viaBytes = Aggregate.restore(all.count(), all.sum(), all.min(), all.max(), all.last(),
                        all.firstTimestamp(), all.lastTimestamp(), all.late(), all.sketchBytes());
                Aggregate merged = a.copy();
                merged.mergeWith(b);
                Aggregate mergedIntoSketch = viaBytes.copy();
                mergedIntoSketch.mergeWith(new Aggregate());
                for (double q : QUANTILES) {
                    assertEquals(viaBytes.valueAtQuantile(q), all.valueAtQuantile(q), "n=" + n + " m=" + m + " q=" + q);
                    assertEquals(all.valueAtQuantile(q), merged.valueAtQuantile(q), "n=" + n + " m=" + m + " q=" + q);
                    assertEquals(all.valueAtQuantile(q), mergedIntoSketch.valueAtQuantile(q));
                }
                assertTrue(Arrays.equals(all.sketchBytes(), merged.sketchBytes()) || n + m > Aggregate.SPARSE_MAX,
                        "sparse encodings match");
            }
        }
    }

    /**
     * Past the sparse form, new values wait beside the sketch in batches: every reading (quantiles, the encoding, a
     * copy, a merge) sees them, and reading in between changes nothing.
     */
    @Test
    void valuesWaitingBesideTheSketchCountInEveryReading() {
        Random rnd = new Random(11);
        for (int n = Aggregate.SPARSE_MAX + 1; n <= 5 * Aggregate.SPARSE_MAX + 3; n++) {
            DDSketch reference = new DDSketch(new LogarithmicMapping(Aggregate.RELATIVE_ACCURACY),
                    () -> new CollapsingLowestDenseStore(Aggregate.MAX_BINS));
            Aggregate plain = new Aggregate();
            Aggregate readOften = new Aggregate();
            Aggregate copied = null;
            Aggregate later = new Aggregate();
            double min = Double.POSITIVE_INFINITY;
            double max = Double.NEGATIVE_INFINITY;
            for (int i = 0; i < n; i++) {
                double v = Math.exp(rnd.nextGaussian() * 4);
                reference.accept(v);
                plain.accept(v, i);
                readOften.accept(v, i);
                min = Math.min(min, v);
                max = Math.max(max, v);
                if (i % 7 == 3) {
                    readOften.valueAtQuantile(0.5);
                }
                if (i == n / 2) {
                    copied = plain.copy();
                } else if (i > n / 2) {
                    later.accept(v, i);
                }
            }
            for (double q : QUANTILES) {
                double expected = Math.max(min, Math.min(max, reference.getValueAtQuantile(q)));
                assertEquals(expected, plain.valueAtQuantile(q), "n=" + n + " q=" + q);
                assertEquals(expected, readOften.valueAtQuantile(q), "n=" + n + " q=" + q);
            }
            Aggregate restored = Aggregate.restore(plain.count(), plain.sum(), plain.min(), plain.max(), plain.last(),
                    plain.firstTimestamp(), plain.lastTimestamp(), plain.late(), plain.sketchBytes());
            assertEquals(plain.valueAtQuantile(0.9), restored.valueAtQuantile(0.9), "n=" + n);
            assertEquals(n / 2 + 1, copied.count(), "a copy keeps what it had when taken");
            // The copy's values and the ones that came after it make the whole again.
            copied.mergeWith(later);
            for (double q : QUANTILES) {
                assertEquals(plain.valueAtQuantile(q), copied.valueAtQuantile(q), "n=" + n + " q=" + q);
            }
        }
    }

    /**
     * A window's values wait in a buffer that grows, then beside the sketch: at every count, on a fresh aggregate and
     * on one restored with a sketch, the answers are the reference sketch's and a copy taken at any point keeps only
     * what it had.
     */
    @Test
    void bufferedValuesAnswerLikeTheSketchAtEveryCount() {
        Random rnd = new Random(31);
        for (int n = 1; n <= 2 * Aggregate.SPARSE_MAX + 1; n++) {
            for (boolean fromSketch : new boolean[] {false, true}) {
                DDSketch reference = new DDSketch(new LogarithmicMapping(Aggregate.RELATIVE_ACCURACY),
                        () -> new CollapsingLowestDenseStore(Aggregate.MAX_BINS));
                Aggregate a = new Aggregate();
                if (fromSketch) {
                    Aggregate seed = new Aggregate();
                    for (int i = 0; i < 3; i++) {
                        double v = 100 + i;
                        seed.accept(v, i);
                        reference.accept(v);
                    }
                    a = Aggregate.restore(seed.count(), seed.sum(), seed.min(), seed.max(), seed.last(),
                            seed.firstTimestamp(), seed.lastTimestamp(), seed.late(), seed.sketchBytes());
                }
                double min = fromSketch ? 100 : Double.POSITIVE_INFINITY;
                double max = fromSketch ? 102 : Double.NEGATIVE_INFINITY;
                Aggregate[] copies = new Aggregate[n];
                double[] medians = new double[n];
                for (int i = 0; i < n; i++) {
                    double v = rnd.nextBoolean() ? -Math.exp(rnd.nextGaussian() * 3) : Math.exp(rnd.nextGaussian() * 3);
                    a.accept(v, 10 + i);
                    reference.accept(v);
                    min = Math.min(min, v);
                    max = Math.max(max, v);
                    copies[i] = a.copy();
                    medians[i] = Math.max(min, Math.min(max, reference.getValueAtQuantile(0.5)));
                }
                for (double q : QUANTILES) {
                    double expected = Math.max(min, Math.min(max, reference.getValueAtQuantile(q)));
                    assertEquals(expected, a.valueAtQuantile(q), "n=" + n + " fromSketch=" + fromSketch + " q=" + q);
                }
                for (int i = 0; i < n; i++) {
                    assertEquals(medians[i], copies[i].valueAtQuantile(0.5), "copy after value " + i + " of " + n);
                }
            }
        }
    }

    /** Merging aggregates whose values sit in buffers of any size or in a sketch gives the one built from all values. */
    @Test
    void mergesTakeValuesFromBuffersOfEverySize() {
        int[] sizes = {0, 1, 2, 3, 4, 5, Aggregate.SPARSE_MAX, Aggregate.SPARSE_MAX + 1, 40};
        Random rnd = new Random(5);
        for (int n : sizes) {
            for (int m : sizes) {
                Aggregate a = new Aggregate();
                Aggregate b = new Aggregate();
                Aggregate all = new Aggregate();
                for (int i = 0; i < n + m; i++) {
                    double v = Math.round(rnd.nextGaussian() * 1000);
                    (i < n ? a : b).accept(v, i);
                    all.accept(v, i);
                }
                a.mergeWith(b);
                assertEquals(all.count(), a.count());
                for (double q : QUANTILES) {
                    assertEquals(all.valueAtQuantile(q), a.valueAtQuantile(q), "n=" + n + " m=" + m + " q=" + q);
                }
                if (n + m <= Aggregate.SPARSE_MAX) {
                    assertTrue(Arrays.equals(all.sketchBytes(), a.sketchBytes()), "n=" + n + " m=" + m);
                }
            }
        }
    }

    /** A sparse window's stored encoding is byte for byte the one a sketch of the same values has. */
    @Test
    void sparseWindowsEncodeAsTheSketchDoes() throws Exception {
        Random rnd = new Random(23);
        for (int t = 0; t < 5_000; t++) {
            int n = 1 + rnd.nextInt(Aggregate.SPARSE_MAX);
            Aggregate a = new Aggregate();
            DDSketch reference = new DDSketch(new LogarithmicMapping(Aggregate.RELATIVE_ACCURACY),
                    () -> new CollapsingLowestDenseStore(Aggregate.MAX_BINS));
            for (int i = 0; i < n; i++) {
                double v = rnd.nextInt(5) == 0 ? 0 : (rnd.nextBoolean() ? -1 : 1) * Math.exp(rnd.nextGaussian() * 6);
                a.accept(v, i);
                reference.accept(v);
            }
            com.datadoghq.sketch.ddsketch.encoding.GrowingByteArrayOutput out =
                    com.datadoghq.sketch.ddsketch.encoding.GrowingByteArrayOutput.withDefaultInitialCapacity();
            reference.encode(out, false);
            assertTrue(Arrays.equals(out.trimmedCopy(), a.sketchBytes()), "try " + t);
        }
    }

    /**
     * Moving an aggregate's contents out, and swapping them into another, keeps every reading, whatever form its
     * values wait in (none, implicit as min, max and two fields, an array, bins), and the aggregate moved out of goes
     * on as a new one.
     */
    @Test
    void movingContentsOutAndInKeepsEveryReading() {
        Random rnd = new Random(5);
        for (int values : new int[]{0, 1, 2, 3, 4, 5, 17, 600}) {
            Aggregate a = new Aggregate();
            Aggregate reference = new Aggregate();
            for (int i = 0; i < values; i++) {
                double v = rnd.nextDouble() * 1_000 - 100;
                a.accept(v, i);
                reference.accept(v, i);
            }
            Aggregate out = a.moveOut();
            assertReadsAs(reference, out, values + " values moved out");
            assertReadsAs(new Aggregate(), a, values + " values: left empty");
            a.accept(42, 7);
            assertEquals(1, a.count());
            assertEquals(42, a.min());
            assertEquals(values, out.count(), "the moved contents share nothing with the aggregate they left");

            Aggregate into = new Aggregate();
            into.swapContents(out);
            assertReadsAs(reference, into, values + " values swapped in");
            assertReadsAs(new Aggregate(), out, values + " values: an empty one swapped out");
            into.accept(3, values);
            reference.accept(3, values);
            assertReadsAs(reference, into, values + " values, one more after the move");
        }
    }

    /**
     * The first values wait as min, max and two fields, a value that moves min or max taking the old one's place: in
     * every order of up to five values among ties, zeros of both signs, a tiny value and NaN, the encoding is the
     * sketch's, and so is that of a copy and of a merge into an aggregate holding other values the same way.
     */
    @Test
    void valuesWaitingInFieldsKeepEveryValueInAnyOrder() {
        double[] pool = {3, -2, 0.0, -0.0, 7, 1e-300, Double.NaN};
        double[] other = {5, -1, 5};
        for (int n = 1; n <= 5; n++) {
            int orders = (int) Math.pow(pool.length, n);
            for (int order = 0; order < orders; order++) {
                Aggregate a = new Aggregate();
                DDSketch reference = sketch();
                DDSketch merged = sketch();
                for (int i = 0, rest = order; i < n; i++, rest /= pool.length) {
                    double v = pool[rest % pool.length];
                    a.accept(v, i);
                    reference.accept(v);
                    merged.accept(v);
                }
                Aggregate copy = a.copy();
                Aggregate into = new Aggregate();
                for (double v : other) {
                    into.accept(v, 0);
                    merged.accept(v);
                }
                into.mergeWith(a);
                String what = "order " + order + " of " + n + " values";
                assertTrue(Arrays.equals(encoded(reference), a.sketchBytes()), what);
                assertTrue(Arrays.equals(encoded(reference), copy.sketchBytes()), what + ", copy");
                assertTrue(Arrays.equals(encoded(merged), into.sketchBytes()), what + ", merged");
                assertEquals(n, a.count(), what);
            }
        }
    }

    private static DDSketch sketch() {
        return new DDSketch(new LogarithmicMapping(Aggregate.RELATIVE_ACCURACY),
                () -> new CollapsingLowestDenseStore(Aggregate.MAX_BINS));
    }

    private static byte[] encoded(DDSketch sketch) {
        com.datadoghq.sketch.ddsketch.encoding.GrowingByteArrayOutput out =
                com.datadoghq.sketch.ddsketch.encoding.GrowingByteArrayOutput.withDefaultInitialCapacity();
        try {
            sketch.encode(out, false);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return out.trimmedCopy();
    }

    /**
     * Swapping two aggregates exchanges every reading, whatever forms their values wait in, and each goes on with no
     * value or array of the other's.
     */
    @Test
    void swappingExchangesContentsOfEveryForm() {
        Random rnd = new Random(8);
        int[] sizes = {0, 1, 3, 4, 5, 17, 600};
        for (int m : sizes) {
            for (int k : sizes) {
                Aggregate a = new Aggregate();
                Aggregate b = new Aggregate();
                Aggregate refA = new Aggregate();
                Aggregate refB = new Aggregate();
                for (int i = 0; i < m; i++) {
                    double v = rnd.nextDouble() * 1_000 - 100;
                    a.accept(v, i);
                    refA.accept(v, i);
                }
                for (int i = 0; i < k; i++) {
                    double v = rnd.nextDouble() * 50 - 5;
                    b.accept(v, 100 + i);
                    refB.accept(v, 100 + i);
                }
                if (k == 3) {
                    b.markLate();
                    refB.markLate();
                }
                a.swapContents(b);
                assertReadsAs(refB, a, m + " and " + k + " values: the first");
                assertReadsAs(refA, b, m + " and " + k + " values: the second");
                assertEquals(refB.late(), a.late());
                assertEquals(refA.late(), b.late());
                for (int i = 0; i < 20; i++) {
                    a.accept(-i, 200 + i);
                    refB.accept(-i, 200 + i);
                }
                assertReadsAs(refB, a, m + " and " + k + " values: the first, gone on");
                assertReadsAs(refA, b, m + " and " + k + " values: the second, untouched by the first");
            }
        }
    }

    /** A restored window with count {@code 3} and the given sketch bytes, its other readings fixed. */
    private static Aggregate restored(byte[] sketch) {
        return Aggregate.restore(3, 6.5, -1, 5, 2.5, 100, 300, 1, sketch);
    }

    /**
     * Bytes that are no DDSketch encoding decode to an error: a window that answers with them never decoded its
     * sketch. Count, sum, min, max, mean and last, its copies and merges into an empty aggregate need no bins.
     */
    @Test
    void storedSketchIsDecodedOnlyWhenItsBinsAreAsked() {
        byte[] notASketch = {(byte) 0xFF, (byte) 0xFF, (byte) 0xFF};
        Aggregate a = restored(notASketch);
        Aggregate merged = new Aggregate();
        merged.mergeWith(a);
        Aggregate twice = new Aggregate();
        twice.mergeWith(merged.copy());
        for (Aggregate x : List.of(a, a.copy(), merged, twice)) {
            assertEquals(3, x.count());
            assertEquals(6.5, x.sum());
            assertEquals(-1, x.min());
            assertEquals(5, x.max());
            assertEquals(6.5 / 3, x.mean());
            assertEquals(2.5, x.last());
            assertEquals(100, x.firstTimestamp());
            assertEquals(300, x.lastTimestamp());
            assertEquals(1, x.late());
        }
        assertThrows(RuntimeException.class, () -> a.valueAtQuantile(0.5));
        assertThrows(RuntimeException.class, merged::sketchBytes);
        Aggregate binned = new Aggregate();
        for (int i = 0; i < 40; i++) {
            binned.accept(i, i);
        }
        assertThrows(RuntimeException.class, () -> binned.mergeWith(restored(notASketch)));
    }

    /**
     * A stored window's bins decoded late answer as those decoded at once: alone, copied, merged in either order
     * with windows that have bins, values waiting beside them, or both, and with points recorded after the restore.
     */
    @RepeatedTest(30)
    void lateDecodingAnswersAsTheEagerOne(org.junit.jupiter.api.RepetitionInfo rep) {
        Random rnd = new Random(31L * rep.getCurrentRepetition());
        List<Aggregate> originals = new ArrayList<>();
        for (int k = 0; k < 4; k++) {
            Aggregate a = new Aggregate();
            int n = rnd.nextInt(k == 0 ? 5 : 3_000);
            for (int i = 0; i < n; i++) {
                a.accept(Math.round(Math.exp(rnd.nextGaussian() * 4)) * (rnd.nextInt(8) == 0 ? -1 : 1), i);
            }
            originals.add(a);
        }
        for (int i = 0; i < originals.size(); i++) {
            for (int j = 0; j < originals.size(); j++) {
                String what = "repetition " + rep.getCurrentRepetition() + ", " + i + " with " + j;
                Aggregate expected = eager(originals.get(i));
                expected.mergeWith(eager(originals.get(j)));
                Aggregate lazyInto = lazy(originals.get(i));
                lazyInto.mergeWith(lazy(originals.get(j)));
                assertReadsAs(expected, lazyInto, what + ", both stored");
                Aggregate intoEmpty = new Aggregate();
                intoEmpty.mergeWith(lazy(originals.get(i)));
                intoEmpty.mergeWith(lazy(originals.get(j)));
                assertReadsAs(expected, intoEmpty, what + ", into an empty one");
                Aggregate live = originals.get(i).copy();
                live.mergeWith(lazy(originals.get(j)));
                assertReadsAs(expected, live, what + ", stored into a live one");
                Aggregate stored = lazy(originals.get(i));
                stored.mergeWith(originals.get(j).copy());
                assertReadsAs(expected, stored, what + ", a live one into a stored one");
            }
            Aggregate eager = eager(originals.get(i));
            Aggregate lazy = lazy(originals.get(i)).copy();
            for (int k = 0; k < 25; k++) {
                double v = rnd.nextInt(1_000) - 100;
                eager.accept(v, 10_000 + k);
                lazy.accept(v, 10_000 + k);
            }
            assertReadsAs(eager, lazy, "repetition " + rep.getCurrentRepetition() + ", " + i + " with points after");
        }
    }

    /** {@code a} as the store gives it back, its bins still encoded. */
    private static Aggregate lazy(Aggregate a) {
        return Aggregate.restore(a.count(), a.sum(), a.min(), a.max(), a.last(), a.firstTimestamp(),
                a.lastTimestamp(), a.late(), a.sketchBytes());
    }

    /** {@code a} as the store gives it back, its bins decoded at once (its first quantile decodes them). */
    private static Aggregate eager(Aggregate a) {
        Aggregate r = lazy(a);
        r.valueAtQuantile(0.5);
        return r;
    }

    private static void assertReadsAs(Aggregate expected, Aggregate actual, String what) {
        assertEquals(expected.count(), actual.count(), what);
        assertEquals(expected.sum(), actual.sum(), what);
        assertEquals(expected.min(), actual.min(), what);
        assertEquals(expected.max(), actual.max(), what);
        assertEquals(expected.last(), actual.last(), what);
        assertEquals(expected.firstTimestamp(), actual.firstTimestamp(), what);
        assertEquals(expected.lastTimestamp(), actual.lastTimestamp(), what);
        for (double q : QUANTILES) {
            assertEquals(expected.valueAtQuantile(q), actual.valueAtQuantile(q), what + " q" + q);
        }
        assertTrue(Arrays.equals(expected.sketchBytes(), actual.sketchBytes()), what);
    }

    private static void assertWithinRelative(double exact, double actual, double q) {
        double bound = Aggregate.RELATIVE_ACCURACY * Math.abs(exact) + 1e-9;
        assertTrue(Math.abs(actual - exact) <= bound,
                "quantile " + q + ": exact " + exact + ", sketch " + actual + " (bound " + bound + ")");
    }
}
