package dev.meterline.aggregate;

import dev.meterline.model.Aggregate;
import dev.meterline.model.AggregateColumns;
import dev.meterline.model.SeriesKey;
import dev.meterline.model.Window;
import dev.meterline.model.WindowList;

import java.util.Arrays;

/**
 * The windows one shard closed in one flush, in columns: the series, start and completeness of each, and its
 * aggregate in {@link AggregateColumns}. They wait here from their close until the store holds them (seconds, while a
 * large flush is written at its pace), so they are a few large arrays, sized by the close from the series it knows
 * to be due, rather than a {@link Window} and an {@link Aggregate} per window that every young collection meanwhile
 * would copy. {@link #get} builds a window afresh for its caller, who keeps it only while it works on it.
 *
 * <p>Filled by the shard's thread, then handed over and only read.
 */
final class ClosedWindows extends WindowList {

    private final long resolution;
    private final long flushSeq;
    private SeriesKey[] series;
    private long[] starts;
    private boolean[] complete;
    private final AggregateColumns aggregates;
    private int size;

    /** Room for {@code capacity} windows of {@code resolution}, closed by flush {@code flushSeq}; more make it grow. */
    ClosedWindows(int capacity, long resolution, long flushSeq) {
        this.resolution = resolution;
        this.flushSeq = flushSeq;
        this.series = new SeriesKey[capacity];
        this.starts = new long[capacity];
        this.complete = new boolean[capacity];
        this.aggregates = new AggregateColumns(capacity);
    }

    /** Adds the window of {@code series} at {@code start} whose aggregate is {@code a}, which the caller drops. */
    void add(SeriesKey series, long start, boolean complete, Aggregate a) {
        place(series, start, complete);
        aggregates.add(a);
    }

    /**
     * Adds the window of {@code series} at {@code start} whose aggregate is the contents of {@code a}, and leaves
     * {@code a} empty: a series state, which is the aggregate of its last window and stays.
     */
    void take(SeriesKey series, long start, boolean complete, Aggregate a) {
        place(series, start, complete);
        aggregates.take(a);
    }

    private void place(SeriesKey key, long start, boolean done) {
        if (size == series.length) {
            int capacity = Math.max(16, 2 * size);
            series = Arrays.copyOf(series, capacity);
            starts = Arrays.copyOf(starts, capacity);
            complete = Arrays.copyOf(complete, capacity);
        }
        series[size] = key;
        starts[size] = start;
        complete[size] = done;
        size++;
    }

    @Override
    public Window get(int i) {
        return new Window(series(i), starts[i], resolution, aggregates.get(i), complete[i], flushSeq);
    }

    @Override
    public SeriesKey series(int i) {
        return series[checked(i)];
    }

    @Override
    public long start(int i) {
        return starts[checked(i)];
    }

    @Override
    public long resolution(int i) {
        checked(i);
        return resolution;
    }

    private int checked(int i) {
        if (i < 0 || i >= size) {
            throw new IndexOutOfBoundsException("window " + i + " of " + size);
        }
        return i;
    }

    @Override
    public int size() {
        return size;
    }
}
