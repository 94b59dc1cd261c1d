package dev.meterline.model;

import java.util.Arrays;

/**
 * Aggregates held as rows of primitive columns, one array per field, for the windows of a flush between their close
 * and their store write: a million windows are then a few large arrays the collector never scans, instead of a
 * million objects each young collection copies. A row holds the fields of an aggregate whose waiting values are all
 * implicit (a window of at most {@link Aggregate#IMPLICIT_MAX} values, no late point: nearly every window when series
 * are many); any other aggregate is kept whole beside the columns. {@link #get} gives back an aggregate equal in
 * every field and answer to the one added, built afresh for a row of fields.
 *
 * <p>Not thread-safe while rows are added; once filled and handed over (a safe publication), it may be read from any
 * thread, as {@link #get} changes nothing.
 */
public final class AggregateColumns {

    long[] count;
    double[] sum;
    double[] min;
    double[] max;
    double[] last;
    long[] firstTimestamp;
    long[] lastTimestamp;
    double[] third;
    double[] fourth;
    /** How many values wait in each row's fields. */
    byte[] waiting;
    /** The aggregates kept whole, by row; null until the first one. */
    private Aggregate[] whole;
    private int size;

    /** Columns with room for {@code capacity} rows; more rows make them grow. */
    public AggregateColumns(int capacity) {
        if (capacity < 0) {
            throw new IllegalArgumentException("capacity: " + capacity + " (expected: >= 0)");
        }
        count = new long[capacity];
        sum = new double[capacity];
        min = new double[capacity];
        max = new double[capacity];
        last = new double[capacity];
        firstTimestamp = new long[capacity];
        lastTimestamp = new long[capacity];
        third = new double[capacity];
        fourth = new double[capacity];
        waiting = new byte[capacity];
    }

    /** Adds {@code a} as the next row; the caller drops {@code a}, which may be kept whole. */
    public void add(Aggregate a) {
        int row = nextRow();
        if (a.fieldsOnly()) {
            a.writeTo(this, row);
        } else {
            keepWhole(row, a);
        }
    }

    /**
     * Adds the contents of {@code a} as the next row and leaves {@code a} empty, as a new aggregate is, for a holder
     * that goes on with the same object.
     */
    public void take(Aggregate a) {
        int row = nextRow();
        if (a.fieldsOnly()) {
            a.writeTo(this, row);
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
        if (i < 0 || i >= size) {
            throw new IndexOutOfBoundsException("row " + i + " of " + size);
        }
        Aggregate[] w = whole;
        if (w != null && w[i] != null) {
            return w[i];
        }
        return Aggregate.readFrom(this, i);
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

    private void keepWhole(int row, Aggregate a) {
        if (whole == null) {
            whole = new Aggregate[count.length];
        }
        whole[row] = a;
    }

    private int nextRow() {
        if (size == count.length) {
            grow(Math.max(16, 2 * size));
        }
        return size++;
    }

    private void grow(int capacity) {
        count = Arrays.copyOf(count, capacity);
        sum = Arrays.copyOf(sum, capacity);
        min = Arrays.copyOf(min, capacity);
        max = Arrays.copyOf(max, capacity);
        last = Arrays.copyOf(last, capacity);
        firstTimestamp = Arrays.copyOf(firstTimestamp, capacity);
        lastTimestamp = Arrays.copyOf(lastTimestamp, capacity);
        third = Arrays.copyOf(third, capacity);
        fourth = Arrays.copyOf(fourth, capacity);
        waiting = Arrays.copyOf(waiting, capacity);
        if (whole != null) {
            whole = Arrays.copyOf(whole, capacity);
        }
    }
}
