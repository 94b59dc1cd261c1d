package dev.meterline.aggregate;

import dev.meterline.model.SeriesKey;

import java.util.AbstractList;
import java.util.Arrays;
import java.util.List;

/**
 * The live series of one metric in one shard, in no particular order, for queries; each state keeps its place in
 * the array, so a series leaves by a swap with the last. Also counts the live series of each distinct set of tag
 * keys, up to {@link #MAX_KEY_SETS} sets, so that the label names of a metric's series are known without walking
 * them; each place notes its series' set, so that a series leaves without its key being read (a close of a million
 * series that all leave would otherwise miss the cache on every key). Owned by its shard's thread.
 */
final class MetricSeries extends AbstractList<SeriesState> {

    /** Most distinct sets of tag keys counted; a metric with more has its series walked when asked for them. */
    static final int MAX_KEY_SETS = 64;

    private final String metric;
    private SeriesState[] states = new SeriesState[2];
    /** The slot in {@link #keySets} of the series at each place; unused past the bound. */
    private byte[] keySetAt = new byte[2];
    private int size;
    /**
     * One key of each set of tag keys among the live series, in slots that keep their number while the set has
     * series (an empty slot is null), and how many live series have it; null past the bound.
     */
    private SeriesKey[] keySets = new SeriesKey[1];
    private int[] keySetSeries = new int[1];
    /** Slots in use or emptied: the next new set takes an emptied one first. */
    private int keySetSlots;
    /** The slot of the set the last series that joined had: most metrics have one. */
    private int lastKeySet;

    MetricSeries(String metric) {
        this.metric = metric;
    }

    /** The metric, the instance its shard's map holds. */
    String metric() {
        return metric;
    }

    void join(SeriesState s) {
        if (size == states.length) {
            states = Arrays.copyOf(states, 2 * size);
            keySetAt = Arrays.copyOf(keySetAt, 2 * size);
        }
        s.place = size;
        states[size] = s;
        if (keySets != null) {
            keySetAt[size] = (byte) joinKeySet(s.key);
        }
        size++;
    }

    /** Removes {@code s}, which must be one of this metric's series; reads its place, not its key. */
    void leave(SeriesState s) {
        int place = s.place;
        if (keySets != null) {
            leaveKeySet(keySetAt[place]);
        }
        int last = --size;
        SeriesState moved = states[last];
        states[place] = moved;
        keySetAt[place] = keySetAt[last];
        moved.place = place;
        states[last] = null;
        if (size < states.length >>> 2 && states.length > 8) {
            states = Arrays.copyOf(states, states.length >>> 1);
            keySetAt = Arrays.copyOf(keySetAt, states.length);
        }
    }

    @Override
    public SeriesState get(int index) {
        if (index >= size) {
            throw new IndexOutOfBoundsException(index);
        }
        return states[index];
    }

    @Override
    public int size() {
        return size;
    }

    /** Counts {@code key}'s set once more and returns its slot; past the bound, stops counting and returns 0. */
    private int joinKeySet(SeriesKey key) {
        int i = lastKeySet;
        if (keySets[i] == null || !keySets[i].sameTagKeys(key)) {
            i = -1;
            int free = -1;
            for (int j = 0; j < keySetSlots && i < 0; j++) {
                if (keySets[j] == null) {
                    free = free < 0 ? j : free;
                } else if (keySets[j].sameTagKeys(key)) {
                    i = j;
                }
            }
            if (i < 0) {
                i = free >= 0 ? free : newSlot();
                if (i < 0) {
                    keySets = null;
                    keySetSeries = null;
                    return 0;
                }
                keySets[i] = key;
            }
            lastKeySet = i;
        }
        keySetSeries[i]++;
        return i;
    }

    /** A slot never used, or -1 when {@link #MAX_KEY_SETS} are in use. */
    private int newSlot() {
        if (keySetSlots == MAX_KEY_SETS) {
            return -1;
        }
        if (keySetSlots == keySets.length) {
            keySets = Arrays.copyOf(keySets, 2 * keySetSlots);
            keySetSeries = Arrays.copyOf(keySetSeries, 2 * keySetSlots);
        }
        return keySetSlots++;
    }

    private void leaveKeySet(int slot) {
        if (--keySetSeries[slot] == 0) {
            keySets[slot] = null;
        }
    }

    /**
     * The key of each set of tag keys by its slot, as {@link #keySet} numbers them (null for an empty slot); null past
     * {@link #MAX_KEY_SETS}. A copy: the sets whose last series leave afterwards stay in it.
     */
    SeriesKey[] keySetSlots() {
        return keySets == null ? null : Arrays.copyOf(keySets, keySetSlots);
    }

    /** The slot of the set of tag keys of the series at {@code place}; meaningless past {@link #MAX_KEY_SETS}. */
    int keySet(int place) {
        return keySetAt[place];
    }

    /**
     * One key of each distinct set of tag keys among this metric's live series, added to {@code out}; false, with
     * nothing added, when they are more than {@link #MAX_KEY_SETS}.
     */
    boolean addKeySets(List<SeriesKey> out) {
        if (keySets == null) {
            return false;
        }
        for (int i = 0; i < keySetSlots; i++) {
            if (keySets[i] != null) {
                out.add(keySets[i]);
            }
        }
        return true;
    }
}
