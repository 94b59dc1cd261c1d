package dev.meterline.store;

import dev.meterline.telemetry.StoreMeters;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.locks.ReentrantLock;

import static java.util.Objects.requireNonNull;

/**
 * Which stored series a metric's tag texts select (the id and tag text of each series whose text holds one of the
 * texts of each list, {@link WindowTable#seriesTexts}), kept up to date without reading every tag text of the metric
 * again: a dashboard asking for one host of a metric with 100 000 series would otherwise test 100 000 texts per query
 * or listing.
 * A selection is keyed by its texts in one order (each list's texts sorted, then the lists), so that a filter named
 * in another order finds the same one.
 *
 * <p>Series rows are only ever added, under growing ids, until series are forgotten, which moves the series epoch. A
 * selection holds its series with ids up to {@code throughId} in one epoch; the next ask reads only the rows after it,
 * a seek in the primary key, and starts over when the epoch moved. The statement that reads the rows reads the epoch
 * too, so both come from one snapshot. On SQLite it reads the highest id as well: its one writer commits ids in order,
 * so the rows after the highest id a snapshot saw are exactly those it did not see. On PostgreSQL several replicas
 * commit ids out of order, so the selections share the ids that may still appear below the highest one read
 * ({@link LateIds}), brought up to date by a statement before each ask's read: a selection reads up to that highest
 * id, keeps its gaps (less the ids it found in them), and its next read also reads the rows in those gaps. While the
 * gaps are not listed (too many at once, or before the ids a first look took as read are final) an ask reads the
 * selection whole and keeps nothing.
 *
 * <p>Bounded by {@code maxRows}: each selection weighs one plus its series, the least recently asked go first past
 * the bound, and a selection of more than a sixteenth of it is not kept (it is read whole on every ask, as it would be
 * without this). Thread-safe; asks for different selections do not wait for each other's reads.
 */
final class StoredSelections {

    /** A selection may hold at most this share of {@code maxRows}. */
    static final int SHARE = 16;

    /**
     * The highest series id and the snapshot's transactions (kind 0), the ids after {@code ?} (kind 1) and, where
     * {@link #GAP_IDS} follows, the ids in the gaps (kind 2).
     */
    private static final String LATE_IDS = "SELECT 0, (SELECT max(id) FROM meterline_series), "
            + LateIds.SNAPSHOT_COLUMNS + " FROM txid_current_snapshot() AS s"
            + " UNION ALL SELECT 1, id, 0, 0 FROM meterline_series WHERE id > ?";
    private static final String GAP_IDS = " UNION ALL SELECT 2, s.id, 0, 0 FROM meterline_series s,"
            + " unnest(?::bigint[], ?::bigint[]) AS g (lo, hi) WHERE s.id BETWEEN g.lo AND g.hi";
    /** The highest series id and the snapshot's transactions alone, for the first look. */
    private static final String FIRST_LOOK = "SELECT 0, (SELECT max(id) FROM meterline_series), "
            + LateIds.SNAPSHOT_COLUMNS + " FROM txid_current_snapshot() AS s";

    private final Dialect dialect;
    private final int maxRows;
    private final int maxPerSelection;
    private final StoreMeters meters;
    /** The selections, least recently asked first; guarded by {@link #lock}, as is {@link #rows}. */
    private final LinkedHashMap<Key, Selection> held = new LinkedHashMap<>(16, 0.75f, true);
    private final ReentrantLock lock = new ReentrantLock();
    private long rows;
    /** The ids that may still appear below the highest one read (PostgreSQL only); guarded by {@link #lateLock}. */
    private final LateIds late;
    private final ReentrantLock lateLock = new ReentrantLock();
    /** Whether {@link #late} took its first look; guarded by {@link #lateLock}. */
    private boolean looked;

    /**
     * At most {@code maxRows} selected series held in all (0: none, every ask reads the texts), read in
     * {@code dialect}.
     */
    StoredSelections(int maxRows, StoreMeters meters, Dialect dialect) {
        if (maxRows < 0) {
            throw new IllegalArgumentException("maxRows: " + maxRows + " (expected: >= 0)");
        }
        this.dialect = requireNonNull(dialect, "dialect");
        this.maxRows = maxRows;
        this.maxPerSelection = maxRows / SHARE;
        this.meters = requireNonNull(meters, "meters");
        this.late = dialect == Dialect.POSTGRES ? new LateIds(true) : null;
    }

    /** Whether any selection may be kept. */
    boolean keeps() {
        return maxPerSelection > 0;
    }

    /** The dialect the selections are read in. */
    Dialect dialect() {
        return dialect;
    }

