package dev.meterline.store;

import dev.meterline.model.Aggregate;
import dev.meterline.model.SeriesValues;
import dev.meterline.model.Window;
import dev.meterline.telemetry.StoreReadPath;

import org.postgresql.PGConnection;
import org.postgresql.PGStatement;
import org.postgresql.copy.CopyManager;

import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.sql.Statement;
import java.sql.Types;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * The SQL over {@code meterline_window} and its side tables, on a connection the caller owns; one row is one
 * replica's partial aggregate of one series in one window.
 *
 * <p>{@code merged_through} is 0 for a partial written by a flush; a rolled-up row holds the highest id of the
 * written partials merged into it, which is what makes a rollup idempotent.
 */
final class WindowTable {

    private static final String COLUMNS = "replica, metric, series_id, resolution_ms, start_ms, flush_seq,"
            + " value_count, value_sum, value_min, value_max, value_last, first_ts, last_ts, late, complete, sketch,"
            + " merged_through";
    /** Rows as reads see them ({@code w}), each with its series' tag text from {@code meterline_series}. */
    static final String SELECT = "SELECT w.id, w.replica, w.metric, w.series_id, s.tags, w.resolution_ms,"
            + " w.start_ms, w.flush_seq, w.value_count, w.value_sum, w.value_min, w.value_max, w.value_last,"
            + " w.first_ts, w.last_ts, w.late, w.complete, w.sketch, w.merged_through"
            + " FROM meterline_window w JOIN meterline_series s ON s.id = w.series_id";
    /**
     * A metric's rows at one resolution starting in a range; the unique key's prefix finds them. In the key's order:
     * the caller puts them in write order, which they are in already but for rows written late or by another
     * replica, where the database would sort every row, sketch and all, in a temporary tree.
     */
    static final String READ = SELECT
            + " WHERE w.metric = ? AND w.resolution_ms = ? AND w.start_ms >= ? AND w.start_ms < ?";
    /** A metric's series, for a read that looks up the rows of some of them ({@link #select}). */
    static final String SERIES_OF_METRIC = "SELECT id, tags FROM meterline_series WHERE metric = ?";
    /**
     * The distinct values of one tag key among at most {@code ?} series of a metric, each with its count of series
     * (a null value for the series without the key): SQLite reads the value with its JSON path ({@code $."key"}).
     */
    private static final String TAG_VALUES_SQLITE = "SELECT v, count(*) FROM (SELECT json_extract(tags, ?) AS v"
            + " FROM meterline_series WHERE metric = ? LIMIT ?) GROUP BY v";
    /** {@link #TAG_VALUES_SQLITE} on PostgreSQL, which reads the value by the key itself. */
    private static final String TAG_VALUES_POSTGRES = "SELECT v, count(*) FROM (SELECT tags::json ->> ? AS v"
            + " FROM meterline_series WHERE metric = ? LIMIT ?) AS s GROUP BY v";

    /**
     * Most rows a read looks up one by one, (window start, series) pairs: past it, or when the wanted series are
     * more than a quarter of the metric's, it reads the metric's whole range instead.
     */
    static final int MOST_LOOKUPS = 100_000;
    /** Series and window starts a statement of looked-up rows names at most. */
    static final int SERIES_PER_LOOKUP = 256;
    static final int STARTS_PER_LOOKUP = 1_024;
    /**
     * As {@link #READ}, of one replica, for rollup: rows name their series by id only, so that reading a coarse
     * window's rows does not look up every row's series as well, and leave out the replica and metric, which the
     * caller names; {@link #ownRow} reads the columns by position.
     */
    private static final String OWN_COLUMNS = "w.id, w.series_id, w.resolution_ms, w.start_ms, w.flush_seq,"
            + " w.value_count, w.value_sum, w.value_min, w.value_max, w.value_last, w.first_ts, w.last_ts, w.late,"
            + " w.complete, w.sketch, w.merged_through";
    private static final String READ_OWN = "SELECT " + OWN_COLUMNS
            + " FROM meterline_window w WHERE w.metric = ? AND w.resolution_ms = ? AND w.start_ms >= ?"
            + " AND w.start_ms < ? AND w.replica = ?";
    /**
     * The distinct window starts of a metric's rows at one resolution in [?, ?), as {@code starts(s)} (its last row
     * null): a seek in the unique key per start, each for the least start after the last, as {@link #METRIC_NAMES}
     * finds metric names. A rollup batch seeks each start's rows of its range of series ids with them, where a range
     * of starts would walk every row of the coarse window for each batch.
     */
    private static final String STARTS = "WITH RECURSIVE starts(s) AS (SELECT min(start_ms) FROM meterline_window"
            + " WHERE metric = ? AND resolution_ms = ? AND start_ms >= ? AND start_ms < ?"
            + " UNION ALL SELECT (SELECT min(n.start_ms) FROM meterline_window n WHERE n.metric = ?"
            + " AND n.resolution_ms = ? AND n.start_ms > starts.s AND n.start_ms < ?) FROM starts"
            + " WHERE starts.s IS NOT NULL)";
    /** How many distinct starts {@link #STARTS} finds. */
    static final String COUNT_STARTS = STARTS + " SELECT count(s) FROM starts";
    /**
     * The least, over the starts, of the series id of the row {@code ?} places after series {@code ?} among a
     * replica's rows at that start (the unique key's order): a batch of the series up to it holds at most that many
     * rows a start, give or take the last series' other rows; null when no start has that many.
     */
    static final String BATCH_END = STARTS + " SELECT min((SELECT w.series_id FROM meterline_window w"
            + " WHERE w.metric = ? AND w.resolution_ms = ? AND w.start_ms = starts.s AND w.series_id > ?"
            + " AND w.replica = ? ORDER BY w.series_id LIMIT 1 OFFSET ?)) FROM starts";
    /**
     * A replica's rows of a metric at the starts of {@link #STARTS}, of the series with ids in (?, ?], of
     * {@code kind} (written or rolled up), in {@code order}: the key is sought start by start, each time into the
     * range of series. SQLite seeks each start of the list; PostgreSQL runs a subquery per start ({@code OFFSET 0}
     * keeps it from folding the subquery into a join, which it may plan as a hash join over all of the metric's rows
     * at the resolution).
     */
    private static String readBatch(Dialect dialect, String kind, String order) {
        String where = "w.metric = ? AND w.resolution_ms = ? AND w.start_ms %s AND w.series_id > ?"
                + " AND w.series_id <= ? AND w.replica = ? AND w.merged_through " + kind;
        if (dialect == Dialect.POSTGRES) {
            return STARTS + " SELECT w.* FROM starts CROSS JOIN LATERAL (SELECT " + OWN_COLUMNS
                    + " FROM meterline_window w WHERE " + String.format(where, "= starts.s") + " OFFSET 0) w"
                    + " WHERE starts.s IS NOT NULL ORDER BY " + order;
        }
        return STARTS + " SELECT " + OWN_COLUMNS + " FROM meterline_window w WHERE "
                + String.format(where, "IN (SELECT s FROM starts WHERE s IS NOT NULL)") + " ORDER BY " + order;
    }

