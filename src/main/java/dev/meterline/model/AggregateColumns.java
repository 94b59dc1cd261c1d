package dev.meterline.model;

import java.util.Arrays;

/**
 * Aggregates held as rows of one large {@code long} array, for the windows of a flush between their close and their
 * store write: a million windows are then a few large arrays the collector never scans, instead of a million objects
 * each young collection copies. A row holds the fields of an aggregate whose waiting values are all implicit (a
 * window of at most {@link Aggregate#IMPLICIT_MAX} values, no late point: nearly every window when series are many),
 * the doubles as their bits, and one more {@code long} its holder labels the row with (a window's start); any other
 * aggregate's contents are kept whole beside the rows, in an aggregate of their own. Each aggregate taken is left
 * empty for its holder to go on with. {@link #get} gives back an aggregate equal in every field and answer to the
 * one taken, built afresh for a row of fields.
 *
 * <p>A row's fields lie together, in one or two cache lines: the store reads a flush in its key order, which is not
 * the order of the rows, and an array per field would cost a cache miss per field for every window read.
 *
 * <p>Not thread-safe while rows are added; once filled and handed over (a safe publication), it may be read from any
 * thread, as {@link #get} changes nothing.
 */
public final class AggregateColumns {

    static final int COUNT = 0;
    static final int SUM = 1;
    static final int MIN = 2;
    static final int MAX = 3;
    static final int LAST = 4;
    static final int FIRST_TIMESTAMP = 5;
    static final int LAST_TIMESTAMP = 6;
    static final int THIRD = 7;
    static final int FOURTH = 8;
    /** How many values wait in the row's fields. */
    static final int WAITING = 9;
    private static final int LABEL = 10;
    /** Longs per row. */
    static final int STRIDE = 11;

    long[] rows;
    /** The aggregates kept whole, by row; null until the first one. */
    private Aggregate[] whole;
    private int size;

    /** Room for {@code capacity} rows; more rows make it grow. */
    public AggregateColumns(int capacity) {
        if (capacity < 0) {
            throw new IllegalArgumentException("capacity: " + capacity + " (expected: >= 0)");
        }
        rows = new long[Math.multiplyExact(capacity, STRIDE)];
    }

    /**
     * Adds the contents of {@code a} as the next row, labelled {@code label}, and leaves {@code a} empty, as a new
     * aggregate is, for a holder that goes on with the same object.
     */
    public void take(Aggregate a, long label) {
        int row = nextRow(label);
        if (a.fieldsOnly()) {
            a.writeTo(this, row * STRIDE);
            a.clear();
        } else {
            keepWhole(row, a.moveOut());
        }
    }

    /**
     * The aggregate of row {@code i}: the one kept whole (the same object at every call, as a list of aggregates
     * gives), else a new one from the row's fields.
     */
    public Aggregate get(int i) {
        check(i);
        Aggregate[] w = whole;
        if (w != null && w[i] != null) {
            return w[i];
        }
        return Aggregate.readFrom(this, i * STRIDE);
    }

    /** The label row {@code i} was added with. */
    public long label(int i) {
        return rows[check(i) * STRIDE + LABEL];
    }

    public int size() {
        return size;
    }

    /** How many rows are aggregates kept whole; for tests. */
    int keptWhole() {
        int n = 0;
        if (whole != null) {
            for (int i = 0; i < size; i++) {
                n += whole[i] == null ? 0 : 1;
            }
        }
        return n;
    }

    private int check(int i) {
        if (i < 0 || i >= size) {
            throw new IndexOutOfBoundsException("row " + i + " of " + size);
        }
        return i;
    }

    private void keepWhole(int row, Aggregate a) {
        if (whole == null) {
            whole = new Aggregate[rows.length / STRIDE];
        }
        whole[row] = a;
    }

    private int nextRow(long label) {
        if ((size + 1) * STRIDE > rows.length) {
            int capacity = Math.max(16, 2 * size);
            rows = Arrays.copyOf(rows, Math.multiplyExact(capacity, STRIDE));
            if (whole != null) {
                whole = Arrays.copyOf(whole, capacity);
            }
        }
        rows[size * STRIDE + LABEL] = label;
        return size++;
    }
}
