package dev.meterline.aggregate;

import dev.meterline.model.SeriesKey;
import dev.meterline.model.TagKeySets;
import dev.meterline.model.Window;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Windows that left the shards and are not yet committed to storage, by flush sequence number. Owned and written by
 * {@link Aggregation} alone; everyone else reads it through {@link PendingWindows}.
 */
final class PendingFlushes implements PendingWindows {

    private final ConcurrentSkipListMap<Long, Flush> bySeq = new ConcurrentSkipListMap<>();
    /** Flushes that have left so far; counted before they leave, see {@link #departures()}. */
    private final AtomicLong departures = new AtomicLong();

    void register(long seq, List<Window> windows) {
        if (!windows.isEmpty()) {
            bySeq.put(seq, new Flush(windows));
        }
    }

    /** Registers windows that carry their own flush numbers (the final flush), grouped by number. */
    void registerAll(List<Window> windows) {
        Map<Long, List<Window>> bySeqOfWindow = new HashMap<>();
        for (Window w : windows) {
            bySeqOfWindow.computeIfAbsent(w.flushSeq(), s -> new ArrayList<>()).add(w);
        }
        bySeqOfWindow.forEach(this::register);
    }

    void remove(long seq) {
        // Counted first: whoever no longer finds the flush here also sees the count it raised.
        departures.incrementAndGet();
        bySeq.remove(seq);
    }

    @Override
    public long departures() {
        return departures.get();
    }

    @Override
    public Map<Long, List<Window>> view() {
        Map<Long, List<Window>> out = new HashMap<>();
        bySeq.forEach((seq, flush) -> out.put(seq, flush.windows));
        return out;
    }

    @Override
    public Map<Long, List<Window>> view(String metric) {
        Map<Long, List<Window>> out = new HashMap<>();
        bySeq.forEach((seq, flush) -> out.put(seq, flush.of(metric)));
        return out;
    }

    @Override
    public Set<String> metrics() {
        Set<String> out = new HashSet<>();
        bySeq.values().forEach(flush -> out.addAll(flush.byMetric().keySet()));
        return out;
    }

    @Override
    public int windows() {
        int n = 0;
        for (Flush f : bySeq.values()) {
            n += f.windows.size();
        }
        return n;
    }

    @Override
    public List<SeriesKey> tagKeySets() {
        TagKeySets sets = new TagKeySets();
        bySeq.values().forEach(flush -> sets.addAll(flush.tagKeySets()));
        return sets.keys();
    }

    /**
     * One pending flush: its windows, and the same by metric once a query has asked for one. The first such query
     * sorts them (the flush's own thread is a shard's, which must not spend a pass over a million windows on it);
     * two queries at once may each sort them, and either result serves.
     */
    private static final class Flush {
        final List<Window> windows;
        private volatile Map<String, List<Window>> byMetric;
        private volatile List<SeriesKey> tagKeySets;

        Flush(List<Window> windows) {
            this.windows = windows;
        }

        List<Window> of(String metric) {
            return byMetric().getOrDefault(metric, List.of());
        }

        Map<String, List<Window>> byMetric() {
            Map<String, List<Window>> m = byMetric;
            if (m == null) {
                m = new HashMap<>();
                for (Window w : windows) {
                    m.computeIfAbsent(w.series().metric(), k -> new ArrayList<>()).add(w);
                }
                byMetric = m;
            }
            return m;
        }

        /** The flush's series of each distinct metric and set of tag keys, found by the first query that asks. */
        List<SeriesKey> tagKeySets() {
            List<SeriesKey> t = tagKeySets;
            if (t == null) {
                TagKeySets sets = new TagKeySets();
                for (Window w : windows) {
                    sets.add(w.series());
                }
                t = List.copyOf(sets.keys());
                tagKeySets = t;
            }
            return t;
        }
    }
}