    /** A replica's written partials of a batch of series, each series' rows together and in write order. */
    static String readWritten(Dialect dialect) {
        return readBatch(dialect, "= 0", "w.series_id, w.id");
    }

    /**
     * A replica's rolled-up rows of a batch of series, each series' rows together and in start order: a finer tier's
     * rows that a coarser tier is rolled up from.
     */
    static String readFiner(Dialect dialect) {
        return readBatch(dialect, "> 0", "w.series_id, w.start_ms");
    }

    /** A replica's rolled-up rows of a metric in a range, of the series with ids in [?, ?]. */
    static final String READ_ROLLED = READ_OWN + " AND w.merged_through > 0 AND w.series_id >= ?"
            + " AND w.series_id <= ?";
    /** The next resolution above {@code ?} that {@code metric} has rows at: one seek in the unique key. */
    static final String NEXT_RESOLUTION = "SELECT min(resolution_ms) FROM meterline_window WHERE metric = ?"
            + " AND resolution_ms > ?";
    /** The newest window start of {@code metric} at one resolution: one seek in the unique key. */
    static final String NEWEST_START = "SELECT max(start_ms) FROM meterline_window WHERE metric = ?"
            + " AND resolution_ms = ?";
    /**
     * The oldest and newest window starts of {@code metric} at one resolution: a seek in the unique key each (both
     * databases take a lone {@code min} or {@code max} over an index's prefix from its end, but not the two at once).
     */
    static final String STORED_STARTS = "SELECT (SELECT min(start_ms) FROM meterline_window WHERE metric = ?"
            + " AND resolution_ms = ?), (SELECT max(start_ms) FROM meterline_window WHERE metric = ?"
            + " AND resolution_ms = ?)";
    /**
     * The names of the metrics with stored series, in order: a seek in the series key per metric, each for the least
     * name after the last, rather than a pass over every series (a million of them at a million series).
     */
    static final String METRIC_NAMES = "WITH RECURSIVE names(metric) AS (SELECT min(metric) FROM meterline_series"
            + " UNION ALL SELECT (SELECT min(s.metric) FROM meterline_series s WHERE s.metric > names.metric)"
            + " FROM names WHERE names.metric IS NOT NULL) SELECT metric FROM names WHERE metric IS NOT NULL";
    static final String DELETE_BEFORE = "DELETE FROM meterline_window WHERE metric = ? AND resolution_ms = ?"
            + " AND start_ms < ? AND replica = ?";
    /**
     * Forgets a metric's series with no row left. The unique key leads with (metric, resolution, start), so no
     * index finds a series' rows by its id: both statements read the series ids of the metric's rows once from the
     * key. PostgreSQL plans its {@code NOT EXISTS} as an anti-join; SQLite would run a correlated one once per
     * series, so it is given the set of stored ids instead.
     */
    static final String PRUNE_POSTGRES = "DELETE FROM meterline_series WHERE metric = ? AND NOT EXISTS"
            + " (SELECT 1 FROM meterline_window w WHERE w.metric = meterline_series.metric"
            + " AND w.series_id = meterline_series.id)";
    static final String PRUNE_SQLITE = "DELETE FROM meterline_series WHERE metric = ? AND id NOT IN"
            + " (SELECT series_id FROM meterline_window WHERE metric = ?)";

    private static final int COLUMN_COUNT = 17;
    /**
     * Series one PostgreSQL statement looks up by text at most ({@link #LOOK_UP_SERIES}): few enough that the plan's
     * estimated cost stays below the default {@code jit_above_cost}, so that no statement is compiled first.
     */
    private static final int TEXTS_PER_LOOKUP = 4_096;
    /**
     * The id of each (metric, tag text) of two arrays, NULL for a series not stored, with its place in the arrays:
     * a subquery per series, which PostgreSQL runs as one seek in the unique key. A join of the same arrays is planned
     * by their length, and for 16 384 texts among a million series it read the whole series table into a hash.
     */
    private static final String LOOK_UP_SERIES = "SELECT q.n, (SELECT s.id FROM meterline_series s"
            + " WHERE s.metric = q.metric AND s.tags = q.tags) FROM unnest(?::text[], ?::text[]) WITH ORDINALITY"
            + " AS q(metric, tags, n)";
    /**
     * The next {@code ?} values of {@code meterline_series}' identity sequence; the sequence is named once (a
     * materialized query), not once per value.
     */
    private static final String NEXT_SERIES_IDS = "WITH s AS MATERIALIZED (SELECT"
            + " pg_get_serial_sequence('meterline_series', 'id')::regclass AS seq)"
            + " SELECT nextval(s.seq) FROM s CROSS JOIN generate_series(1, ?)";
    /** Series ids PostgreSQL sends at a time while new series take theirs. */
    private static final int IDS_PER_FETCH = 16_384;
    /** PostgreSQL's SQLSTATE for a unique key that already holds the value. */
    private static final String UNIQUE_VIOLATION = "23505";

    private final Dialect dialect;
    private final String readWritten;
    private final String readFiner;
    /** The series that reads by named values selected, kept; null when every read scans the tag texts. */
    private final StoredSelections selections;

    /** SQL in {@code dialect}, each read by named values scanning the metric's tag texts. */
    WindowTable(Dialect dialect) {
        this(dialect, null);
    }

    /**
     * As above, the series that reads by named values select kept in {@code selections} (null, or one that keeps
     * none, for none), read in the same dialect.
     */
    WindowTable(Dialect dialect, StoredSelections selections) {
        if (selections != null && selections.dialect() != dialect) {
            throw new IllegalArgumentException("selections: read in " + selections.dialect() + " (expected: "
                    + dialect + ")");
        }
        this.dialect = dialect;
        this.readWritten = readWritten(dialect);
        this.readFiner = readFiner(dialect);
        this.selections = selections != null && selections.keeps() ? selections : null;
    }

    /** One stored row, as rollup and read see it. */
    record Row(long id, String replica, String metric, long seriesId, String tags, long resolution, long start,
               long flushSeq, Aggregate aggregate, boolean complete, long mergedThrough) {
    }

    /** The rows a read found, and how it found them. */
    record Selected(List<Row> rows, StoreReadPath path) {

        static final Selected NONE = new Selected(List.of(), StoreReadPath.NONE);
    }

    /**
     * What a write stored: the series epoch it held, the series it found or put in {@code meterline_series}, and
     * whether it knows none of them to have been there before (PostgreSQL only: false on SQLite).
     */
    record Stored(long epoch, NewSeries series, boolean allNew) {
    }

    /** Inserts written partials, skipping any already stored under the same key, and records the flush sequence. */
    void insert(Connection c, String replica, List<Window> windows) throws SQLException {
        SeriesTexts once = new SeriesTexts(Integer.MAX_VALUE);
        WindowTexts texts = once.of(windows);
        int[] rank = new int[texts.size()];
        int[] metricRank = new int[texts.size()];
        texts.rank(rank, metricRank);
        insert(c, replica, windows, texts, rank, IndexOrder.of(windows, texts, rank, metricRank), true, false);
    }

