package dev.meterline.promql;

import dev.meterline.model.Aggregate;
import dev.meterline.promql.Evaluator.Sample;
import dev.meterline.promql.Evaluator.Vector;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** The aggregation operators of the subset over an instant vector's groups; {@code sum} also merges sketches. */
final class Aggregations {

    private Aggregations() {
    }

    /** Aggregates {@code in} as {@code a} says; {@code param} is the evaluated parameter of topk and bottomk. */
    static Vector aggregate(Expr.Aggregation a, Vector in, double param) {
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
}
