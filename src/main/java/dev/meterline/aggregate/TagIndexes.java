package dev.meterline.aggregate;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One shard's indexes of series by tag value, for queries that filter on tags: a dashboard polling one series of a
 * metric with 100 000 would otherwise cost the shard a walk over all of them per query, taken from ingest.
 *
 * <p>An index (one metric, one tag key) is built by the first query that needs it and kept up to date as series
 * come. Series that leave stay in it, lingering for their return or, once they left the shard's table, until a query
 * walks their value, so leaving costs nothing; an index whose entries outgrow twice the metric's live series is
 * dropped (the next query builds it again), and at most {@link #MAX_INDEXES} are kept, the least recently used
 * dropped first. An indexed series whose value no other series has costs its index a slot and no object of its own
 * (see {@link Index}). Owned by its shard's thread.
 */
final class TagIndexes {

    /** A metric with at least this many series in a shard is walked through an index when a query filters. */
    static final int INDEX_FROM = 1024;
    /** Most indexes a shard keeps. */
    static final int MAX_INDEXES = 16;

    /** By metric and tag key, least recently used first. */
    private final LinkedHashMap<Key, Index> byKey = new LinkedHashMap<>(16, 0.75f, true);
    /** The same indexes by metric, to add each new series to those of its metric. */
    private final Map<String, List<Index>> byMetric = new HashMap<>();
    /** Indexes built so far; each index knows its place in this count ({@link Index#built}). */
    private int builds;

    boolean isEmpty() {
        return byKey.isEmpty();
    }

    int size() {
        return byKey.size();
    }

    /**
     * The live series among {@code series} (all of {@code metric}'s) whose value of one key of {@code tags} is one of
     * that key's values: a superset of the matching series, which the caller filters on every key.
     */
    List<SeriesState> candidates(String metric, Map<String, List<String>> tags, List<SeriesState> series) {
        String tagKey = tags.keySet().iterator().next();
        for (String k : tags.keySet()) {
            if (byKey.containsKey(new Key(metric, k))) {
                tagKey = k;
                break;
            }
        }
        Index index = index(metric, tagKey, series);
        List<SeriesState> out = new ArrayList<>();
        for (String value : new LinkedHashSet<>(tags.get(tagKey))) {
            index.liveWith(value, out);
        }
        return out;
    }

    /**
     * The distinct values of {@code tagKey} among the live series with a window of {@code series} (all of
     * {@code metric}'s), from the metric's index of the key, built first if need be: one look at a series per value.
     */
    Set<String> values(String metric, String tagKey, List<SeriesState> series) {
        Set<String> out = new HashSet<>();
        index(metric, tagKey, series).liveValues(out);
        return out;
    }

    /**
     * The indexes built so far. A series that leaves its metric's series and lingers stays in the indexes its metric
     * has then; noting this count, it comes back into those built later ({@link #cameBack}).
     */
    int builds() {
        return builds;
    }

    /** Adds a new series to its metric's indexes; {@code live} is the metric's live series, the new one included. */
    void added(SeriesState s, int live) {
        join(s, live, true, 0);
    }

    /**
     * Adds a series back from lingering to those of its metric's indexes built after {@link #builds} was
     * {@code heldThrough}: the older ones still hold it. {@code live} is the metric's live series, this one included.
     */
    void cameBack(SeriesState s, int live, int heldThrough) {
        join(s, live, false, heldThrough);
    }

    private void join(SeriesState s, int live, boolean all, int heldThrough) {
        String metric = s.key.metric();
        List<Index> forMetric = byMetric.get(metric);
        if (forMetric == null) {
            return;
        }
        forMetric.removeIf(index -> {
            if (index.entries > 2 * live + INDEX_FROM) {
                byKey.remove(new Key(metric, index.tagKey));
                return true;
            }
            // Compared by difference, which stays right when the count wraps around.
            if (all || index.built - heldThrough > 0) {
                index.add(s);
            }
            return false;
        });
        if (forMetric.isEmpty()) {
            byMetric.remove(metric);
        }
    }

    /** Drops the indexes of a metric whose last series left. */
    void metricGone(String metric) {
        if (byMetric.remove(metric) != null) {
            byKey.keySet().removeIf(k -> k.metric().equals(metric));
        }
    }

    private Index index(String metric, String tagKey, List<SeriesState> series) {
        Key key = new Key(metric, tagKey);
        Index index = byKey.get(key);
        if (index != null && index.entries > 2 * series.size() + INDEX_FROM) {
            drop(key, index);
            index = null;
        }
        if (index == null) {
            index = new Index(tagKey, ++builds);
            for (SeriesState s : series) {
                index.add(s);
            }
            byKey.put(key, index);
            byMetric.computeIfAbsent(metric, m -> new ArrayList<>(2)).add(index);
            if (byKey.size() > MAX_INDEXES) {
                Map.Entry<Key, Index> eldest = byKey.entrySet().iterator().next();
                drop(eldest.getKey(), eldest.getValue());
            }
        }
        return index;
    }

    private void drop(Key key, Index index) {
        byKey.remove(key);
        List<Index> forMetric = byMetric.get(key.metric());
        forMetric.remove(index);
        if (forMetric.isEmpty()) {
            byMetric.remove(key.metric());
        }
    }

    private record Key(String metric, String tagKey) {
    }

    /**
     * One metric's series by their value of one tag key (series without the tag are not in it). An open-addressing
     * table of the distinct values, by their hash, whose slot holds the value's one series, or a list of its series
     * once it has two or more: the value itself is read from its series' key. So a series of a value of its own
     * (a host, an instance) costs a slot and no object, where a map would keep a string, an entry and a list per
     * series, objects every young collection copies while series are new.
     */
    private static final class Index {
        final String tagKey;
        /** The count of indexes built, this one included, when it was built. */
        final int built;
        /** Per slot: null, the one series of a value, or a list of the two or more series of a value. */
        private Object[] slots = new Object[16];
        /** The hash of the value in each used slot. */
        private int[] hashes = new int[16];
        /** Used slots: distinct values. */
        private int used;
        /** Series in the table, those that left included. */
        int entries;

        Index(String tagKey, int built) {
            this.tagKey = tagKey;
            this.built = built;
        }

        void add(SeriesState s) {
            String value = s.key.tag(tagKey);
            if (value == null) {
                return;
            }
            int hash = value.hashCode();
            int i = slot(value, hash);
            Object o = slots[i];
            if (o == null) {
                slots[i] = s;
                hashes[i] = hash;
                if (++used > slots.length >>> 1) {
                    rehash(2 * slots.length);
                }
            } else if (o instanceof SeriesState one) {
                List<SeriesState> group = new ArrayList<>(4);
                group.add(one);
                group.add(s);
                slots[i] = group;
            } else {
                group(o).add(s);
            }
            entries++;
        }

        /**
         * Adds the live series of {@code value} that have a window to {@code out}, and drops from the table those
         * that left the shard's table; those that linger stay, for their return.
         */
        void liveWith(String value, List<SeriesState> out) {
            int i = slot(value, value.hashCode());
            Object o = slots[i];
            if (o == null) {
                return;
            }
            if (o instanceof SeriesState one) {
                if (!one.live()) {
                    entries--;
                    clear(i);
                } else if (one.n > 0) {
                    out.add(one);
                }
                return;
            }
            List<SeriesState> group = group(o);
            int before = group.size();
            group.removeIf(s -> !s.live());
            entries -= before - group.size();
            if (group.isEmpty()) {
                clear(i);
            }
            for (SeriesState s : group) {
                if (s.n > 0) {
                    out.add(s);
                }
            }
        }

        /**
         * Adds to {@code out} each value that a live series with a window has, read from the first such series of the
         * value's slot. Changes nothing: the series that left are dropped by {@link #liveWith}.
         */
        void liveValues(Set<String> out) {
            for (Object o : slots) {
                if (o instanceof SeriesState one) {
                    if (one.live() && one.n > 0) {
                        out.add(one.key.tag(tagKey));
                    }
                } else if (o != null) {
                    for (SeriesState s : group(o)) {
                        if (s.live() && s.n > 0) {
                            out.add(s.key.tag(tagKey));
                            break;
                        }
                    }
                }
            }
        }

        /** The slot of {@code value}: the one that holds its series, else the empty one where they would go. */
        private int slot(String value, int hash) {
            int mask = slots.length - 1;
            List<String> values = null;
            for (int i = home(hash, mask); ; i = (i + 1) & mask) {
                Object o = slots[i];
                if (o == null) {
                    return i;
                }
                if (hashes[i] == hash) {
                    SeriesState first = o instanceof SeriesState one ? one : group(o).get(0);
                    if (values == null) {
                        values = List.of(value);
                    }
                    if (first.key.tagIn(tagKey, values)) {
                        return i;
                    }
                }
            }
        }

        /**
         * Empties slot {@code i} and moves back the entries after it that could not stay past the gap (deletion in
         * linear probing, which needs no marker of a deleted slot).
         */
        private void clear(int i) {
            int mask = slots.length - 1;
            int gap = i;
            for (int j = (i + 1) & mask; slots[j] != null; j = (j + 1) & mask) {
                int home = home(hashes[j], mask);
                // Entry j stays when its home lies cyclically in (gap, j]: a probe from there reaches j without the gap.
                boolean stays = gap <= j ? gap < home && home <= j : gap < home || home <= j;
                if (!stays) {
                    slots[gap] = slots[j];
                    hashes[gap] = hashes[j];
                    gap = j;
                }
            }
            slots[gap] = null;
            hashes[gap] = 0;
            used--;
        }

        private void rehash(int size) {
            Object[] oldSlots = slots;
            int[] oldHashes = hashes;
            slots = new Object[size];
            hashes = new int[size];
            int mask = size - 1;
            for (int k = 0; k < oldSlots.length; k++) {
                if (oldSlots[k] != null) {
                    int i = home(oldHashes[k], mask);
                    while (slots[i] != null) {
                        i = (i + 1) & mask;
                    }
                    slots[i] = oldSlots[k];
                    hashes[i] = oldHashes[k];
                }
            }
        }

        /** Where a value's probe starts: its hash mixed, as the hashes of strings that differ at the end are close. */
        private static int home(int hash, int mask) {
            int h = hash * 0x9E3779B9;
            return (h ^ (h >>> 16)) & mask;
        }

        @SuppressWarnings("unchecked")
        private static List<SeriesState> group(Object o) {
            return (List<SeriesState>) o;
        }
    }
}