    /**
     * As above, with the texts of each window's series ({@code texts}, in the order of {@code windows}), their ranks
     * from one ranking ({@link WindowTexts#rank}), and the windows' indexes in the key's order by texts
     * ({@link IndexOrder}), which this reorders in place by series id within each start once the ids are known. Reads
     * the series epoch, which the transaction then holds against series being forgotten, and inserts into
     * {@code meterline_series} each series not known to be there in that epoch, reading its id, before the rows that
     * carry it; {@code assumeNew} takes those series to be new to the table ({@link #storeSeries}). Unless
     * {@code raiseFlushSeq}, the replica's {@code last_flush_seq} is left as it is (a part of a flush written ahead
     * of the rest, see {@link Store#writePart}).
     */
    Stored insert(Connection c, String replica, List<Window> windows, WindowTexts texts, int[] rank,
                  int[] order, boolean raiseFlushSeq, boolean assumeNew) throws SQLException {
        long epoch = seriesEpoch(c);
        NewSeries newSeries = SeriesTexts.unstored(texts, rank, epoch);
        boolean allNew = !newSeries.isEmpty() && storeSeries(c, newSeries, assumeNew);
        // The ids as this write holds them: a series stored since the texts were found (by a write of another part
        // of the flush) has its id only now.
        newSeries.keepIds();
        texts.readIds();
        // Every series now has its id: a start's rows go in by id, the unique key's order, wherever the ids do not
        // follow the texts' order (series stored over time, or again after being forgotten).
        IndexOrder.byIds(windows, texts, order);
        long maxSeq = 0;
        long minSeq = Long.MAX_VALUE;
        for (Window w : windows) {
            maxSeq = Math.max(maxSeq, w.flushSeq());
            minSeq = Math.min(minSeq, w.flushSeq());
        }
        // In (metric, resolution, start) order, as the unique index, so that it grows in few places; a flush
        // holds each series, resolution and start once, so the order of its rows carries no meaning. The order is
        // stable: of a backlog's flushes, oldest first, the older partial of a window keeps the lower id.
        if (dialect == Dialect.POSTGRES) {
            copy(c, replica, windows, texts, order, minSeq);
        } else {
            SqliteRows.write(c, COLUMNS, replica, windows, texts, order);
        }
        if (raiseFlushSeq) {
            try (PreparedStatement ps = c.prepareStatement(dialect.raiseFlushSeq)) {
                ps.setString(1, replica);
                ps.setLong(2, maxSeq);
                ps.executeUpdate();
            }
        }
        return new Stored(epoch, newSeries, allNew);
    }

    /**
     * The series epoch, held until the caller's transaction ends against series being forgotten meanwhile: a text
     * whose series was stored in this epoch still has its row in {@code meterline_series} and its id.
     */
    private long seriesEpoch(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(dialect.writeEpoch);
             ResultSet rs = ps.executeQuery()) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /**
     * Inserts each series of {@code series} (in the stored order, so replicas adding the same series take their row
     * locks in one order) unless present, and sets every one's id; returns whether none was present
     * (SQLite does not tell: false). SQLite goes through {@link SqliteSeries}. PostgreSQL copies them as all new
     * ({@link #copySeries}) when {@code assumeNew} and none of them was stored in an earlier epoch; otherwise, or when
     * the copy meets a stored series, it looks them up first ({@link #lookUpSeries}) and copies only the series it
     * did not find, so that a stored series keeps its id and takes no value of the identity sequence.
     */
    private boolean storeSeries(Connection c, NewSeries series, boolean assumeNew) throws SQLException {
        if (dialect != Dialect.POSTGRES) {
            SqliteSeries.store(c, series);
            return false;
        }
        if (assumeNew && !series.storedBefore() && copySeries(c, series)) {
            return true;
        }
        int[] missing = lookUpSeries(c, series);
        if (missing.length == 0) {
            return false;
        }
        NewSeries rest = series.only(missing, missing.length);
        boolean copied = copySeries(c, rest);
        if (!copied) {
            // Another replica stored one of them since the look-up: each goes in unless present.
            insertSeries(c, rest);
        }
        for (int k = 0; k < missing.length; k++) {
            series.id(missing[k], rest.id(k));
        }
        return copied && missing.length == series.size();
    }