    /** The series of one selection: {@code ids[i]} has tag text {@code tags[i]}, for each i below {@code size}. */
    record Series(long[] ids, String[] tags, int size) {
    }

    private record Key(String metric, List<List<String>> texts) {
    }

    /** Each list's texts sorted and once, then the lists sorted: one key however a filter names its values. */
    static List<List<String>> canonical(List<List<String>> texts) {
        List<List<String>> out = new ArrayList<>(texts.size());
        for (List<String> any : texts) {
            out.add(List.copyOf(new TreeSet<>(any)));
        }
        out.sort(StoredSelections::compare);
        return List.copyOf(out);
    }

    private static int compare(List<String> a, List<String> b) {
        for (int i = 0; i < Math.min(a.size(), b.size()); i++) {
            int c = a.get(i).compareTo(b.get(i));
            if (c != 0) {
                return c;
            }
        }
        return Integer.compare(a.size(), b.size());
    }

    /** What the ids said before a read: every id up to {@code through} outside {@code gaps} final or read. */
    private record Watch(long through, LateIds.Gaps gaps) {
    }

    /** One selection's series in one epoch, through one id. */
    private static final class Selection {

        final ReentrantLock lock = new ReentrantLock();
        /** The epoch read, {@link Long#MIN_VALUE} before the first read. */
        long epoch = Long.MIN_VALUE;
        long throughId;
        /** The ids up to {@link #throughId} that may still appear (PostgreSQL only). */
        LateIds.Gaps gaps = LateIds.Gaps.NONE;
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

        /**
         * Takes the series epoch a read found, which a read of the rows after those held ({@code first} false) must
         * find unchanged; false when it moved, and the rows held are to be read again.
         */
        boolean tookEpoch(long found, boolean first) {
            if (!first && found != epoch) {
                return false;
            }
            epoch = found;
            return true;
        }

        /** Holds nothing, to be read from the first id; a {@link Series} handed out keeps what it held. */
        void clear() {
            ids = new long[4];
            tags = new String[4];
            size = 0;
            throughId = 0;
            gaps = LateIds.Gaps.NONE;
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
        Key key = new Key(metric, canonical(texts));
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
            Series out;
            try {
                // After the selection's last read, so that the gaps hold none of the ids it found.
                Watch watch = late == null ? null : watch(c);
                if (late != null && watch == null) {
                    out = readWhole(c, key, s);
                    hit = false;
                } else {
                    hit = s.epoch != Long.MIN_VALUE && read(c, key, s, watch);
                    if (!hit) {
                        s.clear();
                        read(c, key, s, watch);
                    }
                    out = s.series();
                }
            } catch (SQLException | RuntimeException e) {
                // Rows may have been added without their ids taken as read: the next ask starts over.
                s.epoch = Long.MIN_VALUE;
                throw e;
            }
            meters.selectionLookup(hit);
            settle(key, s);
            return out;
        } finally {
            s.lock.unlock();
        }
    }

    /** The selection read whole while the ids that may still appear are not listed; it keeps none of it. */
    private static Series readWhole(Connection c, Key key, Selection s) throws SQLException {
        s.clear();
        readPostgres(c, key, s, new Watch(Long.MAX_VALUE, LateIds.Gaps.NONE));
        Series out = s.series();
        s.clear();
        s.epoch = Long.MIN_VALUE;
        return out;
    }

    private static boolean read(Connection c, Key key, Selection s, Watch watch) throws SQLException {
        return watch == null ? readSqlite(c, key, s) : readPostgres(c, key, s, watch);
    }

