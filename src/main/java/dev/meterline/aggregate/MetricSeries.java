package dev.meterline.aggregate;

import java.util.AbstractList;
import java.util.Arrays;

/**
 * The live series of one metric in one shard, in no particular order, for queries; each state keeps its place in
 * the array, so a series leaves by a swap with the last. Owned by its shard's thread.
 */
final class MetricSeries extends AbstractList<SeriesState> {

    private SeriesState[] states = new SeriesState[2];
    private int size;

    void join(SeriesState s) {
        if (size == states.length) {
            states = Arrays.copyOf(states, 2 * size);
        }
        s.place = size;
        states[size++] = s;
    }

    /** Removes {@code s}, which must be one of this metric's series. */
    void leave(SeriesState s) {
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
}
