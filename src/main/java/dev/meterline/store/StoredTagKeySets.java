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
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One key of each distinct metric and set of tag keys among the stored series, kept up to date without reading
 * {@code meterline_series} whole per request: the label names of a million stored series are those of a few keys.
 *
 * <p>Series rows are only ever added, under growing ids, until series are forgotten, which moves the series epoch.
 * The sets hold every series with an id up to {@link LateIds#through} in {@link #epoch}; a read adds the rows after
 * it, and starts over when the epoch moved. A write of this process that stored exactly the ids after it adds its
 * series from their keys, so the rows it wrote are not read back.
 *
 * <p>On PostgreSQL another replica's transaction may commit a lower id after a higher one was read: the sets keep
 * the ids that may still appear below the highest one read ({@link LateIds}) and look their gaps up on each read (a
 * few index range scans, where counting a million rows takes a quarter of a second). While the gaps are not listed
 * (past {@link LateIds#MAX_GAPS} at once) a read counts the rows instead, in the statement that reads the rows after
 * the highest id held, so that both see one snapshot: the rows held and those after are every row of that snapshot
 * exactly when their counts add up to its count, and otherwise (a lower id committed late) the read starts over, in
 * one statement again. Once a count adds up and every id up to the highest held before the read is final, the gaps
 * are listed again from the ids that statement read. Thread-safe; a write never waits for a read in progress (the
 * first read of a large store takes seconds): it leaves its series to the next read instead.
 */
final class StoredTagKeySets {

    private static final String STATE = "SELECT (SELECT epoch FROM meterline_series_epoch),"
            + " (SELECT max(id) FROM meterline_series)";
    /**
     * The epoch, highest id, count of rows and the snapshot's transactions (kind 0), then the rows after {@code ?}
     * (kind 1), in one statement and so in one snapshot.
     */
    private static final String COUNTED = "SELECT 0, (SELECT epoch FROM meterline_series_epoch),"
            + " (SELECT max(id) FROM meterline_series), (SELECT count(*) FROM meterline_series), "
            + LateIds.SNAPSHOT_COLUMNS + ", NULL, NULL FROM txid_current_snapshot() AS s"
            + " UNION ALL SELECT 1, id, 0, 0, 0, 0, metric, tags FROM meterline_series WHERE id > ?";
    private static final String AFTER = "SELECT id, metric, tags FROM meterline_series WHERE id > ? ORDER BY id";
    private static final String GAPS = "SELECT s.id, s.metric, s.tags FROM meterline_series s,"
            + " unnest(?::bigint[], ?::bigint[]) AS g (lo, hi) WHERE s.id BETWEEN g.lo AND g.hi";
    private static final String SNAPSHOT = "SELECT " + LateIds.SNAPSHOT_COLUMNS + " FROM txid_current_snapshot() AS s";

    /** Most gaps kept at once; past it a read counts the rows. */
    static final int MAX_GAPS = LateIds.MAX_GAPS;

    private final boolean lateIds;
    private final ReentrantLock lock = new ReentrantLock();
    private long epoch = Long.MIN_VALUE;
    private long count;
    private TagKeySets sets = new TagKeySets();
    /** The ids read, and those that may still appear below the highest one. */
    private final LateIds ids;

    /**
     * {@code lateIds}: another process may commit a lower series id after a higher one was read (a database several
     * replicas write), so reads look for the ids they have not found.
     */
    StoredTagKeySets(boolean lateIds) {
        this.lateIds = lateIds;
        this.ids = new LateIds(lateIds);
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
        if (!ids.listed()) {
            readCounted(c);
            return List.copyOf(sets.keys());
        }
        long[] state = firstRow(c, STATE, 2);
        long nowEpoch = state[0];
        long maxId = state[1];
        if (lateIds) {
            // The snapshot is taken before the gaps are looked up.
            long[] snapshot = firstRow(c, SNAPSHOT, 2);
            ids.settle(maxId, snapshot[0], snapshot[1]);
        }
        if (nowEpoch != epoch) {
            startOver(nowEpoch);
        }
        if (ids.gaps().size() > 0) {
            readGaps(c);
        }
        if (maxId > ids.through()) {
            readAfter(c);
        }
        return List.copyOf(sets.keys());
    }

    /**
     * Reads the rows after {@link LateIds#through} with the count of every row, in one snapshot: when the rows held
     * and those read are not all of that snapshot's, or the epoch moved, reads every row again, in one snapshot too.
     * The gaps are listed again, from the ids read, once every id up to the highest held before is final.
     */
    private void readCounted(Connection c) throws SQLException {
        Counted read = counted(c, ids.through());
        if (read.epoch != epoch || count != read.rows) {
            // A lower id committed after a higher one was read, or series were forgotten: read every row again.
            startOver(read.epoch);
            read = counted(c, 0);
            epoch = read.epoch;
        }
        ids.listAgain();
        for (int i = 0; i < read.size; i++) {
            ids.found(read.ids[i]);
        }
    }

    /** What {@link #COUNTED} read: the snapshot's epoch and count of rows, and the ids after the one asked, sorted. */
    private record Counted(long epoch, long rows, long[] ids, int size) {
    }

    /**
     * Runs {@link #COUNTED} for the rows after {@code after}, adding and counting their keys in the sets, and settles
     * the ids on its snapshot.
     */
    private Counted counted(Connection c, long after) throws SQLException {
        long nowEpoch = 0;
        long maxId = 0;
        long rows = 0;
        long oldestRunning = 0;
        long firstUnstarted = 0;
        long[] found = new long[16];
        int n = 0;
        try (PreparedStatement ps = c.prepareStatement(COUNTED)) {
            ps.setLong(1, after);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    if (rs.getInt(1) == 0) {
                        nowEpoch = rs.getLong(2);
                        maxId = rs.getLong(3);
                        rows = rs.getLong(4);
                        oldestRunning = rs.getLong(5);
                        firstUnstarted = rs.getLong(6);
                    } else {
                        if (n == found.length) {
                            found = Arrays.copyOf(found, 2 * n);
                        }
                        found[n++] = rs.getLong(2);
                        add(rs, 7);
                    }
                }
            }
        }
        ids.settle(maxId, oldestRunning, firstUnstarted);
        Arrays.sort(found, 0, n);
        return new Counted(nowEpoch, rows, found, n);
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
        ids.startOver(0);
        count = 0;
        sets = new TagKeySets();
    }

    private void readAfter(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(AFTER)) {
            ps.setLong(1, ids.through());
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    long id = rs.getLong(1);
                    ids.found(id);
                    add(rs, 2);
                }
            }
        }
    }

    /** Adds and counts the series of a row whose metric and tag text are its columns {@code at} and the next. */
    private void add(ResultSet rs, int at) throws SQLException {
        count++;
        sets.add(SeriesKey.of(rs.getString(at), TagsJson.decode(rs.getString(at + 1))));
    }

    /**
     * Looks the gaps up: the rows committed since they were found missing are added and leave their gaps, and the
     * final ids leave them too.
     */
    private void readGaps(Connection c) throws SQLException {
        LateIds.Gaps gaps = ids.gaps();
        long[] found = new long[16];
        int n = 0;
        try (PreparedStatement ps = c.prepareStatement(GAPS)) {
            ps.setArray(1, c.createArrayOf("bigint", gaps.lows()));
            ps.setArray(2, c.createArrayOf("bigint", gaps.highs()));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    if (n == found.length) {
                        found = Arrays.copyOf(found, 2 * n);
                    }
                    found[n++] = rs.getLong(1);
                    add(rs, 2);
                }
            }
        }
        Arrays.sort(found, 0, n);
        ids.foundInGaps(found, n);
    }

    /**
     * A write committed {@code stored}: when the ids it gave its series are exactly those after
     * {@link LateIds#through} in the epoch held, their keys (of {@code windows}, whose series' texts are {@code texts})
     * are added and the ids taken as read; otherwise, or while a read holds the sets, the next read reads them.
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
        if (min != ids.through() + 1 || max - min + 1 != series.size()) {
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
        ids.foundThrough(max);
        count += series.size();
    }

    /** The gaps kept (for tests). */
    int gapCount() {
        lock.lock();
        try {
            return ids.listed() ? ids.gaps().size() : -1;
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
