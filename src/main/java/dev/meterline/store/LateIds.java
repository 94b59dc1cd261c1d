package dev.meterline.store;

import java.util.Arrays;

/**
 * Which series ids at or below the highest one a reader took as read may still appear to it: on PostgreSQL another
 * replica's transaction may commit a lower id after a higher one was read, so the rows after the highest id read are
 * not all the rows a reader has not seen.
 *
 * <p>Such an id lies in a gap, a range of ids up to {@link #through} that no read found; the reader looks the gaps up
 * on each read (a few index range scans) and reports what it found. An id becomes final, present or never to come
 * (rolled back, taken by an insert that met a stored series, or forgotten), once every transaction that could hold it
 * has ended: every writer of the series table takes its transaction id before it takes series ids (it reads the
 * series epoch {@code FOR SHARE} first), so a transaction that started after a snapshot holds no id below the highest
 * one read before that snapshot. Each read marks its highest id with such a snapshot, and a mark settles when the
 * oldest transaction still running started after it. Final ids leave the gaps once a read after the settling looked
 * them up. Past {@link #MAX_GAPS} gaps at once, or over ids no read looked at one by one, the gaps are not listed
 * until the reader has read every id up to {@link #through} again after they are all final.
 *
 * <p>Plain and single-threaded: the reader holds it under its own lock.
 */
final class LateIds {

    /** Most gaps listed at once; past it the gaps are not listed. */
    static final int MAX_GAPS = 4096;
    /** Most marks waiting to settle; a read while as many wait (a transaction that outlives them) marks nothing. */
    private static final int MAX_MARKS = 64;
    /**
     * The columns of a statement's snapshot, for {@link #settle}: the oldest transaction still running and the first
     * not yet started, of {@code FROM txid_current_snapshot() AS s}.
     */
    static final String SNAPSHOT_COLUMNS = "txid_snapshot_xmin(s), txid_snapshot_xmax(s)";

    private final boolean late;
    private long through;
    /** The gaps: ids {@code gapLow[i]} to {@code gapHigh[i]}, inclusive, ascending and apart. */
    private long[] gapLow = new long[0];
    private long[] gapHigh = new long[0];
    private int gapCount;
    /** The gaps as handed out, null once they changed since. */
    private Gaps gaps = Gaps.NONE;
    /** False while some id up to {@link #through} may still appear outside the gaps listed. */
    private boolean listed = true;
    /** Every id up to this one is final (a fact of the database, kept when the reader starts over). */
    private long finalThrough;
    /** The marks waiting to settle: a read's highest id, and the first transaction not started at its snapshot. */
    private final long[] markId = new long[MAX_MARKS];
    private final long[] markUnstarted = new long[MAX_MARKS];
    private int marks;

    /**
     * {@code late}: another process may commit a lower series id after a higher one was read (a database several
     * replicas write); otherwise (SQLite's one writer commits ids in order) every id is final once a higher one is
     * read, and there are never gaps.
     */
    LateIds(boolean late) {
        this.late = late;
    }

    /** Ids {@code low[i]} to {@code high[i]}, inclusive, ascending and apart; never changed once made. */
    record Gaps(long[] low, long[] high) {

        static final Gaps NONE = new Gaps(new long[0], new long[0]);

        int size() {
            return low.length;
        }

        /** Whether {@code id} lies in a gap. */
        boolean holds(long id) {
            int i = Arrays.binarySearch(low, id);
            if (i >= 0) {
                return true;
            }
            int before = -i - 2;
            return before >= 0 && id <= high[before];
        }

        /** These gaps less the ids {@code found[0..n)} (ascending), and less the ids up to {@code finalThrough}. */
        Gaps without(long[] found, int n, long finalThrough) {
            Builder out = new Builder(size() + n);
            int f = 0;
            for (int i = 0; i < size(); i++) {
                long next = low[i];
                for (; f < n && found[f] <= high[i]; f++) {
                    out.add(Math.max(next, finalThrough + 1), found[f] - 1);
                    next = Math.max(next, found[f] + 1);
                }
                out.add(Math.max(next, finalThrough + 1), high[i]);
            }
            return out.build();
        }

        /** The lows as objects, for {@code createArrayOf}. */
        Long[] lows() {
            return boxed(low);
        }

        /** The highs as objects, for {@code createArrayOf}. */
        Long[] highs() {
            return boxed(high);
        }

        private static Long[] boxed(long[] ids) {
            Long[] out = new Long[ids.length];
            for (int i = 0; i < ids.length; i++) {
                out[i] = ids[i];
            }
            return out;
        }
    }

