package dev.meterline.store;

import dev.meterline.model.SeriesKey;
import dev.meterline.model.TagKeySets;
import dev.meterline.model.Window;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
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
 * <p>On PostgreSQL another replica's transaction may commit a lower id after a higher one was read. Such an id is one
 * that no read found below {@link #throughId}: the sets keep these gaps (ids a rolled-back or conflicting insert took
 * stay gaps for good) and look them up by id on each read, which costs a few index probes where counting a million
 * rows costs a quarter of a second. Past {@link #MAX_GAPS} gaps a read counts the rows instead, and a count that
 * differs from the rows held starts over. Thread-safe; a write never waits for a read in progress (the first read of
 * a large store takes seconds): it leaves its series to the next read instead.
 */
final class StoredTagKeySets {

    private static final String STATE = "SELECT (SELECT epoch FROM meterline_series_epoch),"
            + " (SELECT max(id) FROM meterline_series)";
    private static final String COUNT = "SELECT count(*) FROM meterline_series";
    private static final String AFTER = "SELECT id, metric, tags FROM meterline_series WHERE id > ? ORDER BY id";
    private static final String GAPS = "SELECT id, metric, tags FROM meterline_series WHERE id = ANY (?)";

    /** Most gaps looked up by id; past it a read counts the rows. */
    static final int MAX_GAPS = 4096;

    private final boolean lateIds;
    private final ReentrantLock lock = new ReentrantLock();
    private long epoch = Long.MIN_VALUE;
    private long throughId;
    private long count;
    private TagKeySets sets = new TagKeySets();
    /** Ids up to {@link #throughId} that no read found, the first {@code gapCount}; unused while {@code counting}. */
    private long[] gaps = new long[16];
    private int gapCount;
    /** True once the gaps outgrew {@link #MAX_GAPS}: reads count the rows until the sets start over. */
    private boolean counting;

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
        long nowEpoch;
        long maxId;
        try (PreparedStatement ps = c.prepareStatement(STATE);
             ResultSet rs = ps.executeQuery()) {
            rs.next();
            nowEpoch = rs.getLong(1);
            maxId = rs.getLong(2);
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
        long rows;
        try (PreparedStatement ps = c.prepareStatement(COUNT);
             ResultSet rs = ps.executeQuery()) {
            rs.next();
            rows = rs.getLong(1);
        }
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
        return List.copyOf(sets.keys());
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
                        noteGaps(throughId + 1, id);
                    }
                    throughId = Math.max(throughId, id);
                    count++;
                    sets.add(SeriesKey.of(rs.getString(2), TagsJson.decode(rs.getString(3))));
                }
            }
        }
    }

    /** Ids {@code from} (inclusive) to {@code to} (exclusive) were not found. */
    private void noteGaps(long from, long to) {
        if (counting || to <= from) {
            return;
        }
        if (to - from > MAX_GAPS - gapCount) {
            counting = true;
            return;
        }
        int n = (int) (to - from);
        if (gapCount + n > gaps.length) {
            gaps = Arrays.copyOf(gaps, Math.max(gapCount + n, 2 * gaps.length));
        }
        for (long id = from; id < to; id++) {
            gaps[gapCount++] = id;
        }
    }

    /** Looks the gaps up: the rows committed since they were found missing are added, their ids no longer gaps. */
    private void readGaps(Connection c) throws SQLException {
        Long[] ids = new Long[gapCount];
        for (int i = 0; i < gapCount; i++) {
            ids[i] = gaps[i];
        }
        Set<Long> found = new HashSet<>();
        try (PreparedStatement ps = c.prepareStatement(GAPS)) {
            ps.setArray(1, c.createArrayOf("bigint", ids));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    found.add(rs.getLong(1));
                    count++;
                    sets.add(SeriesKey.of(rs.getString(2), TagsJson.decode(rs.getString(3))));
                }
            }
        }
        if (found.isEmpty()) {
            return;
        }
        int kept = 0;
        for (int i = 0; i < gapCount; i++) {
            if (!found.contains(gaps[i])) {
                gaps[kept++] = gaps[i];
            }
        }
        gapCount = kept;
    }

    /**
     * A write committed {@code stored}: when the ids it gave its series are exactly those after {@link #throughId} in
     * the epoch held, their keys (of {@code windows}, whose series' texts are {@code texts}) are added and the ids
     * taken as read; otherwise, or while a read holds the sets, the next read reads them.
     */
    void written(WindowTable.Stored stored, List<Window> windows, SeriesTexts.Text[] texts) {
        if (!lock.tryLock()) {
            return;
        }
        try {
            writtenLocked(stored, windows, texts);
        } finally {
            lock.unlock();
        }
    }

    private void writtenLocked(WindowTable.Stored stored, List<Window> windows, SeriesTexts.Text[] texts) {
        List<SeriesTexts.Text> series = stored.series();
        if (series.isEmpty() || stored.epoch() != epoch) {
            return;
        }
        long min = Long.MAX_VALUE;
        long max = Long.MIN_VALUE;
        for (SeriesTexts.Text t : series) {
            min = Math.min(min, t.id);
            max = Math.max(max, t.id);
        }
        if (min != throughId + 1 || max - min + 1 != series.size()) {
            return;
        }
        Set<SeriesTexts.Text> fresh = Collections.newSetFromMap(new IdentityHashMap<>(2 * series.size()));
        fresh.addAll(series);
        for (int i = 0; i < texts.length; i++) {
            if (fresh.contains(texts[i])) {
                sets.add(windows.get(i).series());
            }
        }
        throughId = max;
        count += series.size();
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
