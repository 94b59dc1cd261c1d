package dev.meterline.promql;

import dev.meterline.config.PromQueryConfig;
import dev.meterline.model.Aggregate;
import dev.meterline.model.SeriesKey;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import reactor.core.scheduler.Schedulers;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The evaluator over windows held in memory, against values computed here from the very points recorded: step
 * merging, lookback, offsets, operators, aggregations, range functions, true quantiles across series and the bounds.
 */
class EngineTest {

    private static final long W = 10_000;
    private static final long T0 = 1_700_000_000_000L;
    private static final String METRIC = "cpu.usage";

    /** One recorded point. */
    record P(SeriesKey key, long ts, double v) {
        long windowEnd() {
            return Math.floorDiv(ts, W) * W + W;
        }
    }

    private final List<P> points = new ArrayList<>();
    private final AtomicLong nanos = new AtomicLong();
    private MemoryReader reader;
    private SeriesKey a;
    private SeriesKey b;
    private SeriesKey c;

    @BeforeEach
    void record() {
        reader = new MemoryReader(W);
        a = SeriesKey.of(METRIC, Map.of("host", "a", "region", "eu"));
        b = SeriesKey.of(METRIC, Map.of("host", "b", "region", "eu"));
        c = SeriesKey.of(METRIC, Map.of("host", "c", "region", "us"));
        List<SeriesKey> keys = List.of(a, b, c);
        for (int s = 0; s < keys.size(); s++) {
            for (int i = 0; i < 12; i++) {
                int n = 5 + (i + s) % 4 + (s == 2 ? 40 : 0);
                for (int j = 0; j < n; j++) {
                    long ts = T0 + i * W + j * 200L + 1;
                    double v = ((i * 31 + s * 17 + j * 7) % 50) + s * 10 + 0.5 * j;
                    add(keys.get(s), ts, v);
                }
            }
        }
    }

    private void add(SeriesKey key, long ts, double v) {
        points.add(new P(key, ts, v));
        reader.accept(key, ts, v);
    }

    private Engine engine(PromQueryConfig config) {
        return new Engine(reader, config, nanos::get, Schedulers.immediate());
    }

    private Evaluator.Value instant(String q, long t) {
        return engine(PromQueryConfig.DEFAULTS).instant(q, t, 60_000).block();
    }

    private Evaluator.Matrix range(String q, long start, long end, long step) {
        Engine e = engine(PromQueryConfig.DEFAULTS);
        e.checkRange(start, end, step);
        return e.range(q, start, end, step, 60_000).block();
    }

    /** The points of the series passing {@code which} whose window ends in {@code (from, to]}, as one aggregate. */
    private Aggregate merged(Predicate<SeriesKey> which, long from, long to) {
        Aggregate agg = new Aggregate();
        for (P p : points) {
            if (which.test(p.key()) && p.windowEnd() > from && p.windowEnd() <= to) {
                agg.accept(p.v(), p.ts());
            }
        }
        return agg;
    }

    private static Map<Map<String, String>, Double> byLabels(Evaluator.Value v) {
        Map<Map<String, String>, Double> out = new HashMap<>();
        for (Evaluator.Sample s : ((Evaluator.Vector) v).samples()) {
            out.put(s.labels(), s.value());
        }
        return out;
    }

