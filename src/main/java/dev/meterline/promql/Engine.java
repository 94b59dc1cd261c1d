package dev.meterline.promql;

import dev.meterline.config.PromQueryConfig;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeoutException;
import java.util.function.LongSupplier;

/**
 * Runs instant and range queries: parses, finds what each selector must read, reads it within the series bound,
 * then evaluates step by step within the time bound.
 */
final class Engine {

    private final WindowReader reader;
    private final PromQueryConfig config;
    private final LongSupplier nanos;
    private final Scheduler cpu;

    /** {@code cpu} runs the evaluation, off the event loops, shards and store threads that deliver the windows. */
    Engine(WindowReader reader, PromQueryConfig config, LongSupplier nanos, Scheduler cpu) {
        this.reader = reader;
        this.config = config;
        this.nanos = nanos;
        this.cpu = cpu;
    }

    WindowReader reader() {
        return reader;
    }

    PromQueryConfig config() {
        return config;
    }

    Expr parse(String query) {
        return Parser.parse(query, config.maxRegexLength());
    }

    /** Evaluates at {@code t}: a scalar, a vector, or for a bare range selector a matrix. */
    Mono<Evaluator.Value> instant(String query, long t, long timeoutMs) {
        Expr e = parse(query);
        long span = config.lookback().toMillis();
        return run(e, t, t, span, reader.windowMs(), timeoutMs, ev -> ev.eval(e, t), true);
    }

    /** Evaluates at {@code start}, {@code start + step}, … up to {@code end}: a matrix. */
    Mono<Evaluator.Matrix> range(String query, long start, long end, long step, long timeoutMs) {
        Expr e = parse(query);
        ExprType type = ExprType.of(e);
        if (type != ExprType.SCALAR && type != ExprType.VECTOR) {
            throw PromException.badData("invalid expression type \"" + type.text
                    + "\" for range query, must be Scalar or instant Vector");
        }
        long w = reader.windowMs();
        long span = Math.max(step, w);
        // Steps that are whole windows and aligned to the epoch read the windows merged per step, so the store
        // answers from the coarsest tier that divides the step and still holds the range (a week at a 1 h step
        // reads the 1 h tier, whose rows outlive the 10 s ones).
        long resolution = step % w == 0 && start % step == 0 ? step : w;
        return run(e, start, end, span, resolution, timeoutMs, ev -> steps(ev, e, start, end, step), false);
    }

    /** Checks a range query's shape against Prometheus's rules and the point bound, before anything is read. */
    void checkRange(long start, long end, long step) {
        if (end < start) {
            throw PromException.badData("invalid parameter \"end\": end timestamp must not be before start time");
        }
        if (step <= 0) {
            throw PromException.badData("invalid parameter \"step\": zero or negative query resolution step widths "
                    + "are not accepted. Try a positive integer");
        }
        if ((end - start) / step + 1 > config.maxPoints()) {
            throw PromException.badData("exceeded maximum resolution of " + config.maxPoints()
                    + " points per timeseries (--prometheus-max-points). Try decreasing the query resolution "
                    + "(?step=XX)");
        }
    }

    private interface Body<T> {
        T apply(Evaluator ev);
    }

    private <T> Mono<T> run(Expr e, long start, long end, long span, long resolution, long timeoutMs, Body<T> body,
                            boolean latest) {
        long timeout = Math.min(timeoutMs, config.timeout().toMillis());
        long deadline = nanos.getAsLong() + timeout * 1_000_000L;
        Map<Expr.VectorSelector, Long> reach = new IdentityHashMap<>();
        collect(e, span, reach);
        Map<Expr.VectorSelector, Boolean> inRange = new IdentityHashMap<>();
        collectRanges(e, inRange);
        Selection selection = new Selection(reader, config.maxSeries());
        IdentityHashMap<Expr.VectorSelector, List<View.Series>> data = new IdentityHashMap<>();
        Mono<Void> fetch = reach.isEmpty() ? Mono.empty() : selection.known().flatMap(known ->
                Flux.fromIterable(reach.entrySet()).concatMap(s -> {
                    Expr.VectorSelector v = s.getKey();
                    long from = start - v.offsetMs() - s.getValue();
                    long to = end - v.offsetMs();
                    // Range selectors see every window; so does a selector whose offset breaks the alignment.
                    long r = inRange.containsKey(v) || v.offsetMs() % resolution != 0 ? reader.windowMs() : resolution;
                    return selection.select(known, v.matchers(), from, to, r).doOnNext(series -> {
                        synchronized (data) {
                            data.put(v, series);
                        }
                    });
                }).then());
        return fetch
                .publishOn(cpu)
                .then(Mono.fromCallable(() -> {
                    IdentityHashMap<Expr.VectorSelector, List<View.Series>> copy;
                    synchronized (data) {
                        copy = new IdentityHashMap<>(data);
                    }
                    return body.apply(new Evaluator(copy, span, latest, deadline, nanos));
                }))
                .timeout(java.time.Duration.ofMillis(timeout))
                .onErrorMap(TimeoutException.class, x -> new PromException(PromException.Type.TIMEOUT,
                        "query timed out in query execution after " + timeout + " ms (--prometheus-query-timeout or "
                                + "the timeout parameter)"));
    }

