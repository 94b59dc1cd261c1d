package dev.meterline.model;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * One key of each distinct metric and set of tag keys among the keys added, compared without decoding them: the
 * label names of all the keys added are those of these ones. Not thread-safe.
 */
public final class TagKeySets {

    private final Map<Integer, List<SeriesKey>> byHash = new HashMap<>();
    private final List<SeriesKey> keys = new ArrayList<>();
    /** The key added last: series of one metric mostly share their tag keys, so most adds stop at it. */
    private SeriesKey last;

    /** Adds {@code key}; true when its metric and tag keys were new. */
    public boolean add(SeriesKey key) {
        if (last != null && last.sameTagKeys(key)) {
            return false;
        }
        last = key;
        List<SeriesKey> same = byHash.computeIfAbsent(key.tagKeysHash(), h -> new ArrayList<>(1));
        for (SeriesKey k : same) {
            if (k.sameTagKeys(key)) {
                return false;
            }
        }
        same.add(key);
        keys.add(key);
        return true;
    }

    /** Adds each of {@code all}. */
    public void addAll(Iterable<SeriesKey> all) {
        for (SeriesKey k : all) {
            add(k);
        }
    }

    /** One key of each distinct metric and set of tag keys, in the order they came. */
    public List<SeriesKey> keys() {
        return keys;
    }

    public int size() {
        return keys.size();
    }
}
