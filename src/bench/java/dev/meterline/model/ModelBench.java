package dev.meterline.model;

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
import org.openjdk.jmh.infra.Blackhole;

import dev.meterline.ingest.SeriesKeyCache;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/** Series-key construction (built, and found in the decoder's cache), aggregate update and merge. */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class ModelBench {

    static final int N = 1000;

    /** Values per window for the merge: sparse (8) or in a sketch (200). */
    @Param({"8", "200"})
    int valuesPerWindow;

    private String[][] pairs;
    private String[] metrics;
    private byte[][] tagBytes;
    private SeriesKeyCache cache;
    private double[] values;
    private Aggregate[] left;
    private Aggregate[] right;

    @Setup
    public void setUp() {
        pairs = new String[N][];
        metrics = new String[N];
        tagBytes = new byte[N][];
        cache = new SeriesKeyCache(32_768);
        for (int i = 0; i < N; i++) {
            metrics[i] = "bench.m" + (i % 10);
            pairs[i] = new String[]{"svc", "api", "host", "h" + i, "region", "r" + (i % 7)};
            tagBytes[i] = ("{\"svc\":\"api\",\"host\":\"h" + i + "\",\"region\":\"r" + (i % 7) + "\"}")
                    .getBytes(StandardCharsets.UTF_8);
            // The wire bytes as the decoder sees them: the metric's characters, then the tags object.
            tagBytes[i] = (metrics[i] + new String(tagBytes[i], StandardCharsets.UTF_8)).getBytes(StandardCharsets.UTF_8);
            int m = metrics[i].length();
            cache.put(SeriesKeyCache.hash(tagBytes[i], 0, m, m, tagBytes[i].length), tagBytes[i], 0, m, m,
                    tagBytes[i].length, SeriesKey.ofPairs(metrics[i], pairs[i].clone(), 3));
        }
        values = new double[N];
        for (int i = 0; i < N; i++) {
            values[i] = Math.exp((i * 7919 % 1000) / 100.0);
        }
        left = new Aggregate[N / 10];
        right = new Aggregate[N / 10];
        for (int i = 0; i < left.length; i++) {
            left[i] = new Aggregate();
            right[i] = new Aggregate();
            for (int j = 0; j < valuesPerWindow; j++) {
                left[i].accept(values[(i + j) % N], j);
                right[i].accept(values[(i * 3 + j) % N], j);
            }
        }
    }

    @Benchmark
    @OperationsPerInvocation(N)
    public void seriesKeyBuild(Blackhole bh) {
        for (int i = 0; i < N; i++) {
            bh.consume(SeriesKey.ofPairs(metrics[i], pairs[i].clone(), 3));
        }
    }

    @Benchmark
    @OperationsPerInvocation(N)
    public void seriesKeyCached(Blackhole bh) {
        for (int i = 0; i < N; i++) {
            byte[] w = tagBytes[i];
            int m = metrics[i].length();
            bh.consume(cache.find(SeriesKeyCache.hash(w, 0, m, m, w.length), w, 0, m, m, w.length));
        }
    }

    /** One window receiving N values: the first 16 sparse, the rest in the sketch. */
    @Benchmark
    @OperationsPerInvocation(N)
    public Aggregate aggregateAccept() {
        Aggregate a = new Aggregate();
        for (int i = 0; i < N; i++) {
            a.accept(values[i], i);
        }
        return a;
    }

    /** Many windows of two values each: the sparse path only. */
    @Benchmark
    @OperationsPerInvocation(N)
    public void aggregateAcceptSparse(Blackhole bh) {
        for (int i = 0; i < N; i += 2) {
            Aggregate a = new Aggregate();
            a.accept(values[i], i);
            a.accept(values[i + 1], i + 1);
            bh.consume(a);
        }
    }

    @Benchmark
    @OperationsPerInvocation(N / 10)
    public void aggregateMerge(Blackhole bh) {
        for (int i = 0; i < left.length; i++) {
            Aggregate a = left[i].copy();
            a.mergeWith(right[i]);
            bh.consume(a);
        }
    }
}