    /**
     * Brings the ids that may still appear up to date, in one statement: the first look takes the ids up to the
     * highest as read, the gaps to be known once those are final; later looks read the ids after the highest one
     * read and in the gaps. Null while the gaps are not listed.
     */
    private Watch watch(Connection c) throws SQLException {
        lateLock.lock();
        try {
            boolean reads = looked && late.listed();
            LateIds.Gaps gaps = late.gaps();
            boolean readsGaps = reads && gaps.size() > 0;
            String sql = !reads ? FIRST_LOOK : readsGaps ? LATE_IDS + GAP_IDS : LATE_IDS;
            long maxId = 0;
            long oldestRunning = 0;
            long firstUnstarted = 0;
            long[] after = new long[16];
            int afterCount = 0;
            long[] inGaps = new long[16];
            int inGapCount = 0;
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                if (reads) {
                    ps.setLong(1, late.through());
                }
                if (readsGaps) {
                    ps.setArray(2, c.createArrayOf("bigint", gaps.lows()));
                    ps.setArray(3, c.createArrayOf("bigint", gaps.highs()));
                }
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        int kind = rs.getInt(1);
                        long id = rs.getLong(2);
                        if (kind == 0) {
                            maxId = id;
                            oldestRunning = rs.getLong(3);
                            firstUnstarted = rs.getLong(4);
                        } else if (kind == 1) {
                            after = put(after, afterCount++, id);
                        } else {
                            inGaps = put(inGaps, inGapCount++, id);
                        }
                    }
                }
            }
            late.settle(maxId, oldestRunning, firstUnstarted);
            if (!looked) {
                late.startOver(maxId);
                looked = true;
            } else if (!reads) {
                late.listAgain();
            } else {
                Arrays.sort(inGaps, 0, inGapCount);
                late.foundInGaps(inGaps, inGapCount);
                Arrays.sort(after, 0, afterCount);
                for (int i = 0; i < afterCount; i++) {
                    late.found(after[i]);
                }
            }
            return late.listed() ? new Watch(late.through(), late.gaps()) : null;
        } finally {
            lateLock.unlock();
        }
    }

    private static long[] put(long[] ids, int i, long id) {
        long[] out = i == ids.length ? Arrays.copyOf(ids, 2 * i) : ids;
        out[i] = id;
        return out;
    }

    /**
     * Adds the rows after {@code s.throughId} and takes the highest id as read; false when the epoch moved since the
     * rows held were read, and the caller starts over. A selection that holds nothing yet takes the epoch it reads.
     */
    private static boolean readSqlite(Connection c, Key key, Selection s) throws SQLException {
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
                        if (!s.tookEpoch(rs.getLong(1), first)) {
                            return false;
                        }
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

    /**
     * Adds the rows up to {@code watch.through}: after {@code s.throughId} and in the selection's gaps, or every one
     * when it holds nothing yet; takes that id as read, and the watch's gaps less the ids found in them as the
     * selection's. False when the epoch moved since the rows held were read, and the caller starts over.
     */
    private static boolean readPostgres(Connection c, Key key, Selection s, Watch watch) throws SQLException {
        boolean first = s.throughId == 0;
        boolean readsGaps = !first && s.gaps.size() > 0;
        long[] found = new long[4];
        int n = 0;
        try (PreparedStatement ps = c.prepareStatement(postgresSql(key.texts(), first, readsGaps))) {
            int p = 1;
            if (!first) {
                ps.setLong(p++, s.throughId);
            }
            ps.setLong(p++, watch.through());
            ps.setString(p++, key.metric());
            p = WindowTable.bindTexts(ps, p, key.texts());
            if (readsGaps) {
                ps.setArray(p++, c.createArrayOf("bigint", s.gaps.lows()));
                ps.setArray(p++, c.createArrayOf("bigint", s.gaps.highs()));
                ps.setString(p++, key.metric());
                WindowTable.bindTexts(ps, p, key.texts());
            }
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    String tags = rs.getString(2);
                    if (tags == null) {
                        if (!s.tookEpoch(rs.getLong(1), first)) {
                            return false;
                        }
                    } else {
                        long id = rs.getLong(1);
                        s.add(id, tags);
                        if (watch.gaps().holds(id)) {
                            found = put(found, n++, id);
                        }
                    }
                }
            }
        }
        Arrays.sort(found, 0, n);
        s.throughId = watch.through();
        s.gaps = n == 0 ? watch.gaps() : watch.gaps().without(found, n, 0);
        return true;
    }

    /**
     * The epoch (a row with null tags), then the rows up to an id of the series of a metric whose tag text holds one
     * of each list's texts: the first read finds them by the metric in the series key, a later one by id after the
     * last it read and, with {@code gaps}, in the gaps it kept.
     */
    static String postgresSql(List<List<String>> texts, boolean first, boolean gaps) {
        StringBuilder sql = new StringBuilder("SELECT (SELECT epoch FROM meterline_series_epoch), NULL"
                + " UNION ALL SELECT id, tags FROM meterline_series WHERE ");
        sql.append(first ? "id <= ? AND metric = ?" : "id > ? AND id <= ? AND metric = ?");
        WindowTable.appendHolding(sql, Dialect.POSTGRES, texts);
        if (gaps) {
            sql.append(" UNION ALL SELECT s.id, s.tags FROM meterline_series s, unnest(?::bigint[], ?::bigint[])"
                    + " AS g (lo, hi) WHERE s.id BETWEEN g.lo AND g.hi AND metric = ?");
            WindowTable.appendHolding(sql, Dialect.POSTGRES, texts);
        }
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

    /** The gaps of the ids that may still appear, -1 while they are not listed (PostgreSQL only; for tests). */
    int gapCount() {
        lateLock.lock();
        try {
            return late.listed() ? late.gaps().size() : -1;
        } finally {
            lateLock.unlock();
        }
    }
}
