package dev.meterline.validate;

import dev.meterline.config.ValidationConfig;
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
import org.openjdk.jmh.infra.Blackhole;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Validation: the content rules and static-tag enrichment of one point. */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class ValidateBench {

    static final int POINTS = 1000;

    private Point[] points;
    private Validator validator;

    @Setup
    public void setUp() {
        validator = new Validator(new ValidationConfig(32, Duration.ofMinutes(10), Duration.ofDays(365), List.of(), 2));
        points = new Point[POINTS];
        for (int i = 0; i < POINTS; i++) {
            SeriesKey key = SeriesKey.ofPairs("bench.m" + (i % 10),
                    new String[]{"host", "h" + i, "region", "r" + (i % 7), "svc", "api"}, 3);
            points[i] = new Point(key, i / 10.0, 1_764_086_400_000L, i + 1);
        }
    }

    @Benchmark
    @OperationsPerInvocation(POINTS)
    public void checkAndEnrich(Blackhole bh) {
        long now = 1_764_086_400_500L;
        for (Point p : points) {
            bh.consume(validator.checkSeries(p.series()));
            bh.consume(validator.check(p, now));
            bh.consume(validator.enrich(p.series()));
        }
    }
}
