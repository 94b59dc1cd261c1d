package dev.meterline.store;

import dev.meterline.model.SeriesKey;
import dev.meterline.model.TagKeySets;
import dev.meterline.model.Window;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Collections;
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
 * from their keys, so the rows it wrote are not read back. On PostgreSQL, where another replica's transaction may
 * commit a lower id after a higher one is read, the count of rows is compared too, and a difference starts over.
 * Thread-safe; a write never waits for a read in progress (the first read of a large store takes seconds): it leaves
 * its series to the next read instead.
 */
final class StoredTagKeySets {

    private static final String STATE = "SELECT (SELECT epoch FROM meterline_series_epoch),"
            + " (SELECT max(id) FROM meterline_series)";
    private static final String COUNT = "SELECT count(*) FROM meterline_series";
    private static final String AFTER = "SELECT id, metric, tags FROM meterline_series WHERE id > ? ORDER BY id";

    private final boolean counted;
    private final ReentrantLock lock = new ReentrantLock();
    private long epoch = Long.MIN_VALUE;
    private long throughId;
    private long count;
    private TagKeySets sets = new TagKeySets();

    /** {@code counted}: compare the row count on each read (a database other processes write). */
    StoredTagKeySets(boolean counted) {
        this.counted = counted;
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
        long rows = -1;
        if (counted) {
            try (PreparedStatement ps = c.prepareStatement(COUNT);
                 ResultSet rs = ps.executeQuery()) {
                rs.next();
                rows = rs.getLong(1);
            }
        }
        if (nowEpoch != epoch || counted && rows < count) {
            startOver(nowEpoch);
        }
        if (maxId > throughId || counted && rows != count) {
            readAfter(c);
            if (counted && rows != count) {
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
    }

    private void readAfter(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(AFTER)) {
            ps.setLong(1, throughId);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    throughId = Math.max(throughId, rs.getLong(1));
                    count++;
                    sets.add(SeriesKey.of(rs.getString(2), TagsJson.decode(rs.getString(3))));
                }
            }
        }
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
