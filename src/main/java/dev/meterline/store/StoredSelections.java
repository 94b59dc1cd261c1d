package dev.meterline.store;

import dev.meterline.telemetry.StoreMeters;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Which stored series a metric's tag texts select (the id and tag text of each series whose text holds one of the
 * texts of each list, {@link WindowTable#seriesTexts}), kept up to date without reading every tag text of the metric
 * again: a dashboard asking for one host of a metric with 100 000 series would otherwise test 100 000 texts per query.
 *
 * <p>Series rows are only ever added, under growing ids, until series are forgotten, which moves the series epoch. A
 * selection holds its series with ids up to {@code throughId} in one epoch; the next ask reads only the rows after it,
 * a seek in the primary key, and starts over when the epoch moved. One statement reads the epoch, the highest id and
 * the rows, so all three come from one snapshot. SQLite only: its one writer commits ids in order, so the rows after
 * the highest id a snapshot saw are exactly those it did not see. (On PostgreSQL several replicas commit ids out of
 * order, and a read there keeps scanning the texts.)
 *
 * <p>Bounded by {@code maxRows}: each selection weighs one plus its series, the least recently asked go first past
 * the bound, and a selection of more than a sixteenth of it is not kept (it is read whole on every ask, as it would be
 * without this). Thread-safe; asks for different selections do not wait for each other's reads.
 */
final class StoredSelections {

    /** A selection may hold at most this share of {@code maxRows}. */
    static final int SHARE = 16;

    private final int maxRows;
    private final int maxPerSelection;
    private final StoreMeters meters;
    /** The selections, least recently asked first; guarded by {@link #lock}, as is {@link #rows}. */
    private final LinkedHashMap<Key, Selection> held = new LinkedHashMap<>(16, 0.75f, true);
    private final ReentrantLock lock = new ReentrantLock();
    private long rows;

    /** At most {@code maxRows} selected series held in all (0: none, every ask reads the texts). */
    StoredSelections(int maxRows, StoreMeters meters) {
        if (maxRows < 0) {
            throw new IllegalArgumentException("maxRows: " + maxRows + " (expected: >= 0)");
        }
        this.maxRows = maxRows;
        this.maxPerSelection = maxRows / SHARE;
        this.meters = meters;
    }

    /** Whether any selection may be kept. */
    boolean keeps() {
        return maxPerSelection > 0;
    }

    /** The series of one selection: {@code ids[i]} has tag text {@code tags[i]}, for each i below {@code size}. */
    record Series(long[] ids, String[] tags, int size) {
    }

    private record Key(String metric, List<List<String>> texts) {
    }

    /** One selection's series in one epoch, through one id. */
    private static final class Selection {

        final ReentrantLock lock = new ReentrantLock();
        /** The epoch read, {@link Long#MIN_VALUE} before the first read. */
        long epoch = Long.MIN_VALUE;
        long throughId;
        long[] ids = new long[4];
        String[] tags = new String[4];
        int size;
        /** The series counted in {@link #rows}; guarded by the holder's lock. */
        int counted;
        /** Set once the selection left the map: its rows no longer count; guarded by the holder's lock. */
        boolean dropped;

        void add(long id, String text) {
            if (size == ids.length) {
                ids = Arrays.copyOf(ids, 2 * size);
                tags = Arrays.copyOf(tags, 2 * size);
            }
            ids[size] = id;
            tags[size++] = text;
        }

        /** Holds nothing, to be read from the first id; a {@link Series} handed out keeps what it held. */
        void clear() {
            ids = new long[4];
            tags = new String[4];
            size = 0;
            throughId = 0;
        }

        Series series() {
            return new Series(ids, tags, size);
        }
    }

    /**
     * The series of {@code metric} whose tag text holds one of the texts of each list of {@code texts} (not empty),
     * brought up to date on {@code c}; a text found is not proof of a value, so the caller still tests each text.
     */
    Series select(Connection c, String metric, List<List<String>> texts) throws SQLException {
        Key key = new Key(metric, List.copyOf(texts));
        Selection s;
        lock.lock();
        try {
            s = held.get(key);
            if (s == null) {
                s = new Selection();
                held.put(key, s);
                weigh(1);
            }
        } finally {
            lock.unlock();
        }
        s.lock.lock();
        try {
            boolean hit;
            try {
                hit = s.epoch != Long.MIN_VALUE && readAfter(c, key, s);
                if (!hit) {
                    s.clear();
                    readAfter(c, key, s);
                }
            } catch (SQLException | RuntimeException e) {
                // Rows may have been added without their ids taken as read: the next ask starts over.
                s.epoch = Long.MIN_VALUE;
                throw e;
            }
            meters.selectionLookup(hit);
            Series out = s.series();
            settle(key, s);
            return out;
        } finally {
            s.lock.unlock();
        }
    }

    /**
     * Adds the rows after {@code s.throughId} and takes the highest id as read; false when the epoch moved since the
     * rows held were read, and the caller starts over. A selection that holds nothing yet takes the epoch it reads.
     */
    private static boolean readAfter(Connection c, Key key, Selection s) throws SQLException {
        boolean first = s.throughId == 0;
        try (PreparedStatement ps = c.prepareStatement(sql(key.texts(), first))) {
            int p = 1;
            if (!first) {
                ps.setLong(p++, s.throughId);
            }
            ps.setString(p++, key.metric());
            WindowTable.bindTexts(ps, p, key.texts());
            try (ResultSet rs = ps.executeQuery()) {
                long through = s.throughId;
                while (rs.next()) {
                    String tags = rs.getString(2);
                    if (tags == null) {
                        long epoch = rs.getLong(1);
                        if (!first && epoch != s.epoch) {
                            return false;
                        }
                        s.epoch = epoch;
                        through = Math.max(through, rs.getLong(3));
                    } else {
                        s.add(rs.getLong(1), tags);
                    }
                }
                s.throughId = through;
                return true;
            }
        }
    }

    /**
     * The epoch and highest series id (a row with null tags), then the rows of the series of a metric whose tag text
     * holds one of each list's texts: the first read finds them by the metric in the series key, a later one by id
     * after the last it read ({@code +metric} keeps SQLite from taking the series key, which would walk the metric).
     */
    static String sql(List<List<String>> texts, boolean first) {
        StringBuilder sql = new StringBuilder("SELECT (SELECT epoch FROM meterline_series_epoch), NULL,"
                + " (SELECT max(id) FROM meterline_series) UNION ALL SELECT id, tags, 0 FROM meterline_series WHERE ");
        sql.append(first ? "metric = ?" : "id > ? AND +metric = ?");
        WindowTable.appendHolding(sql, Dialect.SQLITE, texts);
        return sql.toString();
    }

    /** Counts the series of {@code s}, drops it when it outgrew its share, and evicts past the bound. */
    private void settle(Key key, Selection s) {
        lock.lock();
        try {
            if (s.dropped) {
                return;
            }
            weigh(s.size - s.counted);
            s.counted = s.size;
            if (s.size > maxPerSelection) {
                held.remove(key, s);
                forget(s);
                s.clear();
                s.epoch = Long.MIN_VALUE;
            }
            Iterator<Map.Entry<Key, Selection>> eldest = held.entrySet().iterator();
            while (rows > maxRows && eldest.hasNext()) {
                Selection old = eldest.next().getValue();
                if (old != s) {
                    eldest.remove();
                    forget(old);
                    meters.selectionEvicted();
                }
            }
        } finally {
            lock.unlock();
        }
    }

    /** {@code s} left the map: its rows no longer count. */
    private void forget(Selection s) {
        s.dropped = true;
        weigh(-1L - s.counted);
    }

    private void weigh(long n) {
        rows += n;
        meters.selectionRows(rows);
    }

    /** Rows held: each selection's series, and one for each selection (for tests). */
    long rows() {
        lock.lock();
        try {
            return rows;
        } finally {
            lock.unlock();
        }
    }

    /** Selections held (for tests). */
    int selections() {
        lock.lock();
        try {
            return held.size();
        } finally {
            lock.unlock();
        }
    }
}
