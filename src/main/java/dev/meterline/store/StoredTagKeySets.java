package dev.meterline.store;

import dev.meterline.model.SeriesKey;
import dev.meterline.model.TagKeySets;
import dev.meterline.model.Window;
import dev.meterline.model.WindowList;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Arrays;
import java.util.BitSet;
import java.util.BitSet;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One key of each distinct metric and set of tag keys among the stored series, kept up to date without reading
 * {@code meterline_series} whole per request: the label names of a million stored series are those of a few keys.
 *
 * <p>Series rows are only ever added, under growing ids, until series are forgotten, which moves the series epoch.
 * The sets hold every series with an id up to {@link #throughId} in {@link #epoch}; a read adds the rows after it,
 * and starts over when the epoch moved. A write of this process that stored exactly the ids after it adds its series
 * from their keys, so the rows it wrote are not read back.
 *
 * <p>On PostgreSQL another replica's transaction may commit a lower id after a higher one was read. Such an id lies
 * in a gap, a range of ids below {@link #throughId} that no read found; the sets keep the gaps and look them up on
 * each read (a few index range scans, where counting a million rows takes a quarter of a second). An id becomes
 * final, present or never to come (rolled back, taken by an insert that met a stored series, or forgotten), once
 * every transaction that could hold it has ended: every writer of the table takes its transaction id before it takes
 * series ids (it reads the series epoch {@code FOR SHARE} first), so a transaction that started after a snapshot
 * holds no id below the highest one read before that snapshot. Each read marks its highest id with such a snapshot,
 * and a mark settles when the oldest transaction still running started after it. Gaps at or below the settled ids
 * are dropped. Past {@link #MAX_GAPS} gaps at once a read counts the rows instead, and a count that differs from the
 * rows held starts over, until every id read is final again. Thread-safe; a write never waits for a read in progress
 * (the first read of a large store takes seconds): it leaves its series to the next read instead.
 */
final class StoredTagKeySets {

    private static final String STATE = "SELECT (SELECT epoch FROM meterline_series_epoch),"
            + " (SELECT max(id) FROM meterline_series)";
    private static final String COUNT = "SELECT count(*) FROM meterline_series";
    private static final String AFTER = "SELECT id, metric, tags FROM meterline_series WHERE id > ? ORDER BY id";
    private static final String GAPS = "SELECT s.id, s.metric, s.tags FROM meterline_series s,"
            + " unnest(?::bigint[], ?::bigint[]) AS g (lo, hi) WHERE s.id BETWEEN g.lo AND g.hi";
    /** The oldest transaction still running, and the first not yet started. */
    private static final String SNAPSHOT = "SELECT txid_snapshot_xmin(s), txid_snapshot_xmax(s)"
            + " FROM txid_current_snapshot() AS s";

    /** Most gaps kept at once; past it a read counts the rows. */
    static final int MAX_GAPS = 4096;
    /** Most marks waiting to settle; a read while as many wait (a transaction that outlives them) marks nothing. */
    private static final int MAX_MARKS = 64;

    private final boolean lateIds;
    private final ReentrantLock lock = new ReentrantLock();
    private long epoch = Long.MIN_VALUE;
    private long throughId;
    private long count;
    private TagKeySets sets = new TagKeySets();
    /** The gaps, ascending and apart: ids {@code gapLow[i]} to {@code gapHigh[i]}, inclusive. */
    private long[] gapLow = new long[0];
    private long[] gapHigh = new long[0];
    private int gapCount;
    /** True once the gaps outgrew {@link #MAX_GAPS}: reads count the rows until every id read is final. */
    private boolean counting;
    /** Every id up to this one is final (a fact of the database, kept across epochs). */
    private long finalThrough;
    /** The marks waiting to settle: a read's highest id, and the first transaction not started at its snapshot. */
    private final long[] markId = new long[MAX_MARKS];
    private final long[] markUnstarted = new long[MAX_MARKS];
    private int marks;

    /**
     * {@code lateIds}: another process may commit a lower series id after a higher one was read (a database several
     * replicas write), so reads look for the ids they have not found.
     */
    StoredTagKeySets(boolean lateIds) {
        this.lateIds = lateIds;
    }

    /** The keys, brought up to date on {@code c}. */
    List<SeriesKey> read(Connection c) throws SQLException {
        lock.lock();
        try {
            return readLocked(c);
        } finally {
            lock.unlock();
        }
    }

    private List<SeriesKey> readLocked(Connection c) throws SQLException {
        long[] state = firstRow(c, STATE, 2);
        long nowEpoch = state[0];
        long maxId = state[1];
        if (lateIds) {
            settle(c, maxId);
        }
        if (nowEpoch != epoch) {
            startOver(nowEpoch);
        }
        if (!counting) {
            if (gapCount > 0) {
                readGaps(c);
            }
            if (maxId > throughId) {
                readAfter(c);
            }
            return List.copyOf(sets.keys());
        }
        long rows = firstRow(c, COUNT, 1)[0];
        if (rows < count) {
            startOver(nowEpoch);
        }
        if (maxId > throughId || rows != count) {
            readAfter(c);
            if (rows != count) {
                // A lower id committed after a higher one was read: read every row again.
                startOver(nowEpoch);
                readAfter(c);
            }
        }
        if (counting && rows == count && finalThrough >= throughId) {
            counting = false;
            gapCount = 0;
        }
        return List.copyOf(sets.keys());
    }

    /**
     * Marks {@code maxId}, read before this, with a snapshot taken now, and settles the marks whose snapshot the
     * oldest transaction still running started after: the ids up to theirs are final. The snapshot is taken before
     * the gaps are looked up, so that what a transaction ended before it committed is there to be read.
     */
    private void settle(Connection c, long maxId) throws SQLException {
        long[] snapshot = firstRow(c, SNAPSHOT, 2);
        long oldestRunning = snapshot[0];
        long firstUnstarted = snapshot[1];
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

    /** The first {@code n} columns of the one row {@code sql} answers, as longs (an SQL NULL as 0). */
    private static long[] firstRow(Connection c, String sql, int n) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql);
             ResultSet rs = ps.executeQuery()) {
            rs.next();
            long[] out = new long[n];
            for (int i = 0; i < n; i++) {
                out[i] = rs.getLong(i + 1);
            }
            return out;
        }
    }

    private void startOver(long nowEpoch) {
        epoch = nowEpoch;
        throughId = 0;
        count = 0;
        sets = new TagKeySets();
        gapCount = 0;
        counting = false;
    }

    private void readAfter(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(AFTER)) {
            ps.setLong(1, throughId);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    long id = rs.getLong(1);
                    if (lateIds) {
                        noteGap(throughId + 1, id - 1);
                    }
                    throughId = Math.max(throughId, id);
                    add(rs);
                }
            }
        }
    }

    /** Adds the series of a row read as (id, metric, tags). */
    private void add(ResultSet rs) throws SQLException {
        count++;
        sets.add(SeriesKey.of(rs.getString(2), TagsJson.decode(rs.getString(3))));
    }

    /** No read found ids {@code low} to {@code high}: those not final yet are a gap. */
    private void noteGap(long low, long high) {
        low = Math.max(low, finalThrough + 1);
        if (counting || high < low) {
            return;
        }
        if (gapCount == MAX_GAPS) {
            counting = true;
            return;
        }
        if (gapCount == gapLow.length) {
            int n = Math.max(16, 2 * gapCount);
            gapLow = Arrays.copyOf(gapLow, n);
            gapHigh = Arrays.copyOf(gapHigh, n);
        }
        gapLow[gapCount] = low;
        gapHigh[gapCount++] = high;
    }

    /**
     * Looks the gaps up: the rows committed since they were found missing are added and leave their gaps, and the
     * final ids leave them too.
     */
    private void readGaps(Connection c) throws SQLException {
        Long[] low = new Long[gapCount];
        Long[] high = new Long[gapCount];
        for (int i = 0; i < gapCount; i++) {
            low[i] = gapLow[i];
            high[i] = gapHigh[i];
        }
        long[] found = new long[16];
        int n = 0;
        try (PreparedStatement ps = c.prepareStatement(GAPS)) {
            ps.setArray(1, c.createArrayOf("bigint", low));
            ps.setArray(2, c.createArrayOf("bigint", high));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    if (n == found.length) {
                        found = Arrays.copyOf(found, 2 * n);
                    }
                    found[n++] = rs.getLong(1);
                    add(rs);
                }
            }
        }
        Arrays.sort(found, 0, n);
        long[] oldLow = gapLow;
        long[] oldHigh = gapHigh;
        int old = gapCount;
        gapLow = new long[Math.max(16, old + n)];
        gapHigh = new long[gapLow.length];
        gapCount = 0;
        int f = 0;
        for (int i = 0; i < old; i++) {
            long next = oldLow[i];
            for (; f < n && found[f] <= oldHigh[i]; f++) {
                noteGap(next, found[f] - 1);
                next = found[f] + 1;
            }
            noteGap(next, oldHigh[i]);
        }
    }

    /**
     * A write committed {@code stored}: when the ids it gave its series are exactly those after {@link #throughId} in
     * the epoch held, their keys (of {@code windows}, whose series' texts are {@code texts}) are added and the ids
     * taken as read; otherwise, or while a read holds the sets, the next read reads them.
     */
    void written(WindowTable.Stored stored, List<Window> windows, WindowTexts texts) {
        if (!lock.tryLock()) {
            return;
        }
        try {
            writtenLocked(stored, windows, texts);
        } finally {
            lock.unlock();
        }
    }

    private void writtenLocked(WindowTable.Stored stored, List<Window> windows, WindowTexts texts) {
        NewSeries series = stored.series();
        if (series.isEmpty() || stored.epoch() != epoch) {
            return;
        }
        long min = Long.MAX_VALUE;
        long max = Long.MIN_VALUE;
        for (int k = 0; k < series.size(); k++) {
            min = Math.min(min, series.id(k));
            max = Math.max(max, series.id(k));
        }
        if (min != throughId + 1 || max - min + 1 != series.size()) {
            return;
        }
        BitSet fresh = new BitSet();
        for (int k = 0; k < series.size(); k++) {
            fresh.set(series.number(k));
        }
        for (int i = 0; i < texts.size(); i++) {
            if (fresh.get(texts.number(i))) {
                sets.add(WindowList.series(windows, i));
            }
        }
        throughId = max;
        count += series.size();
    }

    /** The gaps kept (for tests). */
    int gapCount() {
        lock.lock();
        try {
            return counting ? -1 : gapCount;
        } finally {
            lock.unlock();
        }
    }

    /** Series were forgotten: the next read starts over. */
    void forgotten() {
        lock.lock();
        try {
            epoch = Long.MIN_VALUE;
        } finally {
            lock.unlock();
        }
    }
}
