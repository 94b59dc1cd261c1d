package dev.meterline.promql;

import dev.meterline.aggregate.NamedFilter;
import dev.meterline.model.Aggregate;
import dev.meterline.model.PrometheusNames;
import dev.meterline.model.PrometheusNames.Stat;
import dev.meterline.model.SeriesKey;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The series of the Prometheus view a Meterline series gives (see {@link PrometheusNames}): one per statistic
 * ({@code B_count} … {@code B_last}), one per quantile ({@code B{quantile="0.99"}}), and {@code B_bucket{le="+Inf"}},
 * whose value is the window's count and which carries the window's sketch for {@code histogram_quantile}.
 */
final class View {

    /** Label of the bucket samples. */
    static final String LE = "le";
    static final String NAME = "__name__";

    /** What the samples of a view series are: a statistic, a quantile (by index), or the bucket. */
    record Kind(Stat stat, int quantile) {

        static final Kind BUCKET = new Kind(null, -1);

        static List<Kind> all() {
            List<Kind> kinds = new ArrayList<>();
            for (Stat s : Stat.values()) {
                kinds.add(new Kind(s, -1));
            }
            for (int q = 0; q < PrometheusNames.QUANTILES.size(); q++) {
                kinds.add(new Kind(null, q));
            }
            kinds.add(BUCKET);
            return List.copyOf(kinds);
        }

        boolean bucket() {
            return stat == null && quantile < 0;
        }

        /** True for the samples that hold per-window deltas: {@code _count}, {@code _sum}, {@code _bucket}. */
        boolean delta() {
            return bucket() || stat == Stat.COUNT || stat == Stat.SUM;
        }

        String sampleName(String base) {
            return stat != null ? stat.sampleName(base) : quantile >= 0 ? base : base + "_bucket";
        }

        /** The value of one window, or of windows merged into one aggregate. */
        double of(Aggregate a) {
            if (stat != null) {
                return stat.of(a);
            }
            return quantile >= 0 ? a.valueAtQuantile(PrometheusNames.QUANTILES.get(quantile)) : a.count();
        }

        /** The label this kind adds, or null. */
        String extraLabel() {
            return stat != null ? null : quantile >= 0 ? PrometheusNames.QUANTILE_LABEL : LE;
        }

        String extraValue() {
            return stat != null ? null : quantile >= 0 ? PrometheusNames.QUANTILE_VALUES.get(quantile) : "+Inf";
        }
    }

    /** One view series with its windows, ordered by end. */
    record Series(Map<String, String> labels, Kind kind, long[] ends, Aggregate[] windows) {
    }

    private static final List<Kind> KINDS = Kind.all();

    private View() {
    }

    /** The kinds of {@code base} whose name and added label pass the matchers on those labels. */
    static List<Kind> kinds(String base, List<Expr.Matcher> matchers) {
        List<Kind> out = new ArrayList<>();
        for (Kind k : KINDS) {
            boolean ok = true;
            for (Expr.Matcher m : matchers) {
                if (m.name().equals(NAME)) {
                    ok &= m.matches(k.sampleName(base));
                } else if (m.name().equals(PrometheusNames.QUANTILE_LABEL) || m.name().equals(LE)) {
                    ok &= m.matches(m.name().equals(k.extraLabel()) ? k.extraValue() : "");
                }
            }
            if (ok) {
                out.add(k);
            }
        }
        return out;
    }

    /** True if a series' labels pass the matchers that are not about the name and the added labels. */
    static boolean matchesSeries(Map<String, String> labels, List<Expr.Matcher> matchers) {
        for (Expr.Matcher m : matchers) {
            if (!m.name().equals(NAME) && !m.name().equals(PrometheusNames.QUANTILE_LABEL) && !m.name().equals(LE)
                    && !m.matches(labels.get(m.name()))) {
                return false;
            }
        }
        return true;
    }

    /**
     * As {@link #matchesSeries}, but never throws: a regular expression that runs out of steps passes the series,
     * for a filter that runs where the reads happen (shards, store) and is followed by the strict check.
     */
    static boolean mayMatchSeries(Map<String, String> labels, List<Expr.Matcher> matchers) {
        try {
            return matchesSeries(labels, matchers);
        } catch (PromException e) {
            return true;
        }
    }

    /**
     * {@link #mayMatchSeries} of the series' labels as a filter named by the matchers that test series and by
     * {@code collides} (which adds the {@code metric} label): a selector asked again is then answered from the open
     * windows its first query had the shards publish, without a shard ({@link NamedFilter}).
     */
    static NamedFilter seriesFilter(List<Expr.Matcher> matchers, boolean collides) {
        List<String> parts = new ArrayList<>();
        for (Expr.Matcher m : matchers) {
            if (!m.name().equals(NAME) && !m.name().equals(PrometheusNames.QUANTILE_LABEL) && !m.name().equals(LE)) {
                // Lengths first, so that no name or value can pass for the separators.
                parts.add(m.name().length() + ":" + m.name() + m.op().text + m.value().length() + ":" + m.value());
            }
        }
        Collections.sort(parts);
        String name = "promql " + (collides ? "with metric " : "") + String.join(" ", parts);
        return new NamedFilter(name, key -> mayMatchSeries(PrometheusNames.labels(key, collides), matchers));
    }

    /** The labels of a view series, {@code __name__} included. */
    static Map<String, String> labels(SeriesKey key, boolean collides, String base, Kind kind) {
        TreeMap<String, String> l = PrometheusNames.labels(key, collides);
        l.put(NAME, kind.sampleName(base));
        if (kind.extraLabel() != null) {
            l.put(kind.extraLabel(), kind.extraValue());
        }
        return Collections.unmodifiableMap(l);
    }
}
