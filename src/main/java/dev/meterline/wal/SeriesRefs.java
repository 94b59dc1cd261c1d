package dev.meterline.wal;

import dev.meterline.model.Point;
import dev.meterline.model.SeriesKey;
import dev.meterline.model.SeriesNumbers;

import java.util.List;

/**
 * The series references of one segment: a series' number in the segment's {@link SeriesNumbers}, so that a series
 * gets one reference (and one series record) per segment whichever instance of its key its points come with.
 */
final class SeriesRefs {

    /**
     * Instances remembered per series, on average: one per event loop is the common case. A client whose series
     * outnumber the key caches brings a new instance on nearly every point; past this bound those are compared by
     * content instead of remembered, which keeps the table within a few times the segment's series.
     */
    static final int MAX_INSTANCES_PER_SERIES = 3;

    private final SeriesNumbers numbers = new SeriesNumbers(Integer.MAX_VALUE, MAX_INSTANCES_PER_SERIES);

    /** Forgets every reference: the next segment numbers its series afresh from 0. */
    void clear() {
        numbers.clear();
    }

    /** Key instances remembered since the last {@link #clear}, for tests. */
    int instances() {
        return numbers.instances();
    }

    /** Distinct series given a reference since the last {@link #clear}. */
    int size() {
        return numbers.size();
    }

    /**
     * Fills {@code refs[i]}, for each of {@code points}, with the reference of its key when that very instance sits
     * in its home slot, and with -1 otherwise (then {@link #find} decides). No load of one point depends on another
     * point's, so the cache misses of a part's probes overlap instead of following one another.
     */
    void findAtHome(List<Point> points, int[] refs) {
        SeriesNumbers numbers = this.numbers;
        for (int i = 0, n = points.size(); i < n; i++) {
            Point p = points.get(i);
            // The point's copy of the hash: a hit reads nothing of the key itself.
            refs[i] = numbers.atHome(p.series(), p.seriesHash());
        }
    }

    /** The reference of {@code key}'s series, or -1 when it has none yet in this segment. */
    int find(SeriesKey key) {
        return numbers.find(key);
    }

    /** {@link #find(SeriesKey)} with the key's hash known: an instance held is found without reading the key. */
    int find(SeriesKey key, int hash) {
        return numbers.find(key, hash);
    }

    /** Gives {@code key}'s series the next reference; the caller found none with {@link #find}. */
    int add(SeriesKey key) {
        return numbers.add(key);
    }
}
