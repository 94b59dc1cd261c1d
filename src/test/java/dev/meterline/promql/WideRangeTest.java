package dev.meterline.promql;

import dev.meterline.config.PromQueryConfig;
import dev.meterline.model.Aggregate;
import dev.meterline.model.SeriesKey;
import org.junit.jupiter.api.Test;
import reactor.core.scheduler.Schedulers;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.ToDoubleFunction;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Range queries over many series, step after step, against an evaluation written here from the recorded points
 * alone: each step's windows merged per series, grouped, and aggregated, for random series, tag sets, windows and
 * steps (aligned and not).
 */
class WideRangeTest {

    private static final long W = 10_000;
    private static final long T0 = 1_700_000_000_000L;
    private static final int WINDOWS = 40;

    /** A series' windows, by end, as the reader holds them. */
    private final Map<SeriesKey, TreeMap<Long, Aggregate>> recorded = new LinkedHashMap<>();

    private MemoryReader load(long seed) {
        Random random = new Random(seed);
        MemoryReader reader = new MemoryReader(W);
        recorded.clear();
        Set<Integer> used = new HashSet<>();
        int series = 20 + random.nextInt(60);
        for (int s = 0; s < series; s++) {
            Map<String, String> tags = new HashMap<>();
            tags.put("host", "h" + s);
            tags.put("region", "r" + random.nextInt(4));
            if (random.nextBoolean()) {
                tags.put("zone", "z" + random.nextInt(3));
            }
            SeriesKey key = SeriesKey.of("svc.latency", tags);
            for (int i = 0; i < WINDOWS; i++) {
                if (random.nextInt(5) == 0) {
                    continue;
                }
                int n = 1 + random.nextInt(6);
                for (int j = 0; j < n; j++) {
                    // Distinct integers: sums are exact whatever their order, and topk meets no ties.
                    int v;
                    do {
                        v = random.nextInt(1_000_000);
                    } while (!used.add(v));
                    long ts = T0 + i * W + random.nextInt((int) W);
                    reader.accept(key, ts, v);
                    recorded.computeIfAbsent(key, k -> new TreeMap<>())
                            .computeIfAbsent(Math.floorDiv(ts, W) * W + W, e -> new Aggregate()).accept(v, ts);
                }
            }
        }
        return reader;
    }

    private static Evaluator.Matrix range(MemoryReader reader, String q, long start, long end, long step) {
        Engine e = new Engine(reader, PromQueryConfig.DEFAULTS, System::nanoTime, Schedulers.immediate());
        e.checkRange(start, end, step);
        return e.range(q, start, end, step, 60_000).block();
    }

    /** One view of a series at one step: its labels (name dropped) and its windows in the step merged. */
    private record Input(Map<String, String> labels, Aggregate merged) {
    }

    private List<Input> inputs(long t, long span) {
        List<Input> out = new ArrayList<>();
        recorded.forEach((key, windows) -> {
            Aggregate m = new Aggregate();
            windows.subMap(t - span, false, t, true).values().forEach(m::mergeWith);
            if (m.count() > 0) {
                Map<String, String> labels = new TreeMap<>(key.tags());
                out.add(new Input(labels, m));
            }
        });
        return out;
    }

    private static Map<String, String> group(Map<String, String> labels, boolean without, List<String> names) {
        Map<String, String> g = new TreeMap<>();
        for (Map.Entry<String, String> e : labels.entrySet()) {
            if (names.contains(e.getKey()) != without) {
                g.put(e.getKey(), e.getValue());
            }
        }
        return g;
    }

    /** What the query gives at each step, by its labels: computed from the recorded windows, one step at a time. */
    private Map<Map<String, String>, Map<Long, Double>> expected(String op, boolean without, List<String> names,
                                                                 ToDoubleFunction<Aggregate> view, long start,
                                                                 long end, long step) {
        Map<Map<String, String>, Map<Long, Double>> out = new HashMap<>();
        long span = Math.max(step, W);
        for (long t = start; t <= end; t += step) {
            Map<Map<String, String>, List<Input>> groups = new HashMap<>();
            for (Input in : inputs(t, span)) {
                groups.computeIfAbsent(group(in.labels(), without, names), g -> new ArrayList<>()).add(in);
            }
            for (Map.Entry<Map<String, String>, List<Input>> g : groups.entrySet()) {
                List<Input> ins = g.getValue();
                if (op.equals("topk")) {
                    List<Input> sorted = new ArrayList<>(ins);
                    sorted.sort(Comparator.comparingDouble((Input in) -> view.applyAsDouble(in.merged())).reversed());
                    for (Input in : sorted.subList(0, Math.min(2, sorted.size()))) {
                        Map<String, String> labels = new TreeMap<>(in.labels());
                        labels.put(View.NAME, "svc_latency_max");
                        out.computeIfAbsent(labels, l -> new TreeMap<>()).put(t, view.applyAsDouble(in.merged()));
                    }
                    continue;
                }
                double v = switch (op) {
                    case "sum" -> ins.stream().mapToDouble(in -> view.applyAsDouble(in.merged())).sum();
                    case "avg" -> ins.stream().mapToDouble(in -> view.applyAsDouble(in.merged())).sum() / ins.size();
                    case "min" -> ins.stream().mapToDouble(in -> view.applyAsDouble(in.merged())).min().orElseThrow();
                    case "max" -> ins.stream().mapToDouble(in -> view.applyAsDouble(in.merged())).max().orElseThrow();
                    case "count" -> ins.size();
                    case "quantile" -> {
                        Aggregate all = new Aggregate();
                        ins.forEach(in -> all.mergeWith(in.merged()));
                        yield all.valueAtQuantile(0.9);
                    }
                    default -> throw new IllegalArgumentException(op);
                };
                out.computeIfAbsent(g.getKey(), l -> new TreeMap<>()).put(t, v);
            }
        }
        return out;
    }

