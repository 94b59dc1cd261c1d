package dev.meterline.aggregate;

import dev.meterline.model.SeriesKey;

import java.util.AbstractList;
import java.util.Arrays;
import java.util.List;

/**
 * The live series of one metric in one shard, in no particular order, for queries; each state keeps its place in
 * the array, so a series leaves by a swap with the last. Also counts the live series of each distinct set of tag
 * keys, up to {@link #MAX_KEY_SETS} sets, so that the label names of a metric's series are known without walking
 * them. Owned by its shard's thread.
 */
final class MetricSeries extends AbstractList<SeriesState> {

    /** Most distinct sets of tag keys counted; a metric with more has its series walked when asked for them. */
    static final int MAX_KEY_SETS = 64;

    private SeriesState[] states = new SeriesState[2];
    private int size;
    /** One key of each set of tag keys among the live series, and how many live series have it; null past the bound. */
    private SeriesKey[] keySets = new SeriesKey[1];
    private int[] keySetSeries = new int[1];
    private int keySetCount;
    /** The set the last series that joined or left had: most metrics have one. */
    private int lastKeySet;

    void join(SeriesState s) {
        if (size == states.length) {
            states = Arrays.copyOf(states, 2 * size);
        }
        s.place = size;
        states[size++] = s;
        countKeySet(s.key, 1);
    }

    /** Removes {@code s}, which must be one of this metric's series. */
    void leave(SeriesState s) {
        countKeySet(s.key, -1);
        SeriesState last = states[--size];
        states[s.place] = last;
        last.place = s.place;
        states[size] = null;
        if (size < states.length >>> 2 && states.length > 8) {
            states = Arrays.copyOf(states, states.length >>> 1);
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

    private void countKeySet(SeriesKey key, int change) {
        if (keySets == null) {
            return;
        }
        int i = lastKeySet;
        if (i >= keySetCount || !keySets[i].sameTagKeys(key)) {
            i = -1;
            for (int j = 0; j < keySetCount && i < 0; j++) {
                if (keySets[j].sameTagKeys(key)) {
                    i = j;
                }
            }
            if (i < 0) {
                if (change < 0) {
                    return;
                }
                if (keySetCount == MAX_KEY_SETS) {
                    keySets = null;
                    keySetSeries = null;
                    return;
                }
                if (keySetCount == keySets.length) {
                    keySets = Arrays.copyOf(keySets, 2 * keySetCount);
                    keySetSeries = Arrays.copyOf(keySetSeries, 2 * keySetCount);
                }
                i = keySetCount++;
                keySets[i] = key;
                keySetSeries[i] = 0;
            }
            lastKeySet = i;
        }
        keySetSeries[i] += change;
        if (keySetSeries[i] == 0) {
            int last = --keySetCount;
            keySets[i] = keySets[last];
            keySetSeries[i] = keySetSeries[last];
            keySets[last] = null;
            lastKeySet = 0;
        }
    }

    /**
     * One live series' key of each distinct set of tag keys among this metric's live series, added to {@code out};
     * false, with nothing added, when they are more than {@link #MAX_KEY_SETS}.
     */
    boolean addKeySets(List<SeriesKey> out) {
        if (keySets == null) {
            return false;
        }
        for (int i = 0; i < keySetCount; i++) {
            out.add(keySets[i]);
        }
        return true;
    }
}
