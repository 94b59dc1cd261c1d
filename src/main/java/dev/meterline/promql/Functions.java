package dev.meterline.promql;

import dev.meterline.model.Aggregate;
import dev.meterline.promql.Evaluator.Sample;
import dev.meterline.promql.Evaluator.Vector;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static dev.meterline.promql.WindowSpan.upperIndex;

/** The functions of the subset: the {@code _over_time} family, rate and increase, and histogram_quantile. */
final class Functions {

    private Functions() {
    }

    /** Applies {@code f}, which takes range selector {@code m}, at {@code t} over the series read for it. */
    static Vector overRange(Expr.Function f, Expr.MatrixSelector m, List<View.Series> series, long t) {
        long to = t - m.selector().offsetMs();
        boolean delta = f == Expr.Function.RATE || f == Expr.Function.INCREASE;
        List<Sample> out = new ArrayList<>();
        for (View.Series s : series) {
            if (delta && !s.kind().delta()) {
                throw PromException.badData(f.promName() + "() over \"" + s.labels().get(View.NAME)
                        + "\": Meterline's windows hold per-window deltas only in the _count, _sum and _bucket "
                        + "samples, so rate and increase apply to those alone");
            }
            int hi = upperIndex(s.ends(), to);
            int lo = upperIndex(s.ends(), to - m.rangeMs());
            if (hi == lo) {
                continue;
            }
            Aggregate[] w = s.windows();
            View.Kind k = s.kind();
            double v;
            Aggregate sketch = null;
            switch (f) {
                case SUM_OVER_TIME, INCREASE, RATE -> {
                    double sum = 0;
                    for (int i = lo; i < hi; i++) {
                        sum += k.of(w[i]);
                    }
                    v = f == Expr.Function.RATE ? sum / (m.rangeMs() / 1000.0) : sum;
                    if (k.bucket()) {
                        sketch = WindowSpan.mergeWindows(w, lo, hi);
                    }
                }
                case AVG_OVER_TIME -> {
                    double sum = 0;
                    for (int i = lo; i < hi; i++) {
                        sum += k.of(w[i]);
                    }
                    v = sum / (hi - lo);
                }
                case MIN_OVER_TIME -> {
                    v = Double.NaN;
                    for (int i = lo; i < hi; i++) {
                        double x = k.of(w[i]);
                        v = Double.isNaN(v) || x < v ? x : v;
                    }
                }
                case MAX_OVER_TIME -> {
                    v = Double.NaN;
                    for (int i = lo; i < hi; i++) {
                        double x = k.of(w[i]);
                        v = Double.isNaN(v) || x > v ? x : v;
                    }
                }
                case COUNT_OVER_TIME -> v = hi - lo;
                case LAST_OVER_TIME -> {
                    v = k.of(w[hi - 1]);
                    if (k.bucket()) {
                        sketch = w[hi - 1];
                    }
                }
                default -> throw new IllegalStateException(f.name());
            }
            Map<String, String> labels = f == Expr.Function.LAST_OVER_TIME ? s.labels()
                    : Evaluator.dropName(s.labels());
            out.add(new Sample(labels, v, sketch));
        }
        return new Vector(out);
    }

    /** The {@code phi}-quantile of each sample's sketch, which only {@code _bucket} samples carry. */
    static Vector histogramQuantile(double phi, Vector v) {
        List<Sample> out = new ArrayList<>();
        Map<Map<String, String>, Boolean> seen = new HashMap<>();
        for (Sample s : v.samples()) {
            if (s.sketch() == null) {
                throw PromException.badData("histogram_quantile() reads the sketches of _bucket samples, and \""
                        + s.labels().getOrDefault(View.NAME, s.labels().toString()) + "\" has none: use "
                        + "histogram_quantile(φ, sum by (…) (B_bucket)) or over rate/increase/sum_over_time of "
                        + "B_bucket, without arithmetic in between");
            }
            TreeMap<String, String> labels = new TreeMap<>(s.labels());
            labels.remove(View.NAME);
            labels.remove(View.LE);
            Map<String, String> l = Collections.unmodifiableMap(labels);
            if (seen.put(l, Boolean.TRUE) != null) {
                throw PromException.execution("vector cannot contain metrics with the same labelset " + l);
            }
            double q;
            if (Double.isNaN(phi)) {
                q = Double.NaN;
            } else if (phi < 0) {
                q = Double.NEGATIVE_INFINITY;
            } else if (phi > 1) {
                q = Double.POSITIVE_INFINITY;
            } else {
                q = s.sketch().count() == 0 ? Double.NaN : s.sketch().valueAtQuantile(phi);
            }
            out.add(new Sample(l, q, null));
        }
        return new Vector(out);
    }
}