    /** Gaps added in ascending order. */
    private static final class Builder {

        long[] low;
        long[] high;
        int n;

        Builder(int capacity) {
            low = new long[Math.max(4, capacity)];
            high = new long[low.length];
        }

        void add(long lo, long hi) {
            if (hi < lo) {
                return;
            }
            if (n == low.length) {
                low = Arrays.copyOf(low, 2 * n);
                high = Arrays.copyOf(high, 2 * n);
            }
            low[n] = lo;
            high[n++] = hi;
        }

        Gaps build() {
            return n == 0 ? Gaps.NONE : new Gaps(Arrays.copyOf(low, n), Arrays.copyOf(high, n));
        }
    }

    /** The highest id taken as read. */
    long through() {
        return through;
    }

    /** The gaps listed, as they are now; none while {@link #listed} is false. */
    Gaps gaps() {
        if (gaps == null) {
            gaps = gapCount == 0 ? Gaps.NONE
                    : new Gaps(Arrays.copyOf(gapLow, gapCount), Arrays.copyOf(gapHigh, gapCount));
        }
        return gaps;
    }

    /** Whether every id up to {@link #through} that may still appear lies in a gap of {@link #gaps}. */
    boolean listed() {
        return listed;
    }

    /** Whether every id up to {@link #through} is final. */
    boolean finalThrough() {
        return finalThrough >= through;
    }

    /**
     * The reader takes the ids up to {@code from} as read without having read them one by one (0: it reads every id
     * from the first): until they are final and read again ({@link #listAgain}), their gaps are not known.
     */
    void startOver(long from) {
        through = from;
        clearGaps();
        listed = !late || from <= finalThrough;
    }

    /**
     * Marks {@code maxId}, read before or in the snapshot whose oldest running and first unstarted transactions are
     * {@code oldestRunning} and {@code firstUnstarted}, and settles the marks that the oldest transaction still
     * running started after: the ids up to theirs are final. The caller then looks the gaps up in that snapshot or a
     * later one, so that what a transaction ended before it committed is there to be read.
     */
    void settle(long maxId, long oldestRunning, long firstUnstarted) {
        if (marks < MAX_MARKS) {
            markId[marks] = maxId;
            markUnstarted[marks++] = firstUnstarted;
        }
        int kept = 0;
        for (int i = 0; i < marks; i++) {
            if (markUnstarted[i] <= oldestRunning) {
                finalThrough = Math.max(finalThrough, markId[i]);
            } else {
                markId[kept] = markId[i];
                markUnstarted[kept++] = markUnstarted[i];
            }
        }
        marks = kept;
    }

    /**
     * The reader read every id up to {@link #through} after all of them became final: there are no gaps, and the
     * gaps are listed again; false (and nothing changes) while some of them may still appear.
     */
    boolean listAgain() {
        if (!finalThrough()) {
            return false;
        }
        clearGaps();
        listed = true;
        return true;
    }

    /**
     * A read looked the gaps up and found the ids {@code found[0..n)} (ascending) in them: those leave the gaps, and
     * so do the final ids, which the read found if they were ever to appear.
     */
    void foundInGaps(long[] found, int n) {
        Gaps left = gaps().without(found, n, finalThrough);
        if (left.size() > MAX_GAPS) {
            listed = false;
            clearGaps();
            return;
        }
        gapLow = Arrays.copyOf(left.low(), Math.max(16, left.size()));
        gapHigh = Arrays.copyOf(left.high(), gapLow.length);
        gapCount = left.size();
        gaps = left;
    }

    private void clearGaps() {
        gapCount = 0;
        gaps = Gaps.NONE;
    }

    /** A read found every id after {@link #through} up to {@code id}. */
    void foundThrough(long id) {
        through = Math.max(through, id);
    }

    /**
     * A read of the ids after {@link #through} found {@code id}, in ascending order: the ids between it and the one
     * before that are not final yet are a gap.
     */
    void found(long id) {
        if (id <= through) {
            return;
        }
        long low = Math.max(through + 1, finalThrough + 1);
        through = id;
        if (!late || !listed || id - 1 < low) {
            return;
        }
        if (gapCount == MAX_GAPS) {
            listed = false;
            clearGaps();
            return;
        }
        if (gapCount == gapLow.length) {
            gapLow = Arrays.copyOf(gapLow, Math.max(16, 2 * gapCount));
            gapHigh = Arrays.copyOf(gapHigh, gapLow.length);
        }
        gapLow[gapCount] = low;
        gapHigh[gapCount++] = id - 1;
        gaps = null;
    }
}
