package dev.meterline.model;

import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * How windows are named in the Prometheus view, shared by the Prometheus-compatible query API and remote write: a
 * metric's base name, its sample names, and a series' labels.
 *
 * <p>Names that would mix are kept apart, never merged: two metrics with one base name (say {@code cpu.usage} and
 * {@code cpu_usage}) each carry the label {@value #METRIC_LABEL} with their own name; two tag keys of one series
 * with one label name (say {@code host.name} and {@code host_name}) are told apart by a suffix on all but the first
 * in key order ({@code host_name}, {@code host_name_2}); a tag key that would take a name the view reserves
 * ({@code __name__} or any other {@code __} prefix, {@code quantile}, {@code le}, {@value #METRIC_LABEL}) gets the
 * prefix {@code tag_}.
 */
public final class PrometheusNames {

    /** Label naming the Meterline metric of a series whose base name another metric shares. */
    public static final String METRIC_LABEL = "meterline_metric";
    /** Label of the summary samples. */
    public static final String QUANTILE_LABEL = "quantile";
    /** The quantiles each window is shown with, and their label values. */
    public static final List<Double> QUANTILES = List.of(0.5, 0.9, 0.99);
    public static final List<String> QUANTILE_VALUES = List.of("0.5", "0.9", "0.99");

    /** The samples each window of a series gives, besides the quantiles. */
    public enum Stat {
        COUNT, SUM, MIN, MAX, MEAN, LAST;

        private final String suffix = "_" + name().toLowerCase(java.util.Locale.ROOT);

        /** {@code _count}, {@code _sum}, … */
        public String suffix() {
            return suffix;
        }

        /** The sample name of this statistic for base name {@code base}. */
        public String sampleName(String base) {
            return base + suffix;
        }

        /** The value of this statistic in an aggregate. */
        public double of(Aggregate a) {
            return of(a.count(), a.sum(), a.min(), a.max(), a.last());
        }

        /** The value of this statistic in a window of these figures (the mean of none is NaN, as an aggregate's). */
        public double of(long count, double sum, double min, double max, double last) {
            return switch (this) {
                case COUNT -> count;
                case SUM -> sum;
                case MIN -> min;
                case MAX -> max;
                case MEAN -> count == 0 ? Double.NaN : sum / count;
                case LAST -> last;
            };
        }
    }

    private PrometheusNames() {
    }

    /** {@code cpu.usage} → {@code cpu_usage}: characters outside {@code [a-zA-Z0-9_:]} become {@code _}. */
    public static String baseName(String metric) {
        return sanitize(metric, true);
    }

    /** A tag key as a label name, by the same rule without {@code :}; reserved names are not avoided here. */
    public static String labelName(String tagKey) {
        return sanitize(tagKey, false);
    }

    private static String sanitize(String s, boolean colon) {
        StringBuilder out = null;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            boolean ok = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || colon && c == ':'
                    || c >= '0' && c <= '9' && i > 0;
            if (ok && out == null) {
                continue;
            }
            if (out == null) {
                out = new StringBuilder(s.length() + 1).append(s, 0, i);
            }
            if (i == 0 && c >= '0' && c <= '9') {
                out.append('_').append(c);
            } else {
                out.append(ok ? c : '_');
                // A surrogate pair is one character of the name: one underscore.
                if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                    i++;
                }
            }
        }
        return out == null ? s : out.toString();
    }

    /** True for label names the view keeps for itself: a tag key mapping to one gets the prefix {@code tag_}. */
    public static boolean reserved(String labelName) {
        return labelName.startsWith("__") || labelName.equals(QUANTILE_LABEL) || labelName.equals("le")
                || labelName.equals(METRIC_LABEL);
    }

    /**
     * The labels of a series, sorted by name, without {@code __name__}: its tags under their label names, and
     * {@value #METRIC_LABEL} when {@code metricCollides} (see {@link #colliding}).
     */
    public static TreeMap<String, String> labels(SeriesKey key, boolean metricCollides) {
        TreeMap<String, String> labels = new TreeMap<>();
        for (int i = 0; i < key.tagCount(); i++) {
            String name = labelName(key.tagKey(i));
            if (reserved(name)) {
                name = "tag_" + name;
            }
            String unique = name;
            for (int n = 2; labels.containsKey(unique); n++) {
                unique = name + "_" + n;
            }
            labels.put(unique, key.tagValue(i));
        }
        if (metricCollides) {
            labels.put(METRIC_LABEL, key.metric());
        }
        return labels;
    }

    /** The metrics among {@code metrics} whose base name another one of them shares. */
    public static Set<String> colliding(Collection<String> metrics) {
        Map<String, String> firstByBase = new HashMap<>();
        Set<String> colliding = new HashSet<>();
        for (String m : metrics) {
            String other = firstByBase.putIfAbsent(baseName(m), m);
            if (other != null && !other.equals(m)) {
                colliding.add(other);
                colliding.add(m);
            }
        }
        return colliding;
    }
}
