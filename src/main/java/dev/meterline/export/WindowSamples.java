package dev.meterline.export;

import dev.meterline.model.Aggregate;
import dev.meterline.model.PrometheusNames;
import dev.meterline.model.PrometheusNames.Stat;
import dev.meterline.model.SeriesKey;

import java.util.Map;
import java.util.TreeMap;

/**
 * The samples of one merged window as {@link PrometheusNames} names them: {@code B_count}, {@code B_sum},
 * {@code B_min}, {@code B_max}, {@code B_mean}, {@code B_last} and {@code B{quantile=…}}, stamped with the window's
 * end. A statistic without a value (the min of a window that only counted late points) is left out rather than sent
 * as NaN.
 */
final class WindowSamples {

    private static final String NAME = "__name__";
    private static final Stat[] STATS = Stat.values();
    private static final byte[][] QUANTILE_VALUES = PrometheusNames.QUANTILE_VALUES.stream()
            .map(WriteRequestEncoder::utf8).toArray(byte[][]::new);

    private WindowSamples() {
    }

    /** Adds the samples of {@code aggregate}, the merged window of {@code key} ending at {@code end}; returns how many. */
    static int add(WriteRequestEncoder encoder, SeriesKey key, boolean metricCollides, Aggregate aggregate, long end) {
        TreeMap<String, String> labels = PrometheusNames.labels(key, metricCollides);
        String base = PrometheusNames.baseName(key.metric());
        // Label names of a series sort the same for every sample: place __name__ (and quantile) once, then only
        // the value in that slot changes from sample to sample.
        labels.put(NAME, "");
        byte[][] plain = pairs(labels);
        int nameAt = slot(labels, NAME);
        int added = 0;
        for (Stat stat : STATS) {
            double v = stat.of(aggregate);
            if (Double.isNaN(v) || aggregate.count() == 0 && stat != Stat.COUNT && stat != Stat.SUM) {
                continue;
            }
            plain[nameAt + 1] = WriteRequestEncoder.utf8(stat.sampleName(base));
            encoder.add(plain, end, v);
            added++;
        }
        if (aggregate.count() == 0) {
            return added;
        }
        labels.put(NAME, base);
        labels.put(PrometheusNames.QUANTILE_LABEL, "");
        byte[][] quantile = pairs(labels);
        int quantileAt = slot(labels, PrometheusNames.QUANTILE_LABEL);
        for (int i = 0; i < PrometheusNames.QUANTILES.size(); i++) {
            double v = aggregate.valueAtQuantile(PrometheusNames.QUANTILES.get(i));
            if (Double.isNaN(v)) {
                continue;
            }
            quantile[quantileAt + 1] = QUANTILE_VALUES[i];
            encoder.add(quantile, end, v);
            added++;
        }
        return added;
    }

    private static byte[][] pairs(TreeMap<String, String> labels) {
        byte[][] out = new byte[labels.size() * 2][];
        int i = 0;
        for (Map.Entry<String, String> e : labels.entrySet()) {
            out[i++] = WriteRequestEncoder.utf8(e.getKey());
            out[i++] = WriteRequestEncoder.utf8(e.getValue());
        }
        return out;
    }

    /** The index of {@code name}'s name slot in {@link #pairs}' output. */
    private static int slot(TreeMap<String, String> labels, String name) {
        return labels.headMap(name).size() * 2;
    }
}
