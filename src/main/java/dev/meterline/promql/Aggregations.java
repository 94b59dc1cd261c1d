package dev.meterline.promql;

import dev.meterline.model.Aggregate;
import dev.meterline.promql.Evaluator.Sample;
import dev.meterline.promql.Evaluator.Vector;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/** The aggregation operators of the subset over an instant vector's groups; {@code sum} also merges sketches. */
final class Aggregations {

    private Aggregations() {
    }

    /**
     * Aggregates {@code in} as {@code a} says, with the group labels from {@code keys} (of {@code a}'s grouping),
     * which may hold them from earlier steps; {@code param} is the evaluated parameter of topk and bottomk. Groups come
     * out in the order of their first samples.
     */
    static Vector aggregate(Expr.Aggregation a, Vector in, double param, GroupKeys keys) {
        keys.startStep(in.samples().size());
        // Keyed by identity: equal group labels are one instance (GroupKeys), so no map is hashed or compared here.
        Map<Map<String, String>, List<Sample>> groups = new IdentityHashMap<>();
        List<Map<String, String>> order = new ArrayList<>();
        for (Sample s : in.samples()) {
            Map<String, String> key = keys.of(s.labels());
            List<Sample> members = groups.get(key);
            if (members == null) {
                members = new ArrayList<>();
                groups.put(key, members);
                order.add(key);
            }
            members.add(s);
        }
        List<Sample> out = new ArrayList<>(order.size());
        for (Map<String, String> key : order) {
            List<Sample> ss = groups.get(key);
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
                    out.add(new Sample(key, sum, merged));
                }
                case AVG -> {
                    double sum = 0;
                    for (Sample s : ss) {
                        sum += s.value();
                    }
                    out.add(new Sample(key, sum / ss.size(), null));
                }
                case MIN, MAX -> {
                    double v = Double.NaN;
                    for (Sample s : ss) {
                        double x = s.value();
                        if (Double.isNaN(v) || (a.op() == Expr.AggregateOp.MIN ? x < v : x > v)) {
                            v = x;
                        }
                    }
                    out.add(new Sample(key, v, null));
                }
                case COUNT -> out.add(new Sample(key, ss.size(), null));
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
}
