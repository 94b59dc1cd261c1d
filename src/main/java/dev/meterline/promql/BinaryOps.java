package dev.meterline.promql;

import dev.meterline.promql.Evaluator.Sample;
import dev.meterline.promql.Evaluator.Scalar;
import dev.meterline.promql.Evaluator.Value;
import dev.meterline.promql.Evaluator.Vector;
import dev.meterline.promql.Expr.BinaryOp;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** The binary operators between scalars and instant vectors: arithmetic, comparison, and the set operators. */
final class BinaryOps {

    private BinaryOps() {
    }

    /** Applies {@code b} to its evaluated sides. */
    static Value apply(Expr.Binary b, Value l, Value r) {
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
                    out.add(new Sample(Evaluator.dropName(s.labels()), keep ? 1 : 0, null));
                } else if (keep) {
                    out.add(new Sample(s.labels(), s.value(), null));
                }
            } else {
                out.add(new Sample(Evaluator.dropName(s.labels()), arithmetic(op, x, y), null));
            }
        }
        return new Vector(out);
    }

    private static Vector vectorVector(Expr.Binary b, Vector l, Vector r) {
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

    private static Vector set(Expr.Binary b, Vector l, Vector r) {
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
