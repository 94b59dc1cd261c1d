package dev.meterline.ingest;

import dev.meterline.model.Point;
import dev.meterline.model.Reject;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * The decoder's CPU per line on one thread: an NDJSON file (such as a part of the benchmark's data set) decoded
 * again and again through one {@link LineDecoder} in reads of 64 KiB, each pass timed by the thread's CPU clock, so
 * that other work on the machine counts less than in wall time. Prints the median and the fastest pass of the
 * second half, in nanoseconds per line. Put the build to measure after the benchmark classes on the class path and
 * alternate builds in one sitting:
 * {@code java -cp target/test-classes:a.jar dev.meterline.ingest.DecodeCpu FILE [PASSES]}.
 */
final class DecodeCpu {

    private static final int READ = 64 * 1024;

    private DecodeCpu() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 1) {
            System.err.println("usage: DecodeCpu FILE [PASSES (default 60)]");
            System.exit(2);
        }
        byte[] bytes = Files.readAllBytes(Path.of(args[0]));
        int passes = args.length > 1 ? Integer.parseInt(args[1]) : 60;
        if (passes < 2) {
            throw new IllegalArgumentException("passes: " + passes + " (expected: at least 2)");
        }
        long[] seen = new long[2];
        LineDecoder decoder = new IngestCodec(65_536, 16, 262_144).decoder(new LineDecoder.Output() {
            @Override
            public void point(Point p) {
                seen[0] += p.line();
            }

            @Override
            public void reject(Reject r) {
                seen[1]++;
            }

            @Override
            public void sync(String id, int line) {
            }
        });
        ThreadMXBean cpu = ManagementFactory.getThreadMXBean();
        long[] perLine = new long[passes];
        int lines = 0;
        for (int pass = 0; pass < passes; pass++) {
            int before = decoder.lines();
            long start = cpu.getCurrentThreadCpuTime();
            for (int off = 0; off < bytes.length; off += READ) {
                decoder.decode(bytes, off, Math.min(READ, bytes.length - off), 1L);
            }
            perLine[pass] = cpu.getCurrentThreadCpuTime() - start;
            lines = decoder.lines() - before;
        }
        long[] late = Arrays.copyOfRange(perLine, passes / 2, passes);
        Arrays.sort(late);
        System.out.printf("lines=%d passes=%d rejects=%d median_ns_per_line=%.1f best_ns_per_line=%.1f%n", lines,
                passes, seen[1], late[late.length / 2] / (double) Math.max(1, lines),
                late[0] / (double) Math.max(1, lines));
    }
}
