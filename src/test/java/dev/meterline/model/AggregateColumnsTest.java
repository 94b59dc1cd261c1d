package dev.meterline.model;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * An aggregate read back from columns reads, answers, encodes and goes on exactly as the one taken, for every form its
 * values wait in; only those of a few values waiting in fields become rows of fields.
 */
class AggregateColumnsTest {

    private static final double[] POOL = {3, -2, 0.0, -0.0, 7, 1e-300, Double.NaN};

    /** Every order of up to five values from the pool (ties, zeros of both signs, a tiny value, NaN). */
    private static List<Aggregate> fewValues() {
        List<Aggregate> out = new ArrayList<>();
        out.add(new Aggregate());
        for (int n = 1; n <= 5; n++) {
            int orders = (int) Math.pow(POOL.length, n);
            for (int order = 0; order < orders; order++) {
                Aggregate a = new Aggregate();
                for (int i = 0, rest = order; i < n; i++, rest /= POOL.length) {
                    // Timestamps out of order and tied, so that first, last and the last value's tie-break matter.
                    a.accept(POOL[rest % POOL.length], (i * 7L) % 3);
                }
                out.add(a);
            }
        }
        return out;
    }

    /** Aggregates whose values outgrew the fields: an array, bins, a late point, a merge, stored bins. */
    private static List<Aggregate> otherForms() {
        Random rnd = new Random(11);
        List<Aggregate> out = new ArrayList<>();
        for (int values : new int[]{5, 17, 600}) {
            Aggregate a = new Aggregate();
            for (int i = 0; i < values; i++) {
                a.accept(rnd.nextDouble() * 1_000 - 100, i);
            }
            out.add(a);
        }
        Aggregate late = new Aggregate();
        late.accept(1, 1);
        late.markLate();
        out.add(late);
        Aggregate merged = new Aggregate();
        merged.accept(2, 2);
        Aggregate other = new Aggregate();
        other.accept(-4, 1);
        merged.mergeWith(other);
        out.add(merged);
        Aggregate binned = new Aggregate();
        for (int i = 0; i < 40; i++) {
            binned.accept(i, i);
        }
        out.add(Aggregate.restore(40, binned.sum(), 0, 39, 39, 0, 39, 0, binned.sketchBytes()));
        return out;
    }

    @Test
    void everyAggregateReadsBackAsTheOneTaken() {
        List<Aggregate> all = new ArrayList<>(fewValues());
        all.addAll(otherForms());
        List<Aggregate> references = new ArrayList<>();
        AggregateColumns columns = new AggregateColumns(all.size() / 2);
        for (int i = 0; i < all.size(); i++) {
            Aggregate a = all.get(i);
            references.add(a.copy());
            columns.take(a, 7L * i);
        }
        assertEquals(all.size(), columns.size());
        for (int i = 0; i < all.size(); i++) {
            assertSameAggregate(references.get(i), columns.get(i), "aggregate " + i + " " + references.get(i));
            assertEquals(7L * i, columns.label(i), "label of " + i);
        }
    }

    @Test
    void onlyAggregatesOfAFewValuesInFieldsBecomeRows() {
        List<Aggregate> few = fewValues();
        AggregateColumns columns = new AggregateColumns(0);
        int inFields = 0;
        for (Aggregate a : few) {
            inFields += a.fieldsOnly() ? 1 : 0;
            columns.take(a, columns.size());
        }
        // Up to four values with no NaN wait in fields: 1 + 6 + 36 + 216 + 1296 of the pool's orders.
        assertEquals(1 + 6 + 36 + 216 + 1296, inFields);
        assertEquals(few.size() - inFields, columns.keptWhole());
        List<Aggregate> others = otherForms();
        for (Aggregate a : others) {
            columns.take(a, columns.size());
        }
        assertEquals(few.size() - inFields + others.size(), columns.keptWhole(),
                "an array, bins, a late count, a merge and stored bins are more than fields");
    }

    @Test
    void anAggregateKeptWholeIsTheSameAtEveryRead() {
        Aggregate a = new Aggregate();
        for (int i = 0; i < 17; i++) {
            a.accept(i, i);
        }
        AggregateColumns columns = new AggregateColumns(1);
        columns.take(a, -3);
        assertSame(columns.get(0), columns.get(0));
    }

    @Test
    void takingLeavesTheAggregateEmptyForItsHolderToGoOn() {
        for (int values : new int[]{1, 3, 4, 5, 600}) {
            Aggregate a = new Aggregate();
            Aggregate reference = new Aggregate();
            for (int i = 0; i < values; i++) {
                a.accept(i * 1.5, i);
                reference.accept(i * 1.5, i);
            }
            AggregateColumns columns = new AggregateColumns(1);
            columns.take(a, values);
            assertSameAggregate(new Aggregate(), a, values + " values: left empty");
            a.accept(42, 7);
            assertEquals(1, a.count());
            assertSameAggregate(reference, columns.get(0), values + " values: the row shares nothing with it");
        }
    }

    @Test
    void rowsPastTheCapacityAreKept() {
        AggregateColumns columns = new AggregateColumns(0);
        for (int i = 0; i < 100; i++) {
            Aggregate a = new Aggregate();
            a.accept(i, i);
            a.accept(-i, i + 1);
            columns.take(a, 7L * i);
            if (i == 50) {
                Aggregate whole = new Aggregate();
                whole.markLate();
                columns.take(whole, 7L * i);
            }
        }
        assertEquals(101, columns.size());
        assertEquals(1, columns.keptWhole());
        assertEquals(99.0, columns.get(100).max());
        assertEquals(1, columns.get(51).late());
        for (int i = 0; i < 101; i++) {
            // The row kept whole after row 50 took that row's label.
            assertEquals(i <= 50 ? 7L * i : 7L * (i - 1), columns.label(i), "label of " + i);
        }
        assertThrows(IndexOutOfBoundsException.class, () -> columns.get(101));
        assertThrows(IndexOutOfBoundsException.class, () -> columns.label(101));
        assertThrows(IllegalArgumentException.class, () -> new AggregateColumns(-1));
    }

    /**
     * Every reading, quantile and the encoding of {@code actual} are those of {@code expected} (zeros by sign), and
     * one more value and a merge change both alike; read on copies, so that neither changes.
     */
    static void assertSameAggregate(Aggregate expected, Aggregate actual, String what) {
        AggregateAssertions.assertSameContents(expected, actual, what);
        Aggregate more = expected.copy();
        Aggregate moreActual = actual.copy();
        for (double v : new double[]{5, -0.0, 9}) {
            more.accept(v, 1);
            moreActual.accept(v, 1);
        }
        assertTrue(Arrays.equals(more.sketchBytes(), moreActual.sketchBytes()), what + ", values after");
        assertEquals(more.min(), moreActual.min(), what + ", values after");
        Aggregate into = new Aggregate();
        into.accept(-3, 0);
        Aggregate intoActual = into.copy();
        into.mergeWith(expected.copy());
        intoActual.mergeWith(actual.copy());
        assertTrue(Arrays.equals(into.sketchBytes(), intoActual.sketchBytes()), what + ", merged");
        assertEquals(into.last(), intoActual.last(), what + ", merged");
    }
}
