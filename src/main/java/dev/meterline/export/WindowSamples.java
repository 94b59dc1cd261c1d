package dev.meterline.export;

import dev.meterline.model.Aggregate;
import dev.meterline.model.PrometheusNames;
import dev.meterline.model.PrometheusNames.Stat;
import dev.meterline.model.SeriesKey;
import dev.meterline.model.SketchQuantiles;
import dev.meterline.store.ExportRow;

import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * The samples of one merged window as {@link PrometheusNames} names them: {@code B_count}, {@code B_sum},
 * {@code B_min}, {@code B_max}, {@code B_mean}, {@code B_last} and {@code B{quantile=…}}, stamped with the window's
 * end. A statistic without a value (the min of a window that only counted late points) is left out rather than sent
 * as NaN.
 *
 * <p>A window's labels are encoded once and copied into each of its nine samples, which differ only in the
 * {@code __name__} and {@code quantile} labels (whose encoded messages are kept per metric); a window of one stored
 * partial gives its quantiles straight from the encoded sketch. Not thread-safe: one instance per encoder.
 */
final class WindowSamples {

    private static final byte[] NAME = WriteRequestEncoder.utf8("__name__");
    private static final Stat[] STATS = Stat.values();
    private static final double[] QUANTILES = PrometheusNames.QUANTILES.stream().mapToDouble(Double::doubleValue)
            .toArray();
    private static final byte[][] QUANTILE_LABELS = PrometheusNames.QUANTILE_VALUES.stream()
            .map(v -> WriteRequestEncoder.label(WriteRequestEncoder.utf8(PrometheusNames.QUANTILE_LABEL),
                    WriteRequestEncoder.utf8(v)))
            .toArray(byte[][]::new);

    private final WriteRequestEncoder encoder;
    private final SketchQuantiles sketches = new SketchQuantiles();
    private final double[] quantiles = new double[QUANTILES.length];
    private final WriteRequestEncoder.LabelBuffer labels = new WriteRequestEncoder.LabelBuffer();
    /** The encoded {@code __name__} labels of a metric: one per statistic, then the base name's. */
    private final Map<String, byte[][]> names = new HashMap<>();
    private int nameAt;
    private int quantileAt;

    WindowSamples(WriteRequestEncoder encoder) {
        this.encoder = encoder;
    }

    /** Forgets the metrics' names kept so far, so that they stay as few as the metrics of one request. */
    void clearNames() {
        names.clear();
    }

    /** Adds the samples of one stored partial, the whole window of {@code row}'s series ending at {@code end}. */
    int add(ExportRow row, boolean metricCollides, long end) {
        if (row.count() != 0 && !sketches.read(row.sketch(), row.min(), row.max(), QUANTILES, quantiles)) {
            // Bytes the direct reader leaves to the library.
            return add(row.series(), metricCollides, row.aggregate(), end);
        }
        return add(row.series(), metricCollides, row.count(), row.sum(), row.min(), row.max(), row.last(), end);
    }

    /** Adds the samples of {@code aggregate}, the merged window of {@code key} ending at {@code end}; returns how many. */
    int add(SeriesKey key, boolean metricCollides, Aggregate aggregate, long end) {
        if (aggregate.count() != 0) {
            for (int i = 0; i < QUANTILES.length; i++) {
                quantiles[i] = aggregate.valueAtQuantile(QUANTILES[i]);
            }
        }
        return add(key, metricCollides, aggregate.count(), aggregate.sum(), aggregate.min(), aggregate.max(),
                aggregate.last(), end);
    }

    /** Adds the statistics given and the quantiles in {@link #quantiles}. */
    private int add(SeriesKey key, boolean metricCollides, long count, double sum, double min, double max,
                    double last, long end) {
        encodeLabels(key, metricCollides);
        byte[][] named = names.computeIfAbsent(key.metric(), WindowSamples::names);
        int added = 0;
        for (Stat stat : STATS) {
            double v = stat.of(count, sum, min, max, last);
            if (Double.isNaN(v) || count == 0 && stat != Stat.COUNT && stat != Stat.SUM) {
                continue;
            }
            encoder.add(labels.bytes, nameAt, nameAt, labels.length, named[stat.ordinal()], null, end, v);
            added++;
        }
        if (count == 0) {
            return added;
        }
        byte[] base = named[STATS.length];
        for (int i = 0; i < QUANTILES.length; i++) {
            double v = quantiles[i];
            if (Double.isNaN(v)) {
                continue;
            }
            encoder.add(labels.bytes, nameAt, quantileAt, labels.length, base, QUANTILE_LABELS[i], end, v);
            added++;
        }
        return added;
    }

    /**
     * Encodes the series' labels, sorted by name, into {@link #labels}, and where {@code __name__} and
     * {@code quantile} go among them: {@code quantile} sorts after {@code __name__}, and no series label takes
     * either name (both are reserved).
     */
    private void encodeLabels(SeriesKey key, boolean metricCollides) {
        TreeMap<String, String> sorted = PrometheusNames.labels(key, metricCollides);
        labels.length = 0;
        nameAt = -1;
        quantileAt = -1;
        for (Map.Entry<String, String> e : sorted.entrySet()) {
            String name = e.getKey();
            if (nameAt < 0 && name.compareTo("__name__") > 0) {
                nameAt = labels.length;
            }
            if (quantileAt < 0 && name.compareTo(PrometheusNames.QUANTILE_LABEL) > 0) {
                quantileAt = labels.length;
            }
            WriteRequestEncoder.labelInto(labels, WriteRequestEncoder.utf8(name),
                    WriteRequestEncoder.utf8(e.getValue()));
        }
        if (nameAt < 0) {
            nameAt = labels.length;
        }
        if (quantileAt < 0) {
            quantileAt = labels.length;
        }
    }

    private static byte[][] names(String metric) {
        String base = PrometheusNames.baseName(metric);
        byte[][] out = new byte[STATS.length + 1][];
        for (Stat stat : STATS) {
            out[stat.ordinal()] = WriteRequestEncoder.label(NAME, WriteRequestEncoder.utf8(stat.sampleName(base)));
        }
        out[STATS.length] = WriteRequestEncoder.label(NAME, WriteRequestEncoder.utf8(base));
        return out;
    }
}
