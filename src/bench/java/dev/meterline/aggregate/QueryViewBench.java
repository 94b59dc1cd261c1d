package dev.meterline.aggregate;

import dev.meterline.config.QueryViewConfig;
import dev.meterline.model.Batch;
import dev.meterline.model.Part;
import dev.meterline.model.Point;
import dev.meterline.model.SeriesKey;
import dev.meterline.telemetry.PipelineMetrics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * What the query views cost the shard per point: a part recorded and then published, with no view, and with one
 * view of one series on the metric of a tenth of the points (the load generator's query).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class QueryViewBench {

    static final int POINTS = 2048;

    @Param({"10000", "1000000"})
    int series;

    @Param({"0", "1"})
    int views;

    private Shard shard;
    private ShardViews published;
    private Part[] parts;
    private int next;

    @Setup
    public void setUp() {
        shard = new Shard(10_000, 3_600_000, new SeriesBudget(series * 2L));
        QueryViews registry = new QueryViews(QueryViewConfig.DEFAULTS, 1,
                new PipelineMetrics(new SimpleMeterRegistry()));
        published = registry.shard(0);
        SeriesKey[] keys = new SeriesKey[series];
        for (int i = 0; i < series; i++) {
            keys[i] = SeriesKey.ofPairs("bench.m" + (i % 10),
                    new String[]{"host", "h" + i, "region", "r" + (i % 7), "svc", "api"}, 3);
        }
        int count = Math.max(64, 2 * series / POINTS);
        parts = new Part[count];
        Batch batch = new Batch(b -> { }, List.of(), new ArrayList<>(), null);
        int s = 0;
        for (int p = 0; p < count; p++) {
            List<Point> points = new ArrayList<>(POINTS);
            for (int i = 0; i < POINTS; i++) {
                points.add(new Point(keys[s], (i % 1000) / 10.0, 1_764_086_400_000L + i, i + 1));
                s = (s + 7919) % series;
            }
            parts[p] = new Part(0, batch, points);
        }
        for (Part p : parts) {
            shard.aggregate(p, 0);
        }
        if (views == 1) {
            QueryView v = registry.create("bench.m0", Map.of("host", List.of("h0")), null, 0);
            published.register(shard, v, shard.matching("bench.m0", v.key.tags(), v::matches));
        }
    }

    @Benchmark
    @OperationsPerInvocation(POINTS)
    public int recordAndPublish() {
        Part p = parts[next];
        next = next + 1 == parts.length ? 0 : next + 1;
        Shard.Recorded r = shard.aggregate(p, 0);
        published.afterPart(shard, r.taken());
        return r.accepted();
    }
}