    /** Whether {@code meterline_series} holds no series. */
    boolean noSeries(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT NOT EXISTS (SELECT 1 FROM meterline_series)");
             ResultSet rs = ps.executeQuery()) {
            rs.next();
            return rs.getBoolean(1);
        }
    }

    /**
     * PostgreSQL: sets the id of each series of {@code series} that {@code meterline_series} holds, and returns the
     * places in {@code series} of the others, rising; up to {@value #TEXTS_PER_LOOKUP} series per statement, one seek
     * each, taking no lock.
     */
    private static int[] lookUpSeries(Connection c, NewSeries series) throws SQLException {
        int[] missing = new int[series.size()];
        int count = 0;
        try (PreparedStatement ps = c.prepareStatement(LOOK_UP_SERIES)) {
            ps.unwrap(PGStatement.class).setPrepareThreshold(-1);
            boolean[] found = new boolean[Math.min(series.size(), TEXTS_PER_LOOKUP)];
            for (int from = 0; from < series.size(); from += TEXTS_PER_LOOKUP) {
                int n = Math.min(series.size() - from, TEXTS_PER_LOOKUP);
                String[] metrics = new String[n];
                String[] tags = new String[n];
                for (int i = 0; i < n; i++) {
                    metrics[i] = series.metric(from + i);
                    tags[i] = series.tags(from + i);
                }
                ps.setArray(1, c.createArrayOf("text", metrics));
                ps.setArray(2, c.createArrayOf("text", tags));
                Arrays.fill(found, false);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        long id = rs.getLong(2);
                        if (!rs.wasNull()) {
                            int i = rs.getInt(1) - 1;
                            series.id(from + i, id);
                            found[i] = true;
                        }
                    }
                }
                for (int i = 0; i < n; i++) {
                    if (!found[i]) {
                        missing[count++] = from + i;
                    }
                }
            }
        }
        return Arrays.copyOf(missing, count);
    }

    /**
     * PostgreSQL, series taken to be new: takes their ids from the table's identity sequence in one statement and
     * streams the rows with binary {@code COPY}. Each series is then one plain insert, where
     * {@code INSERT ... ON CONFLICT} inserts speculatively (the key looked up, the row inserted, the insert
     * confirmed) and its ids are looked up by text once more. Returns false, with nothing stored and the ids taken
     * left unused, when a series is there already (another replica stored it meanwhile, or the store did not know
     * it). A copy that meets a stored series part way has inserted the rows before it for nothing.
     */
    private static boolean copySeries(Connection c, NewSeries series) throws SQLException {
        Savepoint before = c.setSavepoint();
        try {
            takeSeriesIds(c, series);
            CopyManager copies = c.unwrap(PGConnection.class).getCopyAPI();
            CopyRows rows = new CopyRows(copies.copyIn(
                    "COPY meterline_series (id, metric, tags) FROM STDIN (FORMAT binary)"));
            try {
                String metricText = null;
                byte[] metric = null;
                for (int k = 0; k < series.size(); k++) {
                    String metricOf = series.metric(k);
                    if (metricOf != metricText) {
                        metricText = metricOf;
                        metric = metricText.getBytes(StandardCharsets.UTF_8);
                    }
                    rows.row(3);
                    rows.int8(series.id(k));
                    rows.bytes(metric);
                    series.tagsTo(k, rows);
                }
                rows.finish();
            } catch (SQLException | RuntimeException e) {
                rows.cancel();
                throw e;
            }
            c.releaseSavepoint(before);
            return true;
        } catch (SQLException e) {
            if (!UNIQUE_VIOLATION.equals(e.getSQLState())) {
                throw e;
            }
            c.rollback(before);
            return false;
        }
    }

    /**
     * Sets each series' id to the next value of {@code meterline_series}' identity sequence, read
     * {@value #IDS_PER_FETCH} at a time so that a million new series do not hold their ids twice in memory.
     */
    private static void takeSeriesIds(Connection c, NewSeries series) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(NEXT_SERIES_IDS)) {
            ps.unwrap(PGStatement.class).setPrepareThreshold(-1);
            ps.setFetchSize(IDS_PER_FETCH);
            ps.setInt(1, series.size());
            int i = 0;
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    series.id(i++, rs.getLong(1));
                }
            }
            if (i != series.size()) {
                throw new SQLException(i + " series ids for " + series.size() + " series");
            }
        }
    }

    /**
     * PostgreSQL: inserts the series unless present, each speculatively and taking a value of the identity sequence
     * either way, then looks up their ids.
     */
    private static void insertSeries(Connection c, NewSeries series) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "INSERT INTO meterline_series (metric, tags) VALUES (?, ?) ON CONFLICT DO NOTHING")) {
            for (int k = 0; k < series.size(); k++) {
                ps.setString(1, series.metric(k));
                ps.setString(2, series.tags(k));
                ps.addBatch();
            }
            ps.executeBatch();
        }
        int[] missing = lookUpSeries(c, series);
        if (missing.length > 0) {
            throw new SQLException(missing.length + " series missing after their insert, the first "
                    + series.metric(missing[0]) + series.tags(missing[0]));
        }
    }

    /**
     * PostgreSQL: streams the rows with binary {@code COPY}. A stored row of a replica has a flush sequence at most
     * its {@code last_flush_seq}, raised in the same transaction as the rows, or belongs to a flush whose parts are
     * being written ahead of its last one (each part holds other series), so a write whose flushes all come later
     * meets a stored key only when it repeats such a part, and goes straight into the table. Any other write (a
     * retry, a backlog partly stored, the spool moved twice), or a direct copy that meets a key after all, goes
     * through a transaction-local staging table and {@code INSERT ... ON CONFLICT DO NOTHING}, which skips stored
     * keys.
     */
    private void copy(Connection c, String replica, List<Window> windows, WindowTexts texts, int[] order,
                      long minSeq) throws SQLException {
        if (minSeq > lastFlushSeq(c, replica)) {
            Savepoint before = c.setSavepoint();
            try {
                copyInto(c, "meterline_window", replica, windows, texts, order);
                c.releaseSavepoint(before);
                return;
            } catch (SQLException e) {
                if (!UNIQUE_VIOLATION.equals(e.getSQLState())) {
                    throw e;
                }
                c.rollback(before);
            }
        }
        try (Statement st = c.createStatement()) {
            st.execute("CREATE TEMP TABLE meterline_window_in ON COMMIT DROP AS SELECT " + COLUMNS
                    + " FROM meterline_window WITH NO DATA");
            copyInto(c, "meterline_window_in", replica, windows, texts, order);
            st.executeUpdate("INSERT INTO meterline_window (" + COLUMNS + ") SELECT " + COLUMNS
                    + " FROM meterline_window_in ON CONFLICT DO NOTHING");
            st.execute("DROP TABLE meterline_window_in");
        }
    }

    private static void copyInto(Connection c, String table, String replica, List<Window> windows,
                                 WindowTexts texts, int[] order) throws SQLException {
        CopyManager copies = c.unwrap(PGConnection.class).getCopyAPI();
        CopyRows rows = new CopyRows(copies.copyIn("COPY " + table + " (" + COLUMNS + ") FROM STDIN (FORMAT binary)"));
        try {
            byte[] replicaText = replica.getBytes(StandardCharsets.UTF_8);
            String metricText = null;
            byte[] metric = null;
            for (int i : order) {
                String metricOf = texts.metric(i);
                if (metricOf != metricText) {
                    metricText = metricOf;
                    metric = metricText.getBytes(StandardCharsets.UTF_8);
                }
                Window w = windows.get(i);
                Aggregate a = w.aggregate();
                boolean empty = a.count() == 0;
                rows.row(COLUMN_COUNT);
                rows.bytes(replicaText);
                rows.bytes(metric);
                rows.int8(texts.id(i));
                rows.int8(w.resolution());
                rows.int8(w.start());
                rows.int8(w.flushSeq());
                rows.int8(a.count());
                rows.float8(a.sum());
                rows.float8OrNull(empty ? Double.NaN : a.min());
                rows.float8OrNull(empty ? Double.NaN : a.max());
                rows.float8OrNull(a.last());
                rows.int8(a.firstTimestamp());
                rows.int8(a.lastTimestamp());
                rows.int8(a.late());
                rows.bool(w.complete());
                rows.bytes(a.sketchBytes());
                rows.int8(0);
            }
            rows.finish();
        } catch (SQLException | RuntimeException e) {
            rows.cancel();
            throw e;
        }
    }

    /** A rolled-up row to insert (id 0) or to replace in place (its id). */
    record Rolled(long id, long seriesId, long flushSeq, Aggregate aggregate, boolean complete, long mergedThrough) {
    }

    /**
     * Stores a coarse window's rolled-up rows of {@code metric}: inserts those without an id and replaces the others
     * in place, keeping their ids; each kind in one batch, which PostgreSQL's driver sends as multi-row statements,
     * rather than a round trip per series.
     */
    void storeRollups(Connection c, String replica, String metric, long resolution, long start, List<Rolled> rows)
            throws SQLException {
        try (PreparedStatement insert = c.prepareStatement("INSERT INTO meterline_window (" + COLUMNS + ")"
                + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
             PreparedStatement update = c.prepareStatement("UPDATE meterline_window SET flush_seq = ?,"
                     + " value_count = ?, value_sum = ?, value_min = ?, value_max = ?, value_last = ?, first_ts = ?,"
                     + " last_ts = ?, late = ?, complete = ?, sketch = ?, merged_through = ? WHERE id = ?")) {
            int inserts = 0;
            int updates = 0;
            for (Rolled r : rows) {
                if (r.id() == 0) {
                    bind(insert, replica, metric, r.seriesId(), resolution, start, r.flushSeq(), r.aggregate(),
                            r.complete(), r.mergedThrough());
                    insert.addBatch();
                    inserts++;
                } else {
                    update.setLong(1, r.flushSeq());
                    bindAggregate(update, 2, r.aggregate());
                    update.setBoolean(10, r.complete());
                    update.setBytes(11, r.aggregate().sketchBytes());
                    update.setLong(12, r.mergedThrough());
                    update.setLong(13, r.id());
                    update.addBatch();
                    updates++;
                }
            }
            if (inserts > 0) {
                insert.executeBatch();
            }
            if (updates > 0) {
                update.executeBatch();
            }
        }
    }

    private static void bind(PreparedStatement ps, String replica, String metric, long seriesId, long resolution,
                             long start, long flushSeq, Aggregate a, boolean complete, long mergedThrough)
            throws SQLException {
        ps.setString(1, replica);
        ps.setString(2, metric);
        ps.setLong(3, seriesId);
        ps.setLong(4, resolution);
        ps.setLong(5, start);
        ps.setLong(6, flushSeq);
        bindAggregate(ps, 7, a);
        ps.setBoolean(15, complete);
        ps.setBytes(16, a.sketchBytes());
        ps.setLong(17, mergedThrough);
    }

    /** Binds count, sum, min, max, last, first_ts, last_ts, late from {@code i}; NaN and empty bounds as NULL. */
    static void bindAggregate(PreparedStatement ps, int i, Aggregate a) throws SQLException {
        boolean empty = a.count() == 0;
        ps.setLong(i, a.count());
        ps.setDouble(i + 1, a.sum());
        setDouble(ps, i + 2, empty ? Double.NaN : a.min());
        setDouble(ps, i + 3, empty ? Double.NaN : a.max());
        setDouble(ps, i + 4, a.last());
        ps.setLong(i + 5, a.firstTimestamp());
        ps.setLong(i + 6, a.lastTimestamp());
        ps.setLong(i + 7, a.late());
    }

    private static void setDouble(PreparedStatement ps, int i, double v) throws SQLException {
        // SQLite stores NaN as NULL anyway; writing NULL in both dialects keeps them alike.
        if (Double.isNaN(v)) {
            ps.setNull(i, Types.DOUBLE);
        } else {
            ps.setDouble(i, v);
        }
    }

    /**
     * Rows of {@code metric} at {@code resolution} with start in [from, to) whose tags text {@code tags} accepts, in
     * id (write) order; a row that is not wanted is skipped before its aggregate is decoded.
     *
     * <p>The rows are keyed by (metric, resolution, start, series), time first, so a range read walks every series of
     * the metric: a dashboard asking for one series of a metric with 100 000 over an hour of 10 s windows would read
     * 36 million rows. When the series {@code tags} accepts are a quarter of the metric's or fewer, and their windows
     * in the range few enough ({@link #MOST_LOOKUPS}), their rows are looked up instead, a seek in the unique key per
     * (start, series) pair: the starts of a resolution's rows are its multiples. (With values named, only the series
     * that have them are read, so the seeks are taken whenever they are few enough.) The starts are counted within
     * the metric's oldest and newest stored ones, two seeks, so that a range open at its end, as a dashboard's query
     * is, looks its rows up too.
     *
     * <p>{@code named} names values a series must have: the metric's series are read only where their tag text holds
     * one of the texts of each list ({@link #seriesTexts}), so that a read of one host of 100 000 moves a few tag texts
     * from the database and decodes them, not 100 000. A text found is not proof of a value: {@code tags} still
     * decides. With {@link StoredSelections}, the series those texts select are kept, and a repeat reads only the
     * series stored since rather than testing every tag text of the metric again.
     */
    Selected select(Connection c, String metric, long resolution, long from, long to, TagValues named,
                    Predicate<String> tags) throws SQLException {
        long[] stored = storedStarts(c, metric, resolution);
        if (stored == null) {
            return Selected.NONE;
        }
        long lo = Math.max(from, stored[0]);
        if (to <= lo) {
            return Selected.NONE;
        }
        long first = Math.floorDiv(lo, resolution) * resolution;
        if (first < lo) {
            first += resolution;
        }
        long last = Math.min(to - 1, stored[1]);
        if (first > last) {
            return Selected.NONE;
        }
        long starts = (last - first) / resolution + 1;
        if (starts <= MOST_LOOKUPS) {
            List<Long> wanted = new ArrayList<>();
            int[] read = {0};
            List<List<String>> texts = seriesTexts(named);
            eachSeriesWith(c, metric, texts, 0, (id, text) -> {
                read[0]++;
                if (tags.test(text)) {
                    wanted.add(id);
                }
                return true;
            });
            // With values named, the series read are those that have them, not all of the metric's.
            int all = texts.isEmpty() ? read[0] : Integer.MAX_VALUE;
            if (wanted.isEmpty()) {
                return Selected.NONE;
            }
            if (looksUp(wanted.size(), all, starts)) {
                return new Selected(lookUp(c, metric, resolution, first, (int) starts, wanted), StoreReadPath.SEEK);
            }
        }
        try (PreparedStatement ps = c.prepareStatement(READ)) {
            ps.setString(1, metric);
            ps.setLong(2, resolution);
            ps.setLong(3, first);
            ps.setLong(4, last + 1);
            List<Row> rows = rows(ps, tags, metric);
            // Stable, and one pass over rows already in order.
            rows.sort(Comparator.comparingLong(Row::id));
            return new Selected(rows, StoreReadPath.RANGE);
        }
    }

    /**
     * The texts a series' tag text holds one of, for each list, when it has the values {@code named} names: a value
     * under its key as {@code "key":"value"} ({@link TagsJson#pair}), a value under any key as {@code :"value"}
     * ({@link TagsJson#value}). Every text of a series that has the values holds them, escapes and all; a list that
     * names nothing gives none, so that the caller's test decides alone.
     */
    static List<List<String>> seriesTexts(TagValues named) {
        List<List<String>> out = new ArrayList<>();
        for (Map.Entry<String, List<String>> e : named.byKey().entrySet()) {
            if (!e.getValue().isEmpty()) {
                out.add(e.getValue().stream().map(v -> TagsJson.pair(e.getKey(), v)).toList());
            }
        }
        for (List<String> values : named.anyKey()) {
            if (!values.isEmpty()) {
                out.add(values.stream().map(TagsJson::value).toList());
            }
        }
        return out;
    }

    /** {@link #SERIES_OF_METRIC}, of the series whose tag text holds one of the texts of each list of {@code texts}. */
    static String seriesWith(Dialect dialect, List<List<String>> texts) {
        StringBuilder sql = new StringBuilder(SERIES_OF_METRIC);
        appendHolding(sql, dialect, texts);
        return sql.toString();
    }

    /**
     * Appends to {@code sql} the condition that a series' tag text ({@code tags}) holds one of the texts of each list
     * of {@code texts}, a parameter per text, in the order {@link #bindTexts} binds them.
     */
    static void appendHolding(StringBuilder sql, Dialect dialect, List<List<String>> texts) {
        String holds = dialect == Dialect.POSTGRES ? "strpos(tags, ?) > 0" : "instr(tags, ?) > 0";
        for (List<String> any : texts) {
            sql.append(" AND (").append(holds);
            for (int i = 1; i < any.size(); i++) {
                sql.append(" OR ").append(holds);
            }
            sql.append(')');
        }
    }

    /** Binds the texts of {@link #appendHolding}'s condition from parameter {@code p} on; the next parameter. */
    static int bindTexts(PreparedStatement ps, int p, List<List<String>> texts) throws SQLException {
        for (List<String> any : texts) {
            for (String text : any) {
                ps.setString(p++, text);
            }
        }
        return p;
    }

    /** {@link #seriesWith} prepared for {@code metric}'s series whose tag text holds {@code texts}, bound. */
    private PreparedStatement prepareSeriesWith(Connection c, String metric, List<List<String>> texts)
            throws SQLException {
        PreparedStatement ps = c.prepareStatement(seriesWith(dialect, texts));
        try {
            ps.setString(1, metric);
            bindTexts(ps, 2, texts);
            return ps;
        } catch (SQLException | RuntimeException e) {
            ps.close();
            throw e;
        }
    }

    /**
     * The series {@code wanted} gives (null for none) of {@code metric}'s series whose tag text holds the texts of the
     * values {@code named} names ({@link #seriesTexts}; a text found is not proof of a value), read until it has given
     * {@code limit}. With values named and {@link StoredSelections}, those series are the selection a read by the same
     * values keeps, brought up to date, so that a repeated listing of one host of 100 000 series reads only the series
     * stored since rather than every tag text of the metric.
     */
    <T> List<T> seriesTags(Connection c, String metric, TagValues named, Function<String, T> wanted, int limit)
            throws SQLException {
        List<T> out = new ArrayList<>();
        if (limit <= 0) {
            return out;
        }
        eachSeriesWith(c, metric, seriesTexts(named), 1_024, (id, text) -> {
            T t = wanted.apply(text);
            if (t != null) {
                out.add(t);
            }
            return out.size() < limit;
        });
        return out;
    }

    /** Receives a stored series' id and tag text; false when it wants no more. */
    private interface SeriesRow {
        boolean accept(long id, String tags) throws SQLException;
    }

    /**
     * Gives {@code row} each of {@code metric}'s series whose tag text holds {@code texts} ({@link #seriesTexts}),
     * until it wants no more: with texts and {@link StoredSelections}, the series of the selection those texts keep,
     * brought up to date (a repeat reads only the series stored since); else read by {@link #seriesWith}, in rows
     * fetched {@code fetchSize} at a time (0: the driver's default).
     */
    private void eachSeriesWith(Connection c, String metric, List<List<String>> texts, int fetchSize, SeriesRow row)
            throws SQLException {
        if (selections != null && !texts.isEmpty()) {
            StoredSelections.Series held = selections.select(c, metric, texts);
            for (int i = 0; i < held.size(); i++) {
                if (!row.accept(held.ids()[i], held.tags()[i])) {
                    return;
                }
            }
            return;
        }
        try (PreparedStatement ps = prepareSeriesWith(c, metric, texts)) {
            if (fetchSize > 0) {
                ps.setFetchSize(fetchSize);
            }
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    if (!row.accept(rs.getLong(1), rs.getString(2))) {
                        return;
                    }
                }
            }
        }
    }

    /**
     * The distinct values of tag {@code key} among at most {@code limit} of {@code metric}'s stored series, and the
     * count of series read, the database reading each value out of the tag text: the series' texts never leave it,
     * where a listing of a tag's values over a metric of 100 000 series would otherwise carry each text over and
     * parse it. Null when SQLite's JSON path cannot name the key (it holds a quote, a backslash or a control
     * character); the caller then reads the texts.
     */
    SeriesValues tagValues(Connection c, String metric, String key, int limit) throws SQLException {
        String name = key;
        boolean postgres = dialect == Dialect.POSTGRES;
        if (!postgres) {
            for (int i = 0; i < key.length(); i++) {
                char ch = key.charAt(i);
                if (ch == '"' || ch == '\\' || ch < 0x20) {
                    return null;
                }
            }
            name = "$.\"" + key + "\"";
        }
        Set<String> values = new HashSet<>();
        long series = 0;
        try (PreparedStatement ps = c.prepareStatement(postgres ? TAG_VALUES_POSTGRES : TAG_VALUES_SQLITE)) {
            ps.setString(1, name);
            ps.setString(2, metric);
            ps.setInt(3, limit);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    String value = rs.getString(1);
                    if (value != null) {
                        values.add(value);
                    }
                    series += rs.getLong(2);
                }
            }
        }
        return new SeriesValues(values, (int) series);
    }

    /** The oldest and newest start of {@code metric}'s rows at {@code resolution}; null when it has none. */
    private static long[] storedStarts(Connection c, String metric, long resolution) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(STORED_STARTS)) {
            ps.setString(1, metric);
            ps.setLong(2, resolution);
            ps.setString(3, metric);
            ps.setLong(4, resolution);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return null;
                }
                long oldest = rs.getLong(1);
                return rs.wasNull() ? null : new long[] {oldest, rs.getLong(2)};
            }
        }
    }

    /** Whether a read of {@code wanted} series of {@code all} over {@code starts} window starts looks its rows up. */
    static boolean looksUp(int wanted, int all, long starts) {
        return 4L * wanted <= all && wanted * starts <= MOST_LOOKUPS;
    }

    /** The rows of series {@code ids} of {@code metric} at the {@code starts} starts from {@code first}, by id. */
    private static List<Row> lookUp(Connection c, String metric, long resolution, long first, int starts,
                                    List<Long> ids) throws SQLException {
        List<Row> out = new ArrayList<>();
        int startsPer = Math.min(starts, STARTS_PER_LOOKUP);
        for (int s = 0; s < starts; s += startsPer) {
            int ns = Math.min(startsPer, starts - s);
            for (int i = 0; i < ids.size(); i += SERIES_PER_LOOKUP) {
                int ni = Math.min(SERIES_PER_LOOKUP, ids.size() - i);
                try (PreparedStatement ps = c.prepareStatement(lookUpRows(ns, ni))) {
                    int p = 1;
                    ps.setString(p++, metric);
                    ps.setLong(p++, resolution);
                    for (int k = 0; k < ns; k++) {
                        ps.setLong(p++, first + (s + k) * resolution);
                    }
                    for (int k = 0; k < ni; k++) {
                        ps.setLong(p++, ids.get(i + k));
                    }
                    out.addAll(rows(ps, t -> true, metric));
                }
            }
        }
        out.sort(Comparator.comparingLong(Row::id));
        return out;
    }

    /** The rows of {@code ids} series of a metric at {@code starts} window starts: equalities on the key's columns. */
    static String lookUpRows(int starts, int ids) {
        return SELECT + " WHERE w.metric = ? AND w.resolution_ms = ? AND w.start_ms IN (" + marks(starts)
                + ") AND w.series_id IN (" + marks(ids) + ")";
    }

    private static String marks(int n) {
        return "?" + ",?".repeat(n - 1);
    }

    /**
     * The newest window start of {@code metric} over every resolution it has rows at, {@link Long#MIN_VALUE} when it
     * has none; two seeks in the unique key per resolution, however many rows the metric has.
     */
    long newestStart(Connection c, String metric) throws SQLException {
        long newest = Long.MIN_VALUE;
        try (PreparedStatement next = c.prepareStatement(NEXT_RESOLUTION);
             PreparedStatement last = c.prepareStatement(NEWEST_START)) {
            long resolution = Long.MIN_VALUE;
            while (true) {
                next.setString(1, metric);
                next.setLong(2, resolution);
                try (ResultSet rs = next.executeQuery()) {
                    if (!rs.next()) {
                        return newest;
                    }
                    resolution = rs.getLong(1);
                    if (rs.wasNull()) {
                        return newest;
                    }
                }
                last.setString(1, metric);
                last.setLong(2, resolution);
                try (ResultSet rs = last.executeQuery()) {
                    if (rs.next()) {
                        long start = rs.getLong(1);
                        if (!rs.wasNull()) {
                            newest = Math.max(newest, start);
                        }
                    }
                }
            }
        }
    }

    /** How many distinct window starts {@code metric}'s rows at {@code resolution} have in [from, to). */
    int countStarts(Connection c, String metric, long resolution, long from, long to) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(COUNT_STARTS)) {
            bindStarts(ps, metric, resolution, from, to);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getInt(1) : 0;
            }
        }
    }

    /**
     * The last series of a rollup batch of this replica's rows of {@code metric} at {@code resolution} starting in
     * [from, to), the batch after series {@code afterSeries}: the series that ends it when it holds about
     * {@code perStart} rows at each start ({@link #BATCH_END}), else {@link Long#MAX_VALUE}, every series after
     * {@code afterSeries}. Whatever rows it counts, of any kind, only make the batch smaller.
     */
    long batchEnd(Connection c, String replica, String metric, long resolution, long from, long to,
                  long afterSeries, int perStart) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(BATCH_END)) {
            int i = bindStarts(ps, metric, resolution, from, to);
            ps.setString(i++, metric);
            ps.setLong(i++, resolution);
            ps.setLong(i++, afterSeries);
            ps.setString(i++, replica);
            ps.setInt(i, perStart - 1);
            try (ResultSet rs = ps.executeQuery()) {
                long end = rs.next() ? rs.getLong(1) : 0;
                return rs.wasNull() ? Long.MAX_VALUE : end;
            }
        }
    }

    /**
     * This replica's written partials of {@code metric} at {@code resolution} starting in [from, to), of the series
     * with ids in (afterSeries, throughSeries], as {@link #readWritten} orders them: a batch of a coarse window,
     * which in all may hold millions of partials (an hour of 10 s windows is 360 a series).
     */
    List<Row> selectWritten(Connection c, String replica, String metric, long resolution, long from, long to,
                            long afterSeries, long throughSeries) throws SQLException {
        return selectBatch(c, readWritten, replica, metric, resolution, from, to, afterSeries, throughSeries);
    }

    /**
     * As {@link #selectWritten}, of this replica's rolled-up rows, as {@link #readFiner} orders them: the rows of a
     * finer tier that a coarse window is rolled up from.
     */
    List<Row> selectFiner(Connection c, String replica, String metric, long resolution, long from, long to,
                          long afterSeries, long throughSeries) throws SQLException {
        return selectBatch(c, readFiner, replica, metric, resolution, from, to, afterSeries, throughSeries);
    }

    private List<Row> selectBatch(Connection c, String sql, String replica, String metric, long resolution, long from,
                                  long to, long afterSeries, long throughSeries) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            binaryResults(ps);
            int i = bindStarts(ps, metric, resolution, from, to);
            ps.setString(i++, metric);
            ps.setLong(i++, resolution);
            ps.setLong(i++, afterSeries);
            ps.setLong(i++, throughSeries);
            ps.setString(i, replica);
            List<Row> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(ownRow(rs, replica, metric));
                }
            }
            return out;
        }
    }

    /** Binds the seven parameters of {@link #STARTS}; returns the index of the next. */
    private static int bindStarts(PreparedStatement ps, String metric, long resolution, long from, long to)
            throws SQLException {
        ps.setString(1, metric);
        ps.setLong(2, resolution);
        ps.setLong(3, from);
        ps.setLong(4, to);
        ps.setString(5, metric);
        ps.setLong(6, resolution);
        ps.setLong(7, to);
        return 8;
    }

    /**
     * This replica's rolled-up rows of {@code metric} at {@code resolution} starting in [from, to), of the series
     * with ids from {@code firstSeries} through {@code lastSeries}: one range of the unique key per start.
     */
    List<Row> selectRolledUp(Connection c, String replica, String metric, long resolution, long from, long to,
                             long firstSeries, long lastSeries) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(READ_ROLLED)) {
            binaryResults(ps);
            bindOwn(ps, replica, metric, resolution, from, to);
            ps.setLong(6, firstSeries);
            ps.setLong(7, lastSeries);
            List<Row> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(ownRow(rs, replica, metric));
                }
            }
            return out;
        }
    }

    /**
     * PostgreSQL: has the driver ask for the results in binary from the first execution on, where it would send
     * text (numbers the client then parses) until a statement had run a few times on a connection.
     */
    private void binaryResults(PreparedStatement ps) throws SQLException {
        if (dialect == Dialect.POSTGRES) {
            ps.unwrap(PGStatement.class).setPrepareThreshold(-1);
        }
    }

    /** A row of {@link #READ_OWN}'s columns, of {@code replica} and {@code metric}, with an empty tag text. */
    private static Row ownRow(ResultSet rs, String replica, String metric) throws SQLException {
        Aggregate a = Aggregate.restore(rs.getLong(6), rs.getDouble(7), getDouble(rs, 8), getDouble(rs, 9),
                getDouble(rs, 10), rs.getLong(11), rs.getLong(12), rs.getLong(13), rs.getBytes(15));
        return new Row(rs.getLong(1), replica, metric, rs.getLong(2), "", rs.getLong(3), rs.getLong(4),
                rs.getLong(5), a, rs.getBoolean(14), rs.getLong(16));
    }

    /** Binds the five parameters {@link #READ_ROLLED} begins with. */
    private static void bindOwn(PreparedStatement ps, String replica, String metric, long resolution, long from,
                                long to) throws SQLException {
        ps.setString(1, metric);
        ps.setLong(2, resolution);
        ps.setLong(3, from);
        ps.setLong(4, to);
        ps.setString(5, replica);
    }

    /** Up to {@code limit} rows of every metric, oldest (lowest id) first. */
    List<Row> selectOldest(Connection c, int limit) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(SELECT + " ORDER BY w.id LIMIT ?")) {
            ps.setInt(1, limit);
            return rows(ps, tags -> true, null);
        }
    }

    /** Deletes every row with id up to {@code throughId}; returns how many. */
    int deleteThrough(Connection c, long throughId) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("DELETE FROM meterline_window WHERE id <= ?")) {
            ps.setLong(1, throughId);
            return ps.executeUpdate();
        }
    }

    long countRows(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM meterline_window");
             ResultSet rs = ps.executeQuery()) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /**
     * The rows {@link #SELECT} reads whose tag text {@code wanted} accepts. A series' tag text is read and tested
     * once, at its first row: its other rows are taken or skipped by series id, and share the text. When
     * {@code metric} is not null the rows are all of it, and it is not read from each.
     */
    private static List<Row> rows(PreparedStatement ps, Predicate<String> wanted, String metric) throws SQLException {
        List<Row> out = new ArrayList<>();
        Map<Long, String> texts = new HashMap<>();
        try (ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                long series = rs.getLong(4);
                String tags = texts.get(series);
                if (tags == null) {
                    tags = rs.getString(5);
                    if (!wanted.test(tags)) {
                        tags = NOT_WANTED;
                    }
                    texts.put(series, tags);
                }
                if (tags != NOT_WANTED) {
                    out.add(row(rs, series, tags, metric));
                }
            }
        }
        return out;
    }

    /** Marks a series whose rows are skipped; compared by identity, never a tag text itself. */
    private static final String NOT_WANTED = new String("");

    /** A row of {@link #SELECT}'s columns, read by position. */
    private static Row row(ResultSet rs, long series, String tags, String metric) throws SQLException {
        Aggregate a = Aggregate.restore(rs.getLong(9), rs.getDouble(10), getDouble(rs, 11), getDouble(rs, 12),
                getDouble(rs, 13), rs.getLong(14), rs.getLong(15), rs.getLong(16), rs.getBytes(18));
        return new Row(rs.getLong(1), rs.getString(2), metric != null ? metric : rs.getString(3), series, tags,
                rs.getLong(6), rs.getLong(7), rs.getLong(8), a, rs.getBoolean(17), rs.getLong(19));
    }

    /** A nullable double column's value, NaN for SQL NULL (which reads as 0, so only a 0 is asked about). */
    private static double getDouble(ResultSet rs, int column) throws SQLException {
        double v = rs.getDouble(column);
        return v == 0 && rs.wasNull() ? Double.NaN : v;
    }

    /**
     * Where written partials sit: those of one (metric, resolution, start) among the rows scanned, with the lowest and
     * highest of their ids; enough for rollup to find the coarse windows they belong to.
     */
    record Written(long firstId, long lastId, String metric, long resolution, long start) {
    }

    /**
     * The written partials of this replica with id in (afterId, throughId], one entry per (metric, resolution, start)
     * in the order of their lowest ids: a flush writes a start's rows together, so a page of ids holds few of them,
     * and the rows themselves need not cross to the caller. Bounded by id on both sides rather than by a row count,
     * so that no plan reads and sorts every row after {@code afterId}: one that misjudged how many rows pass the
     * replica and kind (no statistics yet on a table that just grew) would, on every page.
     */
    List<Written> writtenBetween(Connection c, String replica, long afterId, long throughId) throws SQLException {
        List<Written> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT min(id), max(id), metric, resolution_ms, start_ms"
                + " FROM meterline_window WHERE id > ? AND id <= ? AND replica = ? AND merged_through = 0"
                + " GROUP BY metric, resolution_ms, start_ms ORDER BY min(id)")) {
            ps.setLong(1, afterId);
            ps.setLong(2, throughId);
            ps.setString(3, replica);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(new Written(rs.getLong(1), rs.getLong(2), rs.getString(3), rs.getLong(4),
                            rs.getLong(5)));
                }
            }
        }
        return out;
    }

    /** The highest row id of any replica, 0 for none. */
    long maxId(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT max(id) FROM meterline_window");
             ResultSet rs = ps.executeQuery()) {
            return rs.next() ? rs.getLong(1) : 0;
        }
    }

    long rollupWatermark(Connection c, String replica, long resolution) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT through_id FROM meterline_rollup WHERE replica = ? AND resolution_ms = ?")) {
            ps.setString(1, replica);
            ps.setLong(2, resolution);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getLong(1) : 0;
            }
        }
    }

    void setRollupWatermark(Connection c, String replica, long resolution, long throughId) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO meterline_rollup (replica, resolution_ms,"
                + " through_id) VALUES (?, ?, ?) ON CONFLICT (replica, resolution_ms)"
                + " DO UPDATE SET through_id = excluded.through_id")) {
            ps.setString(1, replica);
            ps.setLong(2, resolution);
            ps.setLong(3, throughId);
            ps.executeUpdate();
        }
    }

    /** Deletes this replica's rows of {@code metric} at {@code resolution} starting before {@code cutoff}. */
    int deleteBefore(Connection c, String replica, String metric, long resolution, long cutoff) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(DELETE_BEFORE)) {
            ps.setString(1, metric);
            ps.setLong(2, resolution);
            ps.setLong(3, cutoff);
            ps.setString(4, replica);
            return ps.executeUpdate();
        }
    }

    /**
     * Forgets series of {@code metric} that no longer have any row; returns how many. Waits for writes in progress
     * first and holds off new ones until commit, and when it forgets any, raises the series epoch: a write after it
     * stores again, with a new id, every series it had known to be stored.
     */
    int pruneSeries(Connection c, String metric) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(dialect.forgetLock);
             ResultSet rs = ps.executeQuery()) {
            rs.next();
        }
        int forgotten;
        try (PreparedStatement ps = c.prepareStatement(dialect == Dialect.POSTGRES ? PRUNE_POSTGRES : PRUNE_SQLITE)) {
            ps.setString(1, metric);
            if (dialect != Dialect.POSTGRES) {
                ps.setString(2, metric);
            }
            forgotten = ps.executeUpdate();
        }
        if (forgotten > 0) {
            try (PreparedStatement ps = c.prepareStatement("UPDATE meterline_series_epoch SET epoch = epoch + 1")) {
                ps.executeUpdate();
            }
        }
        return forgotten;
    }

    List<String> metricNames(Connection c) throws SQLException {
        List<String> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement(METRIC_NAMES);
             ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                out.add(rs.getString(1));
            }
        }
        return out;
    }

    Map<String, Long> metrics(Connection c) throws SQLException {
        Map<String, Long> out = new LinkedHashMap<>();
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT metric, count(*) FROM meterline_series GROUP BY metric ORDER BY metric");
             ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                out.put(rs.getString(1), rs.getLong(2));
            }
        }
        return out;
    }

    long lastFlushSeq(Connection c, String replica) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT last_flush_seq FROM meterline_replica WHERE replica = ?")) {
            ps.setString(1, replica);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getLong(1) : 0;
            }
        }
    }

    // ---- remote write export ---------------------------------------------------------------------------------
}
