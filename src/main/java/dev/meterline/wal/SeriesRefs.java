package dev.meterline.wal;

import dev.meterline.model.Point;
import dev.meterline.model.SeriesKey;

import java.util.Arrays;
import java.util.List;

/**
 * The series references of one segment, looked up by the key's identity: each event loop hands out its own instance
 * of a series' key, and a look-up by content would compare the key's bytes on nearly every point.
 *
 * <p>An instance not seen before in the segment is compared by content once; when another instance of the same
 * series already has a reference, the new instance is remembered under that reference, so a series still gets one
 * reference (and one series record) per segment. The table holds the key's precomputed hash beside the reference,
 * so a probe reads one slot and a reference compare, never the key itself.
 */
final class SeriesRefs {

    private static final int INITIAL = 1 << 12;
    /**
     * Instances remembered per series, on average: one per event loop is the common case. A client whose series
     * outnumber the key caches brings a new instance on nearly every point; past this bound those are compared by
     * content instead of remembered, which keeps the table within a few times the segment's series.
     */
    static final int MAX_INSTANCES_PER_SERIES = 3;

    /** Per slot: the key's hash in the high half, its reference plus one in the low half; 0 is an empty slot. */
    private long[] slots = new long[INITIAL];
    private SeriesKey[] keys = new SeriesKey[INITIAL];
    private int instances;
    private int series;

    /** Forgets every reference: the next segment numbers its series afresh from 0. */
    void clear() {
        if (instances == 0) {
            return;
        }
        Arrays.fill(slots, 0L);
        Arrays.fill(keys, null);
        instances = 0;
        series = 0;
    }

    /** Key instances remembered since the last {@link #clear}, for tests. */
    int instances() {
        return instances;
    }

    /** Distinct series given a reference since the last {@link #clear}. */
    int size() {
        return series;
    }

    /**
     * Fills {@code refs[i]}, for each of {@code points}, with the reference of its key when that very instance sits
     * in its home slot, and with -1 otherwise (then {@link #find} decides). No load of one point depends on another
     * point's, so the cache misses of a part's probes overlap instead of following one another.
     */
    void findAtHome(List<Point> points, int[] refs) {
        long[] slots = this.slots;
        SeriesKey[] keys = this.keys;
        int mask = slots.length - 1;
        for (int i = 0, n = points.size(); i < n; i++) {
            Point p = points.get(i);
            SeriesKey key = p.series();
            // The point's copy of the hash: a hit reads nothing of the key itself.
            int at = p.seriesHash() & mask;
            long s = slots[at];
            // A slot holding this instance holds its reference; an empty slot holds no key.
            refs[i] = keys[at] == key ? (int) s - 1 : -1;
        }
    }

    /** The reference of {@code key}'s series, or -1 when it has none yet in this segment. */
    int find(SeriesKey key) {
        int h = key.hashCode();
        int mask = slots.length - 1;
        for (int i = h & mask; ; i = (i + 1) & mask) {
            long s = slots[i];
            if (s == 0) {
                break;
            }
            if ((int) (s >>> 32) == h && keys[i] == key) {
                return (int) s - 1;
            }
        }
        // Not this instance: another instance of the same series may hold a reference; remember this one beside it.
        for (int i = h & mask; ; i = (i + 1) & mask) {
            long s = slots[i];
            if (s == 0) {
                return -1;
            }
            if ((int) (s >>> 32) == h && keys[i].equals(key)) {
                int ref = (int) s - 1;
                if (instances < MAX_INSTANCES_PER_SERIES * series) {
                    insert(key, ref);
                }
                return ref;
            }
        }
    }

    /** Gives {@code key}'s series the next reference; the caller found none with {@link #find}. */
    int add(SeriesKey key) {
        int ref = series++;
        insert(key, ref);
        return ref;
    }

    private void insert(SeriesKey key, int ref) {
        if (2 * (instances + 1) > slots.length) {
            grow();
        }
        put(slots, keys, key, ((long) key.hashCode() << 32) | (ref + 1L));
        instances++;
    }

    private static void put(long[] slots, SeriesKey[] keys, SeriesKey key, long slot) {
        int mask = slots.length - 1;
        int i = (int) (slot >>> 32) & mask;
        while (slots[i] != 0) {
            i = (i + 1) & mask;
        }
        slots[i] = slot;
        keys[i] = key;
    }

    private void grow() {
        long[] oldSlots = slots;
        SeriesKey[] oldKeys = keys;
        slots = new long[oldSlots.length * 2];
        keys = new SeriesKey[oldSlots.length * 2];
        for (int i = 0; i < oldSlots.length; i++) {
            if (oldSlots[i] != 0) {
                put(slots, keys, oldKeys[i], oldSlots[i]);
            }
        }
    }
}
