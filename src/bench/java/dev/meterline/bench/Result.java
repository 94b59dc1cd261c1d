package dev.meterline.bench;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Locale;
import java.util.function.ToDoubleFunction;

/** The figures of one load run. */
final class Result {
    /** Write-ahead log bytes per accepted point at the end of the run (0 without a log). */
    double walBytesPerPoint;

    long points;
    double seconds;
    double rate;
    double reference;
    double referenceCpuMicros;
    long errors;
    double syncP50;
    double syncP99;
    double queryP50;
    double queryP90;
    double queryP99;
    int queries;
    double cpuSeconds;
    double peakRssMiB;
    long activeSeries;
    double heapPerSeries;
    /** The server's CPU nanoseconds during the load by stage (event loops, shards, JIT...), in pipeline order. */
    Map<String, Long> cpuNanosByGroup = Map.of();

    double ratio() {
        return reference == 0 ? Double.NaN : rate / reference;
    }

    /** The reference's CPU time per point over the server's: the ratio that machine load disturbs least. */
    double cpuRatio() {
        return referenceCpuMicros / cpuPerPointMicros();
    }

    /** Server CPU time per point, in microseconds. */
    double cpuPerPointMicros() {
        return cpuSeconds * 1e6 / points;
    }

    @Override
    public String toString() {
        // Builds compared with each other (--compare) run without the bare reference loop.
        String against = reference == 0 ? "" : String.format(Locale.ROOT,
                " (reference %.3f M/s, ratio %.2f, CPU ratio %.2f)", reference / 1e6, ratio(), cpuRatio());
        return String.format(Locale.ROOT,
                "%.3f M points/s in %.2f s%s; sync p50 %.1f ms p99 %.1f ms; "
                        + "query p50 %.1f ms p90 %.1f ms p99 %.1f ms (%d); server CPU %.1f s (%.2f us/point); peak RSS %.0f MiB; "
                        + "heap %.0f B/series (%d active)",
                rate / 1e6, seconds, against, syncP50, syncP99, queryP50, queryP90, queryP99, queries,
                cpuSeconds, cpuPerPointMicros(), peakRssMiB, heapPerSeries, activeSeries);
    }

    /** One line of the server's CPU during the load by stage, in seconds and in microseconds per point. */
    String cpuByGroup() {
        StringBuilder sb = new StringBuilder("    server CPU by stage, s (us/point):");
        cpuNanosByGroup.forEach((stage, nanos) -> sb.append(String.format(Locale.ROOT, " %s %.1f (%.2f);", stage,
                nanos / 1e9, nanos / 1e3 / points)));
        return sb.toString();
    }

    /** Median and min-max of a figure over runs. */
    static double[] stats(List<Result> rs, ToDoubleFunction<Result> f) {
        double[] v = rs.stream().mapToDouble(f).sorted().toArray();
        double median = v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
        return new double[]{median, v[0], v[v.length - 1]};
    }

    static String fmt(List<Result> rs, ToDoubleFunction<Result> f, double scale, String pattern) {
        double[] s = stats(rs, f);
        return String.format(Locale.ROOT, pattern + " (" + pattern + "–" + pattern + ")",
                s[0] / scale, s[1] / scale, s[2] / scale);
    }

    static String summary(List<Result> rs) {
        String against = rs.stream().allMatch(r -> r.reference == 0) ? ""
                : "; reference " + fmt(rs, r -> r.reference, 1e6, "%.3f") + " M/s; ratio " + fmt(rs, Result::ratio, 1, "%.2f")
                + "; CPU ratio " + fmt(rs, Result::cpuRatio, 1, "%.2f") + " (reference "
                + fmt(rs, r -> r.referenceCpuMicros, 1, "%.2f") + " us/point)";
        return "rate " + fmt(rs, r -> r.rate, 1e6, "%.3f") + " M/s" + against + "; sync p99 " + fmt(rs, r -> r.syncP99, 1, "%.1f")
                + " ms; query p50 " + fmt(rs, r -> r.queryP50, 1, "%.1f") + " ms, p90 "
                + fmt(rs, r -> r.queryP90, 1, "%.1f") + " ms, p99 " + fmt(rs, r -> r.queryP99, 1, "%.1f")
                + " ms; CPU " + fmt(rs, Result::cpuPerPointMicros, 1, "%.2f") + " us/point; peak RSS "
                + fmt(rs, r -> r.peakRssMiB, 1, "%.0f") + " MiB; heap " + fmt(rs, r -> r.heapPerSeries, 1, "%.0f")
                + " B/series";
    }

    static String[] row(String label, List<Result> rs) {
        return new String[]{label,
                fmt(rs, r -> r.rate, 1e6, "%.2f"),
                fmt(rs, Result::ratio, 1, "%.2f"),
                fmt(rs, Result::cpuRatio, 1, "%.2f"),
                fmt(rs, r -> r.syncP99, 1, "%.0f"),
                fmt(rs, r -> r.queryP99, 1, "%.1f"),
                fmt(rs, Result::cpuPerPointMicros, 1, "%.2f"),
                fmt(rs, r -> r.peakRssMiB, 1, "%.0f"),
                fmt(rs, r -> r.heapPerSeries, 1, "%.0f")};
    }

    static final String[] HEADER = {"M points/s", "ratio to bare loop", "CPU ratio", "sync p99 ms", "query p99 ms",
            "server CPU µs/point", "peak RSS MiB", "heap B/series"};

    static String[] header(String first) {
        String[] h = new String[HEADER.length + 1];
        h[0] = first;
        System.arraycopy(HEADER, 0, h, 1, HEADER.length);
        return Arrays.copyOf(h, h.length);
    }
}
