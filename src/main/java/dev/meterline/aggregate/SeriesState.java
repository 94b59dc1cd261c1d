package dev.meterline.aggregate;

import dev.meterline.model.Aggregate;
import dev.meterline.model.SeriesKey;

import java.util.Arrays;

/** The open windows of one series: usually one or two, so parallel arrays beat a map. */
final class SeriesState {
    final SeriesKey key;
    long[] starts = new long[2];
    Aggregate[] aggs = new Aggregate[2];
    int n;
    /** False once the series left its shard (its last window closed); tag indexes drop such states lazily. */
    boolean live = true;
    /** Its index among its metric's series ({@link MetricSeries}). */
    int place;
    /** The window found or added last (points mostly go to the newest), kept here to skip the arrays. */
    long lastStart;
    Aggregate last;

    SeriesState(SeriesKey key) {
        this.key = key;
    }

    Aggregate find(long start) {
        if (last != null && lastStart == start) {
            return last;
        }
        for (int i = n - 1; i >= 0; i--) {
            if (starts[i] == start) {
                lastStart = start;
                last = aggs[i];
                return last;
            }
        }
        return null;
    }

    void add(long start, Aggregate a) {
        if (n == starts.length) {
            starts = Arrays.copyOf(starts, n * 2);
            aggs = Arrays.copyOf(aggs, n * 2);
        }
        starts[n] = start;
        aggs[n] = a;
        n++;
        lastStart = start;
        last = a;
    }

    Aggregate remove(long start) {
        if (last != null && lastStart == start) {
            last = null;
        }
        for (int i = 0; i < n; i++) {
            if (starts[i] == start) {
                Aggregate a = aggs[i];
                n--;
                starts[i] = starts[n];
                aggs[i] = aggs[n];
                aggs[n] = null;
                return a;
            }
        }
        return null;
    }
}
