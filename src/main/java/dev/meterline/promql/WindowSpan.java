package dev.meterline.promql;

import dev.meterline.model.Aggregate;
import dev.meterline.model.PrometheusNames.Stat;

import java.util.Arrays;

/** Finds the windows of a series that end in a span of time, and merges them as aggregates merge. */
final class WindowSpan {

    private WindowSpan() {
    }

    /** The number of ends at or before {@code t}. */
    static int upperIndex(long[] ends, long t) {
        int i = Arrays.binarySearch(ends, t);
        return i >= 0 ? i + 1 : -i - 1;
    }

    /** The value of windows {@code [lo, hi)} of a series merged as aggregates merge. */
    static Evaluator.Sample merged(View.Series s, int lo, int hi) {
        Stat stat = s.kind().stat();
        if (stat != null) {
            long count = 0;
            double sum = 0;
            double min = Double.POSITIVE_INFINITY;
            double max = Double.NEGATIVE_INFINITY;
            double last = Double.NaN;
            long lastTs = Long.MIN_VALUE;
            for (int i = lo; i < hi; i++) {
                Aggregate a = s.windows()[i];
                count += a.count();
                sum += a.sum();
                min = Math.min(min, a.min());
                max = Math.max(max, a.max());
                if (a.lastTimestamp() >= lastTs) {
                    lastTs = a.lastTimestamp();
                    last = a.last();
                }
            }
            double v = switch (stat) {
                case COUNT -> count;
                case SUM -> sum;
                case MIN -> min;
                case MAX -> max;
                case MEAN -> sum / count;
                case LAST -> last;
            };
            return new Evaluator.Sample(s.labels(), v, null);
        }
        Aggregate m = mergeWindows(s.windows(), lo, hi);
        return new Evaluator.Sample(s.labels(), s.kind().of(m), s.kind().bucket() ? m : null);
    }

    /** Windows {@code [lo, hi)} merged into one aggregate. */
    static Aggregate mergeWindows(Aggregate[] windows, int lo, int hi) {
        Aggregate m = new Aggregate();
        for (int i = lo; i < hi; i++) {
            m.mergeWith(windows[i]);
        }
        return m;
    }
}
