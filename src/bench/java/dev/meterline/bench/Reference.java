package dev.meterline.bench;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.HashMap;
import java.util.Map;

/**
 * The reference: the same bytes through a bare single-threaded loop — Jackson streaming parse, a string key of
 * metric and tags, and a HashMap update of count, sum, min and max. No validation, windows, sketch, or network.
 */
final class Reference {

    private static final JsonFactory JSON = new JsonFactory();

    private Reference() {
    }

    /**
     * Points per second over the whole workload, and the thread's CPU microseconds per point; the loop runs twice
     * and the second (warm) pass counts.
     */
    static double[] rate(LoadGen.Workload w) throws IOException {
        pass(w);
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        long cpu = threads.getCurrentThreadCpuTime();
        long t = System.nanoTime();
        long n = pass(w);
        double seconds = (System.nanoTime() - t) / 1e9;
        return new double[]{n / seconds, (threads.getCurrentThreadCpuTime() - cpu) / 1e3 / n};
    }

    private static long pass(LoadGen.Workload w) throws IOException {
        Map<String, double[]> state = new HashMap<>();
        long points = 0;
        StringBuilder key = new StringBuilder(128);
        for (LoadGen.Block b : w.blocks) {
            for (int r = 0; r < w.repeats; r++) {
                try (JsonParser p = JSON.createParser(b.bytes)) {
                    while (p.nextToken() == JsonToken.START_OBJECT) {
                        key.setLength(0);
                        double value = Double.NaN;
                        String f;
                        while ((f = p.nextFieldName()) != null) {
                            JsonToken t = p.nextToken();
                            switch (f) {
                                case "metric" -> key.insert(0, p.getText());
                                case "value" -> value = p.getDoubleValue();
                                case "timestamp" -> p.getLongValue();
                                case "tags" -> {
                                    String k;
                                    while ((k = p.nextFieldName()) != null) {
                                        p.nextToken();
                                        key.append('|').append(k).append('=').append(p.getText());
                                    }
                                }
                                default -> p.skipChildren();
                            }
                            if (t == null) {
                                break;
                            }
                        }
                        if (Double.isNaN(value)) {
                            continue;
                        }
                        double[] a = state.computeIfAbsent(key.toString(),
                                k -> new double[]{0, 0, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY});
                        a[0]++;
                        a[1] += value;
                        a[2] = Math.min(a[2], value);
                        a[3] = Math.max(a[3], value);
                        points++;
                    }
                }
            }
        }
        if (points != w.totalPoints()) {
            throw new IllegalStateException("reference saw " + points + " points, expected " + w.totalPoints());
        }
        return points;
    }
}
