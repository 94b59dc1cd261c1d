package dev.meterline.promql;

import dev.meterline.model.Aggregate;
import dev.meterline.model.PrometheusNames.Stat;
import dev.meterline.promql.Expr.BinaryOp;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.LongSupplier;

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
            Value v = eval(n.expr(), t);
            if (v instanceof Scalar s) {
                return new Scalar(-s.value());
            }
            List<Sample> out = new ArrayList<>();
            for (Sample s : ((Vector) v).samples()) {
                out.add(new Sample(dropName(s.labels()), -s.value(), null));
            }
            return new Vector(out);
        } else if (e instanceof Expr.Binary b) {
            return binary(b, t);
        } else if (e instanceof Expr.Aggregation a) {
            return aggregation(a, t);
        } else if (e instanceof Expr.Call c) {
            return call(c, t);
        }
        throw PromException.unsupported("a string expression");
    }

    // ---- selectors

    private Vector selector(Expr.VectorSelector v, long t) {
        checkDeadline();
        long to = t - v.offsetMs();
        long from = to - span;
        List<Sample> out = new ArrayList<>();
        for (View.Series s : data.get(v)) {
            int hi = upperIndex(s.ends(), to);
            int lo = upperIndex(s.ends(), from);
            if (hi == lo) {
                continue;
            }
            if (latest || hi - lo == 1) {
                Aggregate a = s.windows()[hi - 1];
                out.add(new Sample(s.labels(), s.kind().of(a), s.kind().bucket() ? a : null));
            } else {
                out.add(merged(s, lo, hi));
            }
        }
        return new Vector(out);
    }

    /** The value of windows {@code [lo, hi)} of a series merged as aggregates merge. */
    private static Sample merged(View.Series s, int lo, int hi) {
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
            return new Sample(s.labels(), v, null);
        }
        Aggregate m = mergeWindows(s.windows(), lo, hi);
        return new Sample(s.labels(), s.kind().of(m), s.kind().bucket() ? m : null);
    }

    private static Aggregate mergeWindows(Aggregate[] windows, int lo, int hi) {
        Aggregate m = new Aggregate();
        for (int i = lo; i < hi; i++) {
            m.mergeWith(windows[i]);
        }
        return m;
    }

    /** The number of ends at or before {@code t}. */
    private static int upperIndex(long[] ends, long t) {
        int i = Arrays.binarySearch(ends, t);
        return i >= 0 ? i + 1 : -i - 1;
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

    // ---- functions

    private Value call(Expr.Call c, long t) {
        if (c.function() == Expr.Function.HISTOGRAM_QUANTILE) {
            return histogramQuantile(c, t);
        }
        Expr.MatrixSelector m = (Expr.MatrixSelector) c.args().get(0);
        long to = t - m.selector().offsetMs();
        boolean delta = c.function() == Expr.Function.RATE || c.function() == Expr.Function.INCREASE;
        List<Sample> out = new ArrayList<>();
        checkDeadline();
        for (View.Series s : data.get(m.selector())) {
            if (delta && !s.kind().delta()) {
                throw PromException.badData(c.function().promName() + "() over \"" + s.labels().get(View.NAME)
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
            switch (c.function()) {
                case SUM_OVER_TIME, INCREASE, RATE -> {
                    double sum = 0;
                    for (int i = lo; i < hi; i++) {
                        sum += k.of(w[i]);
                    }
                    v = c.function() == Expr.Function.RATE ? sum / (m.rangeMs() / 1000.0) : sum;
                    if (k.bucket()) {
                        sketch = mergeWindows(w, lo, hi);
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
                default -> throw new IllegalStateException(c.function().name());
            }
            Map<String, String> labels = c.function() == Expr.Function.LAST_OVER_TIME ? s.labels()
                    : dropName(s.labels());
            out.add(new Sample(labels, v, sketch));
        }
        return new Vector(out);
    }

    private Value histogramQuantile(Expr.Call c, long t) {
        double phi = ((Scalar) eval(c.args().get(0), t)).value();
        Vector v = (Vector) eval(c.args().get(1), t);
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

    // ---- aggregations

    private Value aggregation(Expr.Aggregation a, long t) {
        Vector in = (Vector) eval(a.expr(), t);
        double param = a.param() == null ? 0 : ((Scalar) eval(a.param(), t)).value();
        Map<Map<String, String>, List<Sample>> groups = new LinkedHashMap<>();
        for (Sample s : in.samples()) {
            groups.computeIfAbsent(groupLabels(s.labels(), a.without(), a.grouping()), g -> new ArrayList<>()).add(s);
        }
        List<Sample> out = new ArrayList<>();
        for (Map.Entry<Map<String, String>, List<Sample>> g : groups.entrySet()) {
            List<Sample> ss = g.getValue();
            switch (a.op()) {
                case SUM -> {
                    double sum = 0;
                    boolean sketches = true;
                    for (Sample s : ss) {
                        sum += s.value();
                        sketches &= s.sketch() != null;
                    }
                    Aggregate merged = null;
                    if (sketches) {
                        merged = new Aggregate();
                        for (Sample s : ss) {
                            merged.mergeWith(s.sketch());
                        }
                    }
                    out.add(new Sample(g.getKey(), sum, merged));
                }
                case AVG -> {
                    double sum = 0;
                    for (Sample s : ss) {
                        sum += s.value();
                    }
                    out.add(new Sample(g.getKey(), sum / ss.size(), null));
                }
                case MIN, MAX -> {
                    double v = Double.NaN;
                    for (Sample s : ss) {
                        double x = s.value();
                        if (Double.isNaN(v) || (a.op() == Expr.AggregateOp.MIN ? x < v : x > v)) {
                            v = x;
                        }
                    }
                    out.add(new Sample(g.getKey(), v, null));
                }
                case COUNT -> out.add(new Sample(g.getKey(), ss.size(), null));
                case TOPK, BOTTOMK -> {
                    long k = Double.isNaN(param) ? 0 : (long) Math.min(param, Integer.MAX_VALUE);
                    Comparator<Sample> byValue = (x, y) -> {
                        // NaN last either way, as Prometheus orders them.
                        if (Double.isNaN(x.value()) || Double.isNaN(y.value())) {
                            return Boolean.compare(Double.isNaN(x.value()), Double.isNaN(y.value()));
                        }
                        int c = Double.compare(x.value(), y.value());
                        return a.op() == Expr.AggregateOp.TOPK ? -c : c;
                    };
                    List<Sample> sorted = new ArrayList<>(ss);
                    sorted.sort(byValue);
                    out.addAll(sorted.subList(0, (int) Math.max(0, Math.min(k, sorted.size()))));
                }
                default -> throw new IllegalStateException(a.op().name());
            }
        }
        return new Vector(out);
    }

    private static Map<String, String> groupLabels(Map<String, String> labels, boolean without, List<String> grouping) {
        TreeMap<String, String> g = new TreeMap<>();
        if (without) {
            g.putAll(labels);
            g.remove(View.NAME);
            grouping.forEach(g::remove);
        } else {
            for (String l : grouping) {
                String v = labels.get(l);
                if (v != null && !v.isEmpty()) {
                    g.put(l, v);
                }
            }
        }
        return Collections.unmodifiableMap(g);
    }

    // ---- binary operators

    private Value binary(Expr.Binary b, long t) {
        Value l = eval(b.lhs(), t);
        Value r = eval(b.rhs(), t);
        BinaryOp op = b.op();
        if (l instanceof Scalar ls && r instanceof Scalar rs) {
            return new Scalar(op.comparison() ? (compare(op, ls.value(), rs.value()) ? 1 : 0)
                    : arithmetic(op, ls.value(), rs.value()));
        }
        if (l instanceof Vector lv && r instanceof Vector rv) {
            return op.set() ? set(b, lv, rv) : vectorVector(b, lv, rv);
        }
        boolean vectorLeft = l instanceof Vector;
        Vector v = (Vector) (vectorLeft ? l : r);
        double scalar = ((Scalar) (vectorLeft ? r : l)).value();
        List<Sample> out = new ArrayList<>();
        for (Sample s : v.samples()) {
            double x = vectorLeft ? s.value() : scalar;
            double y = vectorLeft ? scalar : s.value();
            if (op.comparison()) {
                boolean keep = compare(op, x, y);
                if (b.returnBool()) {
                    out.add(new Sample(dropName(s.labels()), keep ? 1 : 0, null));
                } else if (keep) {
                    out.add(new Sample(s.labels(), s.value(), null));
                }
            } else {
                out.add(new Sample(dropName(s.labels()), arithmetic(op, x, y), null));
            }
        }
        return new Vector(out);
    }

    private Vector vectorVector(Expr.Binary b, Vector l, Vector r) {
        Map<Map<String, String>, Sample> right = new HashMap<>();
        for (Sample s : r.samples()) {
            Map<String, String> sig = signature(s.labels(), b.matching());
            if (right.put(sig, s) != null) {
                throw PromException.execution("found duplicate series for the match group " + sig
                        + " on the right hand-side of the operation: many-to-many matching not allowed: matching "
                        + "labels must be unique on one side");
            }
        }
        Map<Map<String, String>, Boolean> leftSeen = new HashMap<>();
        List<Sample> out = new ArrayList<>();
        for (Sample s : l.samples()) {
            Map<String, String> sig = signature(s.labels(), b.matching());
            Sample other = right.get(sig);
            if (other == null) {
                continue;
            }
            if (leftSeen.put(sig, Boolean.TRUE) != null) {
                throw PromException.execution("multiple matches for labels " + sig
                        + ": many-to-one matching must be explicit (group_left/group_right), which Meterline's "
                        + "PromQL subset does not support");
            }
            double v;
            boolean dropName = !b.op().comparison() || b.returnBool();
            if (b.op().comparison()) {
                boolean keep = compare(b.op(), s.value(), other.value());
                if (!keep && !b.returnBool()) {
                    continue;
                }
                v = b.returnBool() ? (keep ? 1 : 0) : s.value();
            } else {
                v = arithmetic(b.op(), s.value(), other.value());
            }
            TreeMap<String, String> labels = new TreeMap<>(s.labels());
            if (dropName) {
                labels.remove(View.NAME);
            }
            if (b.matching() != null) {
                if (b.matching().on()) {
                    labels.keySet().retainAll(b.matching().labels());
                } else {
                    b.matching().labels().forEach(labels::remove);
                }
            }
            out.add(new Sample(Collections.unmodifiableMap(labels), v, null));
        }
        return new Vector(out);
    }

    private Vector set(Expr.Binary b, Vector l, Vector r) {
        Map<Map<String, String>, Boolean> rightSigs = new HashMap<>();
        for (Sample s : r.samples()) {
            rightSigs.put(signature(s.labels(), b.matching()), Boolean.TRUE);
        }
        List<Sample> out = new ArrayList<>();
        switch (b.op()) {
            case AND -> l.samples().stream().filter(s -> rightSigs.containsKey(signature(s.labels(), b.matching())))
                    .forEach(out::add);
            case UNLESS -> l.samples().stream()
                    .filter(s -> !rightSigs.containsKey(signature(s.labels(), b.matching()))).forEach(out::add);
            case OR -> {
                Map<Map<String, String>, Boolean> leftSigs = new HashMap<>();
                for (Sample s : l.samples()) {
                    leftSigs.put(signature(s.labels(), b.matching()), Boolean.TRUE);
                    out.add(s);
                }
                for (Sample s : r.samples()) {
                    if (!leftSigs.containsKey(signature(s.labels(), b.matching()))) {
                        out.add(s);
                    }
                }
            }
            default -> throw new IllegalStateException(b.op().name());
        }
        return new Vector(out);
    }

    /** The labels two samples are matched on: all but the name, or those of {@code on}, or all but {@code ignoring}. */
    private static Map<String, String> signature(Map<String, String> labels, Expr.Matching matching) {
        TreeMap<String, String> sig = new TreeMap<>();
        if (matching != null && matching.on()) {
            for (String l : matching.labels()) {
                String v = labels.get(l);
                if (v != null) {
                    sig.put(l, v);
                }
            }
            return sig;
        }
        sig.putAll(labels);
        sig.remove(View.NAME);
        if (matching != null) {
            matching.labels().forEach(sig::remove);
        }
        return sig;
    }

    private static Map<String, String> dropName(Map<String, String> labels) {
        if (!labels.containsKey(View.NAME)) {
            return labels;
        }
        TreeMap<String, String> l = new TreeMap<>(labels);
        l.remove(View.NAME);
        return Collections.unmodifiableMap(l);
    }

    private static boolean compare(BinaryOp op, double x, double y) {
        return switch (op) {
            case EQLC -> x == y;
            case NEQ -> x != y;
            case LTE -> x <= y;
            case LSS -> x < y;
            case GTE -> x >= y;
            case GTR -> x > y;
            default -> throw new IllegalStateException(op.name());
        };
    }

    private static double arithmetic(BinaryOp op, double x, double y) {
        return switch (op) {
            case ADD -> x + y;
            case SUB -> x - y;
            case MUL -> x * y;
            case DIV -> x / y;
            case MOD -> x % y;
            case POW -> Math.pow(x, y);
            default -> throw new IllegalStateException(op.name());
        };
    }
}
