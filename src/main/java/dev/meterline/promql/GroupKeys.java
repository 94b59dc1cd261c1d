package dev.meterline.promql;

import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The group labels of one aggregation's input samples, kept across the steps of a range query: a selector's samples
 * carry their series' label map itself at every step, so each map is grouped once per query rather than once per
 * step. Equal group labels come back as one instance, so that groups can be told apart by identity.
 */
final class GroupKeys {

    /**
     * Label maps remembered at least; past this and four times the latest input, the cache starts over, which bounds
     * it when the input's maps are new at each step (as those a function or an operator makes are).
     */
    static final int MIN_CAPACITY = 1_024;

    private final boolean without;
    private final List<String> grouping;
    private final Map<Map<String, String>, Map<String, String>> byLabels = new IdentityHashMap<>();
    private final Map<Map<String, String>, Map<String, String>> canonical = new HashMap<>();

    GroupKeys(boolean without, List<String> grouping) {
        this.without = without;
        this.grouping = grouping;
    }

    /** Called before each input vector of {@code size} samples, to keep the cache within its bound. */
    void startStep(int size) {
        if (byLabels.size() > Math.max(MIN_CAPACITY, 4L * size)) {
            byLabels.clear();
            canonical.clear();
        }
    }

    /** The group labels of {@code labels}: one instance for equal group labels while the cache holds them. */
    Map<String, String> of(Map<String, String> labels) {
        Map<String, String> g = byLabels.get(labels);
        if (g == null) {
            g = canonical.computeIfAbsent(groupLabels(labels, without, grouping), k -> k);
            byLabels.put(labels, g);
        }
        return g;
    }

    /** Label maps remembered now. */
    int size() {
        return byLabels.size();
    }

    /** The labels {@code by} keeps, or those {@code without} leaves (never the metric name). */
    static Map<String, String> groupLabels(Map<String, String> labels, boolean without, List<String> grouping) {
        TreeMap<String, String> g = new TreeMap<>();
        if (without) {
            g.putAll(labels);
            g.remove(View.NAME);
            grouping.forEach(g::remove);
        } else {
            for (String l : grouping) {
                String v = labels.get(l);
                if (v != null && !v.isEmpty()) {
                    g.put(l, v);
                }
            }
        }
        return Collections.unmodifiableMap(g);
    }
}
