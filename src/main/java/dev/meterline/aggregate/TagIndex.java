package dev.meterline.aggregate;

import dev.meterline.model.SeriesKey;

import java.util.Arrays;
import java.util.function.IntFunction;

/**
 * An index of a list of windows by the values of one tag: one entry per window whose series has the tag, the value's
 * {@link String#hashCode} above the window's place in the list, sorted, so that the windows of one value are a run
 * in their list order. A shard builds one per metric's run of a close, a pending flush one per metric and tag key.
 */
final class TagIndex {

    private TagIndex() {
    }

    /** The entry of a window at {@code place} whose value's hash is {@code hash}. */
    static long entry(int hash, int place) {
        return (long) hash << 32 | place;
    }

    /** The index of the {@code size} windows whose series {@code seriesAt} gives, by the values of {@code tagKey}. */
    static long[] of(int size, IntFunction<SeriesKey> seriesAt, String tagKey) {
        long[] entries = new long[size];
        int n = 0;
        for (int i = 0; i < size; i++) {
            long hash = seriesAt.apply(i).tagHash(tagKey);
            if (hash != SeriesKey.NO_TAG) {
                entries[n++] = entry((int) hash, i);
            }
        }
        long[] index = Arrays.copyOf(entries, n);
        Arrays.sort(index);
        return index;
    }
}
