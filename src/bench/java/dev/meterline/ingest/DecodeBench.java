package dev.meterline.ingest;

import dev.meterline.model.Point;
import dev.meterline.model.Reject;
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

import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/** Line decode: one read of {@link #LINES} NDJSON lines through the decoder, per line. */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class DecodeBench {

    static final int LINES = 1000;

    /** How many distinct series the lines cycle through. */
    @Param({"100", "100000"})
    int series;

    private byte[] bytes;
    private LineDecoder decoder;
    private Blackhole sink;
    private int[] chunkStarts;
    private int chunk;

    @Setup
    public void setUp(Blackhole bh) {
        sink = bh;
        IngestCodec codec = new IngestCodec(65_536, 32);
        decoder = codec.decoder(new LineDecoder.Output() {
            @Override
            public void point(Point point) {
                sink.consume(point);
            }

            @Override
            public void reject(Reject reject) {
                throw new IllegalStateException(reject.toString());
            }

            @Override
            public void sync(String id, int line) {
            }
        });
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < LINES * 100; i++) {
            int s = (i * 7919) % series;
            sb.append("{\"metric\":\"bench.m").append(s % 10).append("\",\"value\":").append((i % 1000) / 10.0)
                    .append(",\"timestamp\":1764086400000,\"tags\":{\"host\":\"h").append(s)
                    .append("\",\"region\":\"r").append(s % 7).append("\",\"svc\":\"api\"}}\n");
        }
        bytes = sb.toString().getBytes(StandardCharsets.UTF_8);
        chunkStarts = new int[101];
        int lines = 0;
        for (int i = 0; i < bytes.length; i++) {
            if (bytes[i] == '\n' && ++lines % LINES == 0) {
                chunkStarts[lines / LINES] = i + 1;
            }
        }
    }

    @Benchmark
    @OperationsPerInvocation(LINES)
    public void decodeLine() {
        // Successive invocations walk through the buffer so the series keep changing.
        int from = chunkStarts[chunk];
        int to = chunkStarts[chunk + 1];
        decoder.decode(bytes, from, to - from, 1_764_086_400_000L);
        chunk = chunk + 1 == 100 ? 0 : chunk + 1;
    }
}
