package dev.meterline.aggregate;

import dev.meterline.model.Batch;
import dev.meterline.model.Part;
import dev.meterline.model.Point;
import dev.meterline.model.SeriesKey;
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
import java.util.concurrent.TimeUnit;

/** Aggregate update in a shard: find the series and its window, and accept the value (sketch included). */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class ShardBench {

    static final int POINTS = 2048;

    @Param({"10000", "1000000"})
    int series;

    private Shard shard;
    private Part[] parts;
    private int next;

    @Setup
    public void setUp() {
        shard = new Shard(10_000, 3_600_000, new SeriesBudget(series * 2L));
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
                // Fresh equal keys, as the decoder hands them over on a cache miss.
                SeriesKey k = keys[s];
                points.add(new Point(SeriesKey.ofPairs(k.metric(), new String[]{"host", k.tagValue(0), "region",
                        k.tagValue(1), "svc", "api"}, 3), (i % 1000) / 10.0, 1_764_086_400_000L + i, i + 1));
                s = (s + 7919) % series;
            }
            parts[p] = new Part(0, batch, points);
        }
    }

    @Benchmark
    @OperationsPerInvocation(POINTS)
    public int record() {
        Part p = parts[next];
        next = next + 1 == parts.length ? 0 : next + 1;
        return shard.record(p);
    }
}
