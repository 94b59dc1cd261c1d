package dev.meterline.aggregate;

import dev.meterline.model.Aggregate;
import dev.meterline.model.AggregateColumns;
import dev.meterline.model.SeriesKey;
import dev.meterline.model.TagKeySets;
import dev.meterline.model.Window;
import dev.meterline.model.WindowList;

import java.util.Arrays;
import java.util.List;

/**
 * The windows one shard closed in one flush, in columns: the series of each, and its aggregate in
 * {@link AggregateColumns}, whose rows the windows' starts label; completeness is kept only when some window is
 * incomplete (the final flush). They wait here from their close until the store holds them (seconds, while a large
 * flush is written at its pace), so they are a few large arrays, sized by the close from the series it knows to be
 * due, rather than a {@link Window} and an {@link Aggregate} per window that every young collection meanwhile would
 * copy. {@link #get} builds a window afresh for its caller, who keeps it only while it works on it.
 *
 * <p>A close that takes a shard's windows metric by metric records where each metric's run of windows ends
 * ({@link #endRun}), so that grouping the flush by metric for queries is a pass over a few hundred runs
 * ({@link #runs}) rather than over every window's series key. A run may also carry, for the tag keys queries indexed
 * its metric by in the flush before, its windows by their values' hashes ({@link #runIndex}), built on the shard's
 * thread as the run ends, so that the pending flush's index of the metric is a merge of these, and one key of each
 * distinct set of tag keys among its windows' series ({@link #addTagKeySets}), so that the flush's label names are
 * known without reading every window's key either.
 *
 * <p>Filled by the shard's thread, then handed over and only read.
 */
final class ClosedWindows extends WindowList {

    private final long resolution;
    private final long flushSeq;
    private SeriesKey[] series;
    /** Whether each window is complete; null while every window is. */
    private boolean[] complete;
    private final AggregateColumns aggregates;
    private int size;
    /** The metric of each run and the index after its last window, while the windows are taken by metric. */
    private String[] runMetrics = new String[0];
    private int[] runEnds = new int[0];
    /** Per run, the tag keys its windows are indexed by and the index of each; null for none. */
    private String[][] runIndexKeys = new String[0][];
    private long[][][] runIndexes = new long[0][][];
    /** Per run, one key of each set of tag keys among its series; null when not known. */
    private SeriesKey[][] runKeySets = new SeriesKey[0][];
    private int runCount;
    /** Whether every window is in a run: the windows were taken metric by metric. */
    private boolean byMetric;

    /** Room for {@code capacity} windows of {@code resolution}, closed by flush {@code flushSeq}; more make it grow. */
    ClosedWindows(int capacity, long resolution, long flushSeq) {
        this.resolution = resolution;
        this.flushSeq = flushSeq;
        this.series = new SeriesKey[capacity];
        this.aggregates = new AggregateColumns(capacity);
    }

    /**
     * Adds the window of {@code series} at {@code start} whose aggregate is the contents of {@code a}, and leaves
     * {@code a} empty: a series state, which is the aggregate of its last window and stays, or an older window, which
     * goes back to its shard's spares.
     */
    void take(SeriesKey series, long start, boolean complete, Aggregate a) {
        place(series, complete);
        aggregates.take(a, start);
    }

    /**
     * From now on the windows are taken metric by metric: each metric's windows follow one another, and
     * {@link #endRun} follows each metric's last. Called before the first window is taken.
     */
    void takeByMetric() {
        if (size > 0) {
            throw new IllegalStateException("windows taken before: " + size);
        }
        byMetric = true;
    }