    /** The span each selector reaches back from an evaluation time. */
    private static void collect(Expr e, long span, Map<Expr.VectorSelector, Long> reach) {
        if (e instanceof Expr.VectorSelector v) {
            reach.merge(v, span, Math::max);
        } else if (e instanceof Expr.MatrixSelector m) {
            reach.merge(m.selector(), m.rangeMs(), Math::max);
        } else if (e instanceof Expr.Negation n) {
            collect(n.expr(), span, reach);
        } else if (e instanceof Expr.Binary b) {
            collect(b.lhs(), span, reach);
            collect(b.rhs(), span, reach);
        } else if (e instanceof Expr.Aggregation a) {
            if (a.param() != null) {
                collect(a.param(), span, reach);
            }
            collect(a.expr(), span, reach);
        } else if (e instanceof Expr.Call c) {
            for (Expr arg : c.args()) {
                collect(arg, span, reach);
            }
        }
    }

    /** The selectors inside range selectors. */
    private static void collectRanges(Expr e, Map<Expr.VectorSelector, Boolean> out) {
        if (e instanceof Expr.MatrixSelector m) {
            out.put(m.selector(), Boolean.TRUE);
        } else if (e instanceof Expr.Negation n) {
            collectRanges(n.expr(), out);
        } else if (e instanceof Expr.Binary b) {
            collectRanges(b.lhs(), out);
            collectRanges(b.rhs(), out);
        } else if (e instanceof Expr.Aggregation a) {
            if (a.param() != null) {
                collectRanges(a.param(), out);
            }
            collectRanges(a.expr(), out);
        } else if (e instanceof Expr.Call c) {
            c.args().forEach(arg -> collectRanges(arg, out));
        }
    }

    private static Evaluator.Matrix steps(Evaluator ev, Expr e, long start, long end, long step) {
        Map<Map<String, String>, Series> out = new LinkedHashMap<>();
        for (long t = start; t <= end; t += step) {
            ev.checkDeadline();
            Evaluator.Value v = ev.eval(e, t);
            if (v instanceof Evaluator.Scalar s) {
                out.computeIfAbsent(Map.of(), l -> new Series()).add(t, s.value());
            } else {
                Set<Map<String, String>> seen = new HashSet<>();
                for (Evaluator.Sample s : ((Evaluator.Vector) v).samples()) {
                    if (!seen.add(s.labels())) {
                        throw PromException.execution("vector cannot contain metrics with the same labelset "
                                + s.labels());
                    }
                    out.computeIfAbsent(s.labels(), l -> new Series()).add(t, s.value());
                }
            }
        }
        List<Evaluator.Range> series = new ArrayList<>();
        out.forEach((labels, s) -> series.add(new Evaluator.Range(labels, s.times(), s.values())));
        series.sort(Comparator.comparing(r -> r.labels().toString()));
        return new Evaluator.Matrix(series);
    }

    /** Points of one output series as they are produced. */
    private static final class Series {
        private long[] times = new long[16];
        private double[] values = new double[16];
        private int n;

        void add(long t, double v) {
            if (n == times.length) {
                times = java.util.Arrays.copyOf(times, n * 2);
                values = java.util.Arrays.copyOf(values, n * 2);
            }
            times[n] = t;
            values[n++] = v;
        }

        long[] times() {
            return java.util.Arrays.copyOf(times, n);
        }

        double[] values() {
            return java.util.Arrays.copyOf(values, n);
        }
    }
}
