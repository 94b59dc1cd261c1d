package dev.meterline.promql;

import dev.meterline.model.Aggregate;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.LongSupplier;

import static dev.meterline.promql.WindowSpan.upperIndex;

/**
 * Evaluates a parsed expression at one time over windows already read for its selectors. An instant selector at
 * {@code t} covers the windows whose end lies in {@code (t - span, t]}: merged, as aggregates merge, in a range query
 * ({@code span} is the step, or the window when the step is finer); the latest one in an instant query ({@code span}
 * is the lookback). A range selector {@code [d]} gives one sample per window ending in {@code (t - d, t]}.
 */
final class Evaluator {

    /** A value: a scalar, an instant vector, or (only as a query's result) a range vector. */
    sealed interface Value {
    }

    record Scalar(double value) implements Value {
    }

    /** One sample; {@code sketch} is the merged sketch a {@code _bucket} sample carries, else null. */
    record Sample(Map<String, String> labels, double value, Aggregate sketch) {
    }

    record Vector(List<Sample> samples) implements Value {
    }

    /** One series of a range vector: its labels and its samples' times and values. */
    record Range(Map<String, String> labels, long[] times, double[] values) {
    }

    record Matrix(List<Range> series) implements Value {
    }

    private final Map<Expr.VectorSelector, List<View.Series>> data;
    private final long span;
    private final boolean latest;
    private final long deadlineNanos;
    private final LongSupplier nanos;
    /** Per aggregation node, its input's group labels, kept from step to step. */
    private final Map<Expr.Aggregation, GroupKeys> groupKeys = new IdentityHashMap<>();
    /** Per selector node, where its series' windows stood at the last evaluation time. */
    private final Map<Expr.VectorSelector, Cursor> cursors = new IdentityHashMap<>();

    /**
     * @param data   the series read for each selector node
     * @param span   how far back from {@code t} an instant selector reaches
     * @param latest true to take the latest window in that span (instant query), false to merge them all
     */
    Evaluator(IdentityHashMap<Expr.VectorSelector, List<View.Series>> data, long span, boolean latest,
              long deadlineNanos, LongSupplier nanos) {
        this.data = data;
        this.span = span;
        this.latest = latest;
        this.deadlineNanos = deadlineNanos;
        this.nanos = nanos;
    }

    void checkDeadline() {
        if (nanos.getAsLong() - deadlineNanos > 0) {
            throw new PromException(PromException.Type.TIMEOUT, "query timed out in expression evaluation");
        }
    }

    Value eval(Expr e, long t) {
        if (e instanceof Expr.NumberLiteral n) {
            return new Scalar(n.value());
        } else if (e instanceof Expr.VectorSelector v) {
            return selector(v, t);
        } else if (e instanceof Expr.MatrixSelector m) {
            return matrix(m, t);
        } else if (e instanceof Expr.Negation n) {
            return negation(eval(n.expr(), t));
        } else if (e instanceof Expr.Binary b) {
            return BinaryOps.apply(b, eval(b.lhs(), t), eval(b.rhs(), t));
        } else if (e instanceof Expr.Aggregation a) {
            Vector in = (Vector) eval(a.expr(), t);
            double param = a.param() == null ? 0 : ((Scalar) eval(a.param(), t)).value();
            GroupKeys keys = groupKeys.computeIfAbsent(a, x -> new GroupKeys(x.without(), x.grouping()));
            return Aggregations.aggregate(a, in, param, keys);
        } else if (e instanceof Expr.Call c) {
            return call(c, t);
        }
        throw PromException.unsupported("a string expression");
    }

    private Vector selector(Expr.VectorSelector v, long t) {
        checkDeadline();
        long to = t - v.offsetMs();
        long from = to - span;
        List<View.Series> series = data.get(v);
        Cursor c = cursors.computeIfAbsent(v, x -> new Cursor(series.size()));
        c.moveTo(series, from, to);
        List<Sample> out = new ArrayList<>(series.size());
        for (int i = 0; i < series.size(); i++) {
            View.Series s = series.get(i);
            int hi = c.hi[i];
            int lo = c.lo[i];
            if (hi == lo) {
                continue;
            }
            if (latest || hi - lo == 1) {
                Aggregate a = s.windows()[hi - 1];
                out.add(new Sample(s.labels(), s.kind().of(a), s.kind().bucket() ? a : null));
            } else {
                out.add(WindowSpan.merged(s, lo, hi));
            }
        }
        return new Vector(out);
    }

    private Matrix matrix(Expr.MatrixSelector m, long t) {
        List<Range> out = new ArrayList<>();
        long to = t - m.selector().offsetMs();
        for (View.Series s : data.get(m.selector())) {
            int hi = upperIndex(s.ends(), to);
            int lo = upperIndex(s.ends(), to - m.rangeMs());
            if (hi > lo) {
                double[] values = new double[hi - lo];
                for (int i = lo; i < hi; i++) {
                    values[i - lo] = s.kind().of(s.windows()[i]);
                }
                out.add(new Range(s.labels(), Arrays.copyOfRange(s.ends(), lo, hi), values));
            }
        }
        return new Matrix(out);
    }

    private static Value negation(Value v) {
        if (v instanceof Scalar s) {
            return new Scalar(-s.value());
        }
        List<Sample> out = new ArrayList<>();
        for (Sample s : ((Vector) v).samples()) {
            out.add(new Sample(dropName(s.labels()), -s.value(), null));
        }
        return new Vector(out);
    }

    private Value call(Expr.Call c, long t) {
        if (c.function() == Expr.Function.HISTOGRAM_QUANTILE) {
            double phi = ((Scalar) eval(c.args().get(0), t)).value();
            return Functions.histogramQuantile(phi, (Vector) eval(c.args().get(1), t));
        }
        Expr.MatrixSelector m = (Expr.MatrixSelector) c.args().get(0);
        checkDeadline();
        return Functions.overRange(c.function(), m, data.get(m.selector()), t);
    }

    /**
     * For each series of a selector, the number of its windows ending at or before {@code from} and {@code to}: a range
     * query's times only grow, so each step moves the counts on from the last step's rather than searching again.
     */
    private static final class Cursor {
        final int[] lo;
        final int[] hi;
        private long from = Long.MAX_VALUE;
        private long to = Long.MAX_VALUE;

        Cursor(int size) {
            lo = new int[size];
            hi = new int[size];
        }

        void moveTo(List<View.Series> series, long from, long to) {
            boolean forward = from >= this.from && to >= this.to;
            for (int i = 0; i < series.size(); i++) {
                long[] ends = series.get(i).ends();
                if (forward) {
                    lo[i] = advance(ends, lo[i], from);
                    hi[i] = advance(ends, hi[i], to);
                } else {
                    lo[i] = upperIndex(ends, from);
                    hi[i] = upperIndex(ends, to);
                }
            }
            this.from = from;
            this.to = to;
        }

        /** The number of ends at or before {@code t}, knowing that the first {@code i} are. */
        private static int advance(long[] ends, int i, long t) {
            while (i < ends.length && ends[i] <= t) {
                i++;
            }
            return i;
        }
    }

    /** The labels without the metric name, as every operation that changes a sample's meaning returns them. */
    static Map<String, String> dropName(Map<String, String> labels) {
        if (!labels.containsKey(View.NAME)) {
            return labels;
        }
        TreeMap<String, String> l = new TreeMap<>(labels);
        l.remove(View.NAME);
        return Collections.unmodifiableMap(l);
    }
}