    private static Map<Map<String, String>, Map<Long, Double>> actual(Evaluator.Matrix m) {
        Map<Map<String, String>, Map<Long, Double>> out = new HashMap<>();
        for (Evaluator.Range r : m.series()) {
            Map<Long, Double> points = new TreeMap<>();
            for (int i = 0; i < r.times().length; i++) {
                points.put(r.times()[i], r.values()[i]);
            }
            assertTrue(out.put(new TreeMap<>(r.labels()), points) == null, "labels twice: " + r.labels());
        }
        return out;
    }

    @Test
    void aggregationsOverEverySeriesEqualOneStepAtATime() {
        for (long seed = 1; seed <= 12; seed++) {
            MemoryReader reader = load(seed);
            Random random = new Random(seed * 31);
            // Aligned steps read windows merged per step; the others merge them in the evaluator.
            long step = List.of(W, W, 2 * W, 3 * W, 25_000L).get(random.nextInt(5));
            long start = T0 + (random.nextBoolean() ? 2 * step : 3 * W + 5_000);
            long end = T0 + WINDOWS * W + W;
            String by = random.nextBoolean() ? "by" : "without";
            List<String> names = random.nextBoolean() ? List.of("region") : List.of("region", "zone");
            String grouping = " " + by + " (" + String.join(", ", names) + ") ";
            boolean without = by.equals("without");
            // "without" of a view keeps host; drop it so that groups hold several series.
            List<String> groupNames = without ? new ArrayList<>(names) : names;
            if (without) {
                groupNames.add("host");
                grouping = " without (" + String.join(", ", groupNames) + ") ";
            }
            String context = "seed " + seed + ", step " + step + ", start " + start + ", " + grouping;
            for (String op : List.of("sum", "avg", "min", "max", "count")) {
                assertEquals(expected(op, without, groupNames, Aggregate::count, start, end, step),
                        actual(range(reader, op + grouping + "(svc_latency_count)", start, end, step)),
                        op + " of _count, " + context);
                assertEquals(expected(op, without, groupNames, Aggregate::sum, start, end, step),
                        actual(range(reader, op + grouping + "(svc_latency_sum)", start, end, step)),
                        op + " of _sum, " + context);
            }
            assertEquals(expected("topk", without, groupNames, Aggregate::max, start, end, step),
                    actual(range(reader, "topk" + grouping + "(2, svc_latency_max)", start, end, step)),
                    "topk, " + context);
            // The bucket samples' le must stay in the groups for histogram_quantile, which drops it.
            String quantileGrouping = without ? grouping : " by (le, " + String.join(", ", names) + ") ";
            assertEquals(expected("quantile", without, groupNames, a -> 0, start, end, step),
                    actual(range(reader, "histogram_quantile(0.9, sum" + quantileGrouping + "(svc_latency_bucket))",
                            start, end, step)),
                    "histogram_quantile, " + context);
        }
    }

    @Test
    void groupLabelsAreOneInstancePerGroupAndTheCacheStaysWithinItsBound() {
        GroupKeys keys = new GroupKeys(false, List.of("region"));
        Map<String, String> a = Map.of("host", "a", "region", "eu");
        Map<String, String> b = Map.of("host", "b", "region", "eu");
        assertTrue(keys.of(a) == keys.of(b));
        assertEquals(Map.of("region", "eu"), keys.of(a));
        // Maps new at every step, as an operator's output is: the cache starts over rather than grow.
        int most = 0;
        for (int step = 0; step < 200; step++) {
            keys.startStep(50);
            for (int s = 0; s < 50; s++) {
                keys.of(Map.of("host", "h" + s, "region", "r" + s % 3, "step", "" + step));
            }
            most = Math.max(most, keys.size());
        }
        assertTrue(most <= GroupKeys.MIN_CAPACITY + 50, "cache held " + most);
        assertTrue(most > GroupKeys.MIN_CAPACITY, "cache held " + most);
    }

    @Test
    void anEarlierTimeAfterALaterOneReadsAsAFreshEvaluation() {
        Expr.VectorSelector v = (Expr.VectorSelector) Parser.parse("svc_latency_count", 1_000);
        Aggregate[] windows = new Aggregate[5];
        long[] ends = new long[5];
        for (int i = 0; i < 5; i++) {
            windows[i] = new Aggregate();
            for (int j = 0; j <= i; j++) {
                windows[i].accept(j, T0 + i * W);
            }
            ends[i] = T0 + (i + 1) * W;
        }
        View.Kind count = View.Kind.all().get(0);
        List<View.Series> series = List.of(new View.Series(Map.of("host", "a"), count, ends, windows));
        IdentityHashMap<Expr.VectorSelector, List<View.Series>> data = new IdentityHashMap<>();
        data.put(v, series);
        Evaluator reused = new Evaluator(data, W, false, Long.MAX_VALUE, () -> 0);
        for (long t : new long[]{T0 + 5 * W, T0 + 2 * W, T0 + 3 * W + 1, T0 + W}) {
            Evaluator fresh = new Evaluator(data, W, false, Long.MAX_VALUE, () -> 0);
            assertEquals(fresh.eval(v, t), reused.eval(v, t), "at " + t);
        }
    }
}
