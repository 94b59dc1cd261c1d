package dev.meterline.aggregate;

import dev.meterline.model.Aggregate;
import dev.meterline.model.SeriesKey;

/**
 * The open windows of one series. This object is itself the aggregate of the newest window (points mostly go there,
 * and most series have only that one), so a series with one open window costs one object, and a point reaches its
 * window with no further read; any older windows are a chain of {@link OlderWindow}s, taken from the shard's
 * {@link SpareWindows} while there are such windows and given back when they close. When the last window is removed
 * this object is that window's aggregate; the shard takes its values into the flush's columns
 * ({@link ClosedWindows#take}), which leaves it empty in place, and keeps the state, with no window, for the series'
 * return (it lingers) or until a tag index lets it go.
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
    /** The other {@code n - 1} open windows, in no particular order; null when there are none. */
    private OlderWindow older;

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
        for (OlderWindow w = older; w != null; w = w.next) {
            if (w.start == start) {
                return w;
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
     * when the window is the newest (the contents of the one that was newest move to an older window from
     * {@code spares}), else an older window from {@code spares}.
     */
    Aggregate open(long start, SpareWindows spares) {
        Aggregate a = this;
        if (n == 0) {
            newestStart = start;
        } else {
            OlderWindow w = spares.take();
            if (start > newestStart) {
                swapContents(w);
                w.start = newestStart;
                newestStart = start;
            } else {
                w.start = start;
                a = w;
            }
            w.next = older;
            older = w;
        }
        n++;
        return a;
    }

    /**
     * Removes and returns the window at {@code start}, or null when none is open there. The last window is this
     * object itself, which must be emptied ({@link ClosedWindows#take}) before it opens a window again
     * ({@link #lastStart} then tells that window's start); any other is an {@link OlderWindow}, to be emptied and
     * given back to the shard's spares: an older one as it was, or for a newest window removed before older ones
     * the latest of those, whose contents change places with the newest's.
     */
    Aggregate remove(long start) {
        if (n == 0) {
            return null;
        }
        OlderWindow w;
        if (newestStart == start) {
            if (n == 1) {
                n--;
                return this;
            }
            w = older;
            for (OlderWindow o = older.next; o != null; o = o.next) {
                if (o.start > w.start) {
                    w = o;
                }
            }
            unlink(w);
            swapContents(w);
            newestStart = w.start;
            w.start = start;
        } else {
            w = older;
            while (w != null && w.start != start) {
                w = w.next;
            }
            if (w == null) {
                return null;
            }
            unlink(w);
        }
        n--;
        return w;
    }

    /** Takes {@code w}, one of the older windows, out of their chain. */
    private void unlink(OlderWindow w) {
        if (older == w) {
            older = w.next;
        } else {
            OlderWindow o = older;
            while (o.next != w) {
                o = o.next;
            }
            o.next = w.next;
        }
        w.next = null;
    }

    /** With no window open ({@code n == 0}), the start of the last window it had. */
    long lastStart() {
        return newestStart;
    }

    /** The start of open window {@code i} ({@code 0 <= i < n}, in no particular order). */
    long start(int i) {
        return i == 0 ? newestStart : olderAt(i).start;
    }

    /** The aggregate of open window {@code i}, as {@link #start} numbers them. */
    Aggregate aggregate(int i) {
        return i == 0 ? this : olderAt(i);
    }

    private OlderWindow olderAt(int i) {
        OlderWindow w = older;
        for (int k = 1; k < i; k++) {
            w = w.next;
        }
        return w;
    }
}