    /**
     * The windows taken since the last run ended are of {@code metric}, indexed by the values of each of
     * {@code tagKeys} (none: not indexed), and {@code keySets} holds one key of each distinct set of tag keys among
     * their series (null: not known); no run when there are none.
     */
    void endRun(String metric, List<String> tagKeys, SeriesKey[] keySets) {
        int from = runCount == 0 ? 0 : runEnds[runCount - 1];
        if (size == from) {
            return;
        }
        if (runCount == runEnds.length) {
            int capacity = Math.max(8, 2 * runCount);
            runEnds = Arrays.copyOf(runEnds, capacity);
            runMetrics = Arrays.copyOf(runMetrics, capacity);
            runIndexKeys = Arrays.copyOf(runIndexKeys, capacity);
            runIndexes = Arrays.copyOf(runIndexes, capacity);
            runKeySets = Arrays.copyOf(runKeySets, capacity);
        }
        if (!tagKeys.isEmpty()) {
            runIndexKeys[runCount] = tagKeys.toArray(new String[0]);
            runIndexes[runCount] = new long[tagKeys.size()][];
            for (int k = 0; k < tagKeys.size(); k++) {
                runIndexes[runCount][k] = TagIndex.of(size - from, i -> series[from + i], tagKeys.get(k));
            }
        }
        runKeySets[runCount] = keySets;
        runMetrics[runCount] = metric;
        runEnds[runCount++] = size;
    }

    /**
     * The index of run {@code run}'s windows by the values of {@code tagKey}, as {@link #endRun} built it (places
     * counted from the run's first window); null when the run is not indexed by that key.
     */
    long[] runIndex(int run, String tagKey) {
        String[] keys = runIndexKeys[run];
        if (keys != null) {
            for (int k = 0; k < keys.length; k++) {
                if (keys[k].equals(tagKey)) {
                    return runIndexes[run][k];
                }
            }
        }
        return null;
    }

    /**
     * Receives run {@code run}, of windows of one metric, at {@code from} up to {@code to}; its first {@code cut}
     * windows are not among them.
     */
    interface RunConsumer {
        void run(int run, String metric, int from, int to, int cut);
    }

    /**
     * Gives each metric's run of the windows from {@code skip} on to {@code out}, in order, window {@code i} at
     * {@code offset + i - skip}; a run that begins before {@code skip} is given cut. False, with nothing given, when
     * the windows were not taken by metric.
     */
    boolean runs(int offset, int skip, RunConsumer out) {
        if (!byMetric) {
            return false;
        }
        checkRuns();
        int from = 0;
        for (int r = 0; r < runCount; r++) {
            int to = runEnds[r];
            if (to > skip) {
                int cut = Math.max(0, skip - from);
                out.run(r, runMetrics[r], offset + from + cut - skip, offset + to - skip, cut);
            }
            from = to;
        }
        return true;
    }

    /**
     * Adds one key of each distinct set of tag keys among the series of the windows from {@code skip} on to
     * {@code out}: from each whole run's sets where the close noted them, else from the windows' keys.
     */
    void addTagKeySets(int skip, TagKeySets out) {
        if (!byMetric) {
            addKeys(skip, size, out);
            return;
        }
        checkRuns();
        int from = 0;
        for (int r = 0; r < runCount; r++) {
            int to = runEnds[r];
            if (to > skip) {
                if (from >= skip && runKeySets[r] != null) {
                    for (SeriesKey k : runKeySets[r]) {
                        out.add(k);
                    }
                } else {
                    addKeys(Math.max(from, skip), to, out);
                }
            }
            from = to;
        }
    }

    private void addKeys(int from, int to, TagKeySets out) {
        for (int i = from; i < to; i++) {
            out.add(series[i]);
        }
    }

    private void checkRuns() {
        if ((runCount == 0 ? 0 : runEnds[runCount - 1]) != size) {
            throw new IllegalStateException("windows after the last run: " + size);
        }
    }

    private void place(SeriesKey key, boolean done) {
        if (size == series.length) {
            int capacity = Math.max(16, 2 * size);
            series = Arrays.copyOf(series, capacity);
            if (complete != null) {
                complete = Arrays.copyOf(complete, capacity);
            }
        }
        if (!done && complete == null) {
            complete = new boolean[series.length];
            Arrays.fill(complete, 0, size, true);
        }
        if (complete != null) {
            complete[size] = done;
        }
        series[size] = key;
        size++;
    }

    @Override
    public Window get(int i) {
        return new Window(series(i), aggregates.label(i), resolution, aggregates.get(i),
                complete == null || complete[i], flushSeq);
    }

    @Override
    public SeriesKey series(int i) {
        return series[checked(i)];
    }

    @Override
    public long start(int i) {
        return aggregates.label(checked(i));
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
