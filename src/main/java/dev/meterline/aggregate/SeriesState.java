package dev.meterline.aggregate;

import dev.meterline.model.Aggregate;
import dev.meterline.model.SeriesKey;

import java.util.Arrays;

/**
 * The open windows of one series. This object is itself the aggregate of the newest window (points mostly go there,
 * and most series have only that one), so a series with one open window costs one object, and a point reaches its
 * window with no further read; any older windows are aggregates in small parallel arrays that exist only while there
 * are such windows. When the last window is removed this object is that window's aggregate; the shard takes its values
 * into the flush's columns ({@link ClosedWindows#take}), which leaves it empty in place, and keeps the state, with no
 * window, for the series' return (it lingers) or until a tag index lets it go.
 */
final class SeriesState extends Aggregate {
    /** The instance the table holds for this series: the one its last point came with (equal to every other). */
    SeriesKey key;
    /** Open windows, the newest included. */
    int n;
    /**
     * Its index among its metric's series ({@link MetricSeries}) while it has a window; while it lingers, the count of
     * its shard's tag index builds when it left ({@link TagIndexes#builds}): the indexes built since lack it.
     */
    int place;
    /**
     * Its number within its shard, dense from 0 and handed to another series only after this one left: the log
     * writer finds the series' reference in its segment by this number. It is kept while the series lingers with no
     * window; -1 once the series left its shard's table, which also tells {@link #live}.
     */
    int number;
    /** The start of the newest open window (this object's aggregate), when {@code n > 0}. */
    private long newestStart;
    /** The other {@code n - 1} open windows; null when there are none. */
    private long[] olderStarts;
    private Aggregate[] older;

    SeriesState(SeriesKey key) {
        this(key, 0);
    }

    SeriesState(SeriesKey key, int number) {
        this.key = key;
        this.number = number;
    }

    /** False once the series left its shard's table; tag indexes drop such states lazily. */
    boolean live() {
        return number >= 0;
    }

    Aggregate find(long start) {
        if (newestStart == start && n > 0) {
            return this;
        }
        for (int i = n - 2; i >= 0; i--) {
            if (olderStarts[i] == start) {
                return older[i];
            }
        }
        return null;
    }

    /**
     * Reads this state's newest window and returns something of it; changes nothing. For reading ahead: the point's
     * look-up of the window, and the window's update, then find both in near caches.
     */
    long touch() {
        return newestStart + count();
    }

    /**
     * Opens the window at {@code start}, which must not be open yet, and returns its empty aggregate: this object
     * when the window is the newest (the one that was newest moves out to an aggregate of its own).
     */
    Aggregate open(long start) {
        Aggregate a = this;
        if (n == 0) {
            newestStart = start;
        } else if (start > newestStart) {
            addOlder(newestStart, moveOut());
            newestStart = start;
        } else {
            a = new Aggregate();
            addOlder(start, a);
        }
        n++;
        return a;
    }

    private void addOlder(long start, Aggregate a) {
        int k = n - 1;
        if (older == null) {
            olderStarts = new long[2];
            older = new Aggregate[2];
        } else if (k == older.length) {
            olderStarts = Arrays.copyOf(olderStarts, 2 * k);
            older = Arrays.copyOf(older, 2 * k);
        }
        olderStarts[k] = start;
        older[k] = a;
    }

    /**
     * Removes and returns the window at {@code start}, or null when none is open there. The last window is this
     * object itself, which must be emptied ({@link ClosedWindows#take}) before it opens a window again
     * ({@link #lastStart} then tells that window's start); a newest window removed before older ones moves out to an
     * aggregate of its own, and the latest of the older ones moves in.
     */
    Aggregate remove(long start) {
        if (n == 0) {
            return null;
        }
        Aggregate a;
        if (newestStart == start) {
            a = this;
            if (n > 1) {
                a = moveOut();
                int latest = 0;
                for (int i = 1; i < n - 1; i++) {
                    if (olderStarts[i] > olderStarts[latest]) {
                        latest = i;
                    }
                }
                newestStart = olderStarts[latest];
                moveIn(older[latest]);
                removeOlder(latest);
            }
        } else {
            int i = n - 2;
            while (i >= 0 && olderStarts[i] != start) {
                i--;
            }
            if (i < 0) {
                return null;
            }
            a = older[i];
            removeOlder(i);
        }
        n--;
        return a;
    }

    /** Removes older window {@code i} (of {@code n - 1}) by moving the last one into its place. */
    private void removeOlder(int i) {
        int last = n - 2;
        olderStarts[i] = olderStarts[last];
        older[i] = older[last];
        older[last] = null;
        if (last == 0) {
            olderStarts = null;
            older = null;
        }
    }

    /** With no window open ({@code n == 0}), the start of the last window it had. */
    long lastStart() {
        return newestStart;
    }

    /** The start of open window {@code i} ({@code 0 <= i < n}, in no particular order). */
    long start(int i) {
        return i == 0 ? newestStart : olderStarts[i - 1];
    }

    /** The aggregate of open window {@code i}, as {@link #start} numbers them. */
    Aggregate aggregate(int i) {
        return i == 0 ? this : older[i - 1];
    }
}