    private static Map<String, String> labels(String... kv) {
        Map<String, String> m = new HashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put(kv[i], kv[i + 1]);
        }
        return m;
    }

    private static Evaluator.Range only(Evaluator.Matrix m) {
        assertEquals(1, m.series().size(), m.toString());
        return m.series().get(0);
    }

    @Test
    void scalarArithmetic() {
        long t = 4000;
        assertEquals(2.0, ((Evaluator.Scalar) instant("1+1", t)).value());
        assertEquals(512.0, ((Evaluator.Scalar) instant("2 ^ 3 ^ 2", t)).value());
        assertEquals(-4.0, ((Evaluator.Scalar) instant("-2 ^ 2", t)).value());
        assertEquals(1.0, ((Evaluator.Scalar) instant("7 % 3", t)).value());
        assertEquals(0.0, ((Evaluator.Scalar) instant("1 == bool 2", t)).value());
        assertEquals(1.0, ((Evaluator.Scalar) instant("3 >= bool 2 + 1", t)).value());
        assertTrue(Double.isInfinite(((Evaluator.Scalar) instant("1 / 0", t)).value()));
    }

    @Test
    void instantQueryTakesTheLatestWindowWithinTheLookback() {
        long end3 = T0 + 4 * W;
        Aggregate w3 = merged(k -> k.equals(a), end3 - W, end3);
        for (long t : new long[]{end3, end3 + 1, end3 + W - 1}) {
            Map<Map<String, String>, Double> v = byLabels(instant("cpu_usage_count{host=\"a\"}", t));
            assertEquals(Map.of(labels("__name__", "cpu_usage_count", "host", "a", "region", "eu"),
                    (double) w3.count()), v, "at " + t);
        }
        long lastEnd = T0 + 12 * W;
        long lookback = Duration.ofMinutes(5).toMillis();
        assertEquals(1, byLabels(instant("cpu_usage_sum{host=\"a\"}", lastEnd + lookback - 1)).size());
        assertEquals(0, byLabels(instant("cpu_usage_sum{host=\"a\"}", lastEnd + lookback)).size(),
                "nothing 5 minutes or more before the query time");
        Aggregate last = merged(k -> k.equals(a), lastEnd - W, lastEnd);
        assertEquals(last.last(), byLabels(instant("cpu_usage_last{host=\"a\"}", lastEnd + 60_000)).values()
                .iterator().next());
    }

    @Test
    void rangeStepsMergeEveryWindowOfTheStep() {
        long start = T0 + 3 * W;
        long step = 30_000;
        long end = start + 3 * step;
        for (String stat : List.of("count", "sum", "min", "max", "mean", "last")) {
            Evaluator.Range r = only(range("cpu_usage_" + stat + "{host=\"b\"}", start, end, step));
            assertEquals(4, r.times().length);
            for (int i = 0; i < r.times().length; i++) {
                long t = r.times()[i];
                assertEquals(start + i * step, t);
                Aggregate want = merged(k -> k.equals(b), t - step, t);
                double expected = switch (stat) {
                    case "count" -> want.count();
                    case "sum" -> want.sum();
                    case "min" -> want.min();
                    case "max" -> want.max();
                    case "mean" -> want.mean();
                    default -> want.last();
                };
                assertEquals(expected, r.values()[i], 1e-9, stat + " at step " + i);
            }
        }
        for (String q : List.of("0.5", "0.9", "0.99")) {
            Evaluator.Range r = only(range("cpu_usage{host=\"b\",quantile=\"" + q + "\"}", start, end, step));
            for (int i = 0; i < r.times().length; i++) {
                long t = r.times()[i];
                assertEquals(merged(k -> k.equals(b), t - step, t).valueAtQuantile(Double.parseDouble(q)),
                        r.values()[i], "p" + q + " of the merged step, not of one window");
            }
        }
    }

    @Test
    void alignedStepsReadWindowsMergedPerStepAndRangeSelectorsEveryWindow() {
        long step = 60_000;
        long start = (T0 / step + 1) * step;
        Evaluator.Range r = only(range("sum(cpu_usage_sum) + 0 * sum(rate(cpu_usage_count[1m]))", start,
                start + step, step));
        assertEquals(List.of(10_000L, 60_000L), reader.resolutions.stream().sorted().toList(),
                "the instant selector per step, the range selector per window");
        for (int i = 0; i < r.times().length; i++) {
            long t = r.times()[i];
            assertEquals(merged(k -> true, t - step, t).sum(), r.values()[i], 1e-9);
        }
        reader.resolutions.clear();
        range("cpu_usage_sum", start + 1, start + step, step);
        range("cpu_usage_sum offset 15s", start, start + step, step);
        assertEquals(List.of(W, W), List.copyOf(reader.resolutions), "unaligned: every window");
    }

    @Test
    void aStepFinerThanTheWindowShowsTheWindowEndingWithinTheLastWindowLength() {
        long start = T0 + 2 * W;
        Evaluator.Range r = only(range("cpu_usage_count{host=\"a\"}", start, start + W, W / 2));
        assertEquals(3, r.times().length);
        double w1 = merged(k -> k.equals(a), start - W, start).count();
        double w2 = merged(k -> k.equals(a), start, start + W).count();
        assertEquals(List.of(w1, w1, w2), List.of(r.values()[0], r.values()[1], r.values()[2]));
    }

    @Test
    void offsetShiftsTheWindowsRead() {
        long t = T0 + 8 * W;
        assertEquals(byLabels(instant("cpu_usage_count", t - 60_000)),
                byLabels(instant("cpu_usage_count offset 1m", t)));
        assertNotEquals(byLabels(instant("cpu_usage_sum", t - 60_000)), byLabels(instant("cpu_usage_sum", t)));
    }

    @Test
    void matchersIncludingRegexesAndTheName() {
        long t = T0 + 5 * W;
        assertEquals(2, byLabels(instant("cpu_usage_count{region=\"eu\"}", t)).size());
        assertEquals(1, byLabels(instant("cpu_usage_count{region!=\"eu\"}", t)).size());
        assertEquals(2, byLabels(instant("cpu_usage_count{host=~\"a|c\"}", t)).size());
        assertEquals(0, byLabels(instant("cpu_usage_count{host=~\"a.\"}", t)).size(), "anchored");
        assertEquals(2, byLabels(instant("cpu_usage_count{host!~\"c\"}", t)).size());
        // Every sample of host a: six statistics, three quantiles and the bucket.
        assertEquals(10, byLabels(instant("{__name__=~\"cpu_usage.*\",host=\"a\"}", t)).size());
        assertEquals(3, byLabels(instant("{__name__=\"cpu_usage\",host=\"a\"}", t)).size());
        assertEquals(0, byLabels(instant("cpu_usage_count{nosuch=\"x\"}", t)).size());
        assertEquals(3, byLabels(instant("cpu_usage_count{nosuch=\"\"}", t)).size());
    }

    @Test
    void vectorArithmeticMatchesLabelSets() {
        long t = T0 + 5 * W;
        Map<Map<String, String>, Double> mean = byLabels(instant("cpu_usage_sum / cpu_usage_count", t));
        assertEquals(3, mean.size());
        Aggregate wa = merged(k -> k.equals(a), t - W, t);
        assertEquals(wa.mean(), mean.get(labels("host", "a", "region", "eu")), 1e-12);
        Map<Map<String, String>, Double> on = byLabels(instant("cpu_usage_sum / on(host) cpu_usage_count", t));
        assertEquals(wa.mean(), on.get(labels("host", "a")), 1e-12);
        Map<Map<String, String>, Double> ignoring = byLabels(instant(
                "cpu_usage_max - ignoring(region) cpu_usage_min", t));
        assertEquals(wa.max() - wa.min(), ignoring.get(labels("host", "a")), 1e-12);
        Map<Map<String, String>, Double> scaled = byLabels(instant("2 * cpu_usage_count{host=\"a\"} + 1", t));
        assertEquals(2.0 * wa.count() + 1, scaled.get(labels("host", "a", "region", "eu")));
        PromException many = assertThrows(PromException.class, () -> instant(
                "cpu_usage_sum / on(region) cpu_usage_count", t));
        assertEquals(PromException.Type.EXECUTION, many.type());
    }

    @Test
    void comparisonsFilterOrWithBoolGiveZeroOrOne() {
        long t = T0 + 5 * W;
        Map<String, Double> max = new HashMap<>();
        byLabels(instant("cpu_usage_max", t)).forEach((l, v) -> max.put(l.get("host"), v));
        double threshold = max.get("b");
        Map<Map<String, String>, Double> above = byLabels(instant("cpu_usage_max >= " + threshold, t));
        for (Map.Entry<Map<String, String>, Double> e : above.entrySet()) {
            assertTrue(e.getValue() >= threshold);
            assertEquals("cpu_usage_max", e.getKey().get("__name__"), "a filter keeps the name");
        }
        assertEquals(max.values().stream().filter(v -> v >= threshold).count(), above.size());
        Map<Map<String, String>, Double> bool = byLabels(instant("cpu_usage_max >= bool " + threshold, t));
        assertEquals(3, bool.size());
        assertEquals(1.0, bool.get(labels("host", "b", "region", "eu")));
    }

    @Test
    void aggregations() {
        long t = T0 + 6 * W;
        Map<String, Double> count = new HashMap<>();
        byLabels(instant("cpu_usage_count", t)).forEach((l, v) -> count.put(l.get("host"), v));
        assertEquals(Map.of(labels("region", "eu"), count.get("a") + count.get("b"),
                        labels("region", "us"), count.get("c")),
                byLabels(instant("sum by (region) (cpu_usage_count)", t)));
        assertEquals(Map.of(labels(), count.get("a") + count.get("b") + count.get("c")),
                byLabels(instant("sum(cpu_usage_count)", t)));
        assertEquals(Map.of(labels("region", "eu"), (count.get("a") + count.get("b")) / 2, labels("region", "us"),
                count.get("c")), byLabels(instant("avg(cpu_usage_count) by (region)", t)));
        assertEquals(Map.of(labels("region", "eu"), Math.min(count.get("a"), count.get("b")),
                labels("region", "us"), count.get("c")), byLabels(instant("min by (region) (cpu_usage_count)", t)));
        assertEquals(Map.of(labels(), Math.max(count.get("a"), Math.max(count.get("b"), count.get("c")))),
                byLabels(instant("max(cpu_usage_count)", t)));
        assertEquals(Map.of(labels("region", "eu"), 2.0, labels("region", "us"), 1.0),
                byLabels(instant("count without (host) (cpu_usage_count)", t)));
        Map<Map<String, String>, Double> top = byLabels(instant("topk(1, cpu_usage_count)", t));
        assertEquals(1, top.size());
        assertEquals("c", top.keySet().iterator().next().get("host"), "c has the most points");
        assertEquals("cpu_usage_count", top.keySet().iterator().next().get("__name__"), "topk keeps the labels");
        Map<Map<String, String>, Double> bottom = byLabels(instant("bottomk by (region) (1, cpu_usage_count)", t));
        assertEquals(2, bottom.size());
    }

    @Test
    void rangeFunctionsOverWindows() {
        long t = T0 + 9 * W;
        Aggregate minute = merged(k -> k.equals(a), t - 60_000, t);
        double sumOfCounts = minute.count();
        assertEquals(sumOfCounts, one("sum_over_time(cpu_usage_count{host=\"a\"}[1m])", t));
        assertEquals(sumOfCounts, one("increase(cpu_usage_count{host=\"a\"}[1m])", t));
        assertEquals(sumOfCounts / 60, one("rate(cpu_usage_count{host=\"a\"}[1m])", t), 1e-12);
        assertEquals(minute.sum() / 60, one("rate(cpu_usage_sum{host=\"a\"}[1m])", t), 1e-9);
        assertEquals(6.0, one("count_over_time(cpu_usage_count{host=\"a\"}[1m])", t));
        assertEquals(minute.max(), one("max_over_time(cpu_usage_max{host=\"a\"}[1m])", t));
        assertEquals(minute.min(), one("min_over_time(cpu_usage_min{host=\"a\"}[1m])", t));
        assertEquals(merged(k -> k.equals(a), t - W, t).count(),
                one("last_over_time(cpu_usage_count{host=\"a\"}[1m])", t));
        double avgOfCounts = sumOfCounts / 6;
        assertEquals(avgOfCounts, one("avg_over_time(cpu_usage_count{host=\"a\"}[1m])", t), 1e-12);
        PromException e = assertThrows(PromException.class, () -> instant("rate(cpu_usage_max[1m])", t));
        assertEquals(PromException.Type.BAD_DATA, e.type());
        assertTrue(e.getMessage().contains("per-window deltas"), e.getMessage());
        Evaluator.Value m = instant("cpu_usage_count{host=\"a\"}[1m]", t);
        assertEquals(6, ((Evaluator.Matrix) m).series().get(0).times().length);
    }

    private double one(String q, long t) {
        Map<Map<String, String>, Double> v = byLabels(instant(q, t));
        assertEquals(1, v.size(), q + " → " + v);
        return v.values().iterator().next();
    }

    @Test
    void quantilesAcrossSeriesComeFromTheMergedSketches() {
        long t = T0 + 7 * W;
        Predicate<SeriesKey> eu = k -> k.tag("region").equals("eu");
        Map<Map<String, String>, Double> p99 = byLabels(instant(
                "histogram_quantile(0.99, sum by (le, region) (cpu_usage_bucket))", t));
        assertEquals(merged(eu, t - W, t).valueAtQuantile(0.99), p99.get(labels("region", "eu")));
        assertEquals(merged(k -> k.equals(c), t - W, t).valueAtQuantile(0.99), p99.get(labels("region", "us")));
        double avgOfP99 = (merged(k -> k.equals(a), t - W, t).valueAtQuantile(0.99)
                + merged(k -> k.equals(b), t - W, t).valueAtQuantile(0.99)) / 2;
        assertNotEquals(avgOfP99, p99.get(labels("region", "eu")));
        Map<Map<String, String>, Double> overTime = byLabels(instant(
                "histogram_quantile(0.9, sum(rate(cpu_usage_bucket[1m])))", t));
        assertEquals(Map.of(labels(), merged(k -> true, t - 60_000, t).valueAtQuantile(0.9)), overTime);
        Map<Map<String, String>, Double> bucket = byLabels(instant("sum by (le) (cpu_usage_bucket)", t));
        assertEquals(Map.of(labels("le", "+Inf"), (double) merged(k -> true, t - W, t).count()), bucket);

        long start = T0 + 2 * W;
        long step = 40_000;
        Evaluator.Range r = only(range("histogram_quantile(0.5, sum(cpu_usage_bucket))", start, start + 2 * step,
                step));
        for (int i = 0; i < r.times().length; i++) {
            long at = r.times()[i];
            assertEquals(merged(k -> true, at - step, at).valueAtQuantile(0.5), r.values()[i]);
        }
        PromException e = assertThrows(PromException.class, () -> instant(
                "histogram_quantile(0.9, 2 * cpu_usage_bucket)", t));
        assertEquals(PromException.Type.BAD_DATA, e.type());
    }

    @Test
    void collidingMetricNamesStayApart() {
        SeriesKey other = SeriesKey.of("cpu_usage", Map.of("host", "a", "region", "eu"));
        add(other, T0 + 1, 1000);
        Map<Map<String, String>, Double> v = byLabels(instant("cpu_usage_max{host=\"a\"}", T0 + W));
        assertEquals(2, v.size(), v.toString());
        assertEquals(1000.0, v.get(labels("__name__", "cpu_usage_max", "host", "a", "region", "eu",
                "meterline_metric", "cpu_usage")));
        assertTrue(v.containsKey(labels("__name__", "cpu_usage_max", "host", "a", "region", "eu",
                "meterline_metric", "cpu.usage")));
        assertEquals(1, byLabels(instant("cpu_usage_max{meterline_metric=\"cpu_usage\"}", T0 + W)).size());
    }

    @Test
    void boundOnSeriesTouched() {
        PromQueryConfig two = new PromQueryConfig(11_000, 2, Duration.ofMinutes(1), 1024, Duration.ofMinutes(5));
        engine(two).instant("cpu_usage_count{region=\"eu\"}", T0 + W, 60_000).block();
        PromException e = assertThrows(PromException.class,
                () -> engine(two).instant("cpu_usage_count", T0 + W, 60_000).block());
        assertEquals(PromException.Type.EXECUTION, e.type());
        assertTrue(e.getMessage().contains("more than 2 series"), e.getMessage());
    }

    @Test
    void boundOnPointsPerSeries() {
        Engine e = engine(PromQueryConfig.DEFAULTS);
        e.checkRange(0, 10_999_000, 1000);
        PromException x = assertThrows(PromException.class, () -> e.checkRange(0, 11_000_000, 1000));
        assertEquals(PromException.Type.BAD_DATA, x.type());
        assertTrue(x.getMessage().startsWith("exceeded maximum resolution of 11000 points per timeseries"));
        assertThrows(PromException.class, () -> e.checkRange(10, 0, 1000));
        assertThrows(PromException.class, () -> e.checkRange(0, 10, 0));
    }

    @Test
    void evaluationPastTheDeadlineTimesOut() {
        // Every read of the clock moves it on by one second: the fourth step is past a three-second budget.
        Engine e = new Engine(reader, PromQueryConfig.DEFAULTS, () -> nanos.addAndGet(1_000_000_000L),
                Schedulers.immediate());
        PromException x = assertThrows(PromException.class,
                () -> e.range("cpu_usage_count", T0, T0 + 100 * W, W, 3_000).block());
        assertEquals(PromException.Type.TIMEOUT, x.type());
        // Two clock reads a step: 41 steps fit in the default two minutes.
        e.range("cpu_usage_count", T0, T0 + 40 * W, W, 200_000).block();
    }
}
