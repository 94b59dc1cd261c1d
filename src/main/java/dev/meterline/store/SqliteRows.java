package dev.meterline.store;

import dev.meterline.model.Aggregate;
import dev.meterline.model.Window;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.List;

/**
 * A flush's rows into SQLite as multi-row {@code INSERT ... VALUES (...), (...), ... ON CONFLICT DO NOTHING}
 * statements of {@value #GROUP} rows each, then one statement of the remaining rows.
 *
 * <p>SQLite runs a statement's setup (its cursors on the table and the unique index, and the {@code AUTOINCREMENT}
 * counter's read and write in {@code sqlite_sequence}) once per statement, and the driver crosses into native code
 * for a reset and a step once per execution: a group shares them among its rows. Each row of a group is inserted or
 * skipped on its own, in the group's order, exactly as the same rows in single-row statements would be.
 *
 * <p>Every value bound is one call into native code, so values shared by a group's rows are bound once, as numbered
 * parameters ({@code ?NNN}) that each row names: the replica always, and the metric, resolution, start, flush number
 * and completeness when every row of the group has the same ones, which in a flush sorted by the unique key is
 * nearly every group. A row names its series by its id in {@code meterline_series}, kept with the series' texts.
 */
final class SqliteRows {

    /**
     * Rows per statement. Its host parameters, at most 1 + {@value #GROUP} × 15, stay far below SQLite's limit:
     * 32 766 in SQLite's default build since 3.32, and more than 100 000 in the driver's bundled 3.54.
     */
    static final int GROUP = 64;

    /** Parameters bound once per statement in the shared shape: replica, metric, resolution, start, flush, complete. */
    private static final int SHARED = 6;
    /** Parameters of one row in the shared shape: series id, the aggregate's eight columns, the sketch. */
    private static final int SHARED_ROW = 10;
    /** Parameters of one row in the general shape: all but the replica (bound once) and {@code merged_through}. */
    private static final int GENERAL_ROW = 15;

    private SqliteRows() {
    }

    /**
     * The insert of {@code rows} rows whose metric, resolution, start, flush number and completeness are bound once
     * as parameters 2 to 6 ({@code shared}) or for every row; parameter 1 is the replica.
     */
    static String insert(String columns, int rows, boolean shared) {
        StringBuilder sql = new StringBuilder(64 + columns.length() + rows * 120);
        sql.append("INSERT INTO meterline_window (").append(columns).append(") VALUES ");
        for (int r = 0; r < rows; r++) {
            sql.append(r == 0 ? "(?1, " : ", (?1, ");
            if (shared) {
                int p = SHARED + r * SHARED_ROW;
                sql.append("?2, ?").append(p + 1).append(", ?3, ?4, ?5");
                params(sql, p + 2, 8);
                sql.append(", ?6, ?").append(p + 10);
            } else {
                int p = 1 + r * GENERAL_ROW;
                sql.append('?').append(p + 1).append(", ?").append(p + 2);
                params(sql, p + 3, 13);
            }
            sql.append(", 0)");
        }
        return sql.append(" ON CONFLICT DO NOTHING").toString();
    }

    private static void params(StringBuilder sql, int first, int count) {
        for (int p = first; p < first + count; p++) {
            sql.append(", ?").append(p);
        }
    }

    /**
     * Inserts {@code windows} in {@code order} (window i's series text at {@code i} of {@code texts}), skipping any
     * row whose key is already stored.
     */
    static void write(Connection c, String columns, String replica, List<Window> windows, WindowTexts texts,
                      int[] order) throws SQLException {
        int groups = order.length / GROUP;
        int rest = order.length % GROUP;
        // A statement's windows, each read from the list once: a flush's list may build a window at every read.
        Window[] group = new Window[GROUP];
        try (GroupStatements full = new GroupStatements(c, columns)) {
            for (int g = 0; g < groups; g++) {
                int from = g * GROUP;
                read(windows, order, from, GROUP, group);
                boolean one = uniform(group, texts, order, from, GROUP);
                PreparedStatement ps = full.of(one);
                bind(ps, one, replica, group, texts, order, from, GROUP);
                ps.executeUpdate();
            }
        }
        if (rest > 0) {
            int from = groups * GROUP;
            read(windows, order, from, rest, group);
            boolean one = uniform(group, texts, order, from, rest);
            try (PreparedStatement ps = c.prepareStatement(insert(columns, rest, one))) {
                bind(ps, one, replica, group, texts, order, from, rest);
                ps.executeUpdate();
            }
        }
    }

    /** Reads the {@code rows} windows at {@code order[from..]} into {@code group}. */
    private static void read(List<Window> windows, int[] order, int from, int rows, Window[] group) {
        for (int r = 0; r < rows; r++) {
            group[r] = windows.get(order[from + r]);
        }
    }

    /** The two shapes of a full group's statement, each prepared on its first use: a flush prepares at most two. */
    private static final class GroupStatements implements AutoCloseable {
        private final Connection c;
        private final String columns;
        private PreparedStatement shared;
        private PreparedStatement general;

        GroupStatements(Connection c, String columns) {
            this.c = c;
            this.columns = columns;
        }

        PreparedStatement of(boolean sharedShape) throws SQLException {
            if (sharedShape) {
                return shared != null ? shared : (shared = c.prepareStatement(insert(columns, GROUP, true)));
            }
            return general != null ? general : (general = c.prepareStatement(insert(columns, GROUP, false)));
        }

        @Override
        public void close() throws SQLException {
            try {
                if (shared != null) {
                    shared.close();
                }
            } finally {
                if (general != null) {
                    general.close();
                }
            }
        }
    }

    private static void bind(PreparedStatement ps, boolean shared, String replica, Window[] group,
                             WindowTexts texts, int[] order, int from, int rows) throws SQLException {
        if (shared) {
            bindShared(ps, replica, group, texts, order, from, rows);
        } else {
            bindGeneral(ps, replica, group, texts, order, from, rows);
        }
    }

    /**
     * Whether the {@code rows} windows of {@code group} (those at {@code order[from..]}) share metric, resolution,
     * start, flush, complete.
     */
    private static boolean uniform(Window[] group, WindowTexts texts, int[] order, int from, int rows) {
        Window first = group[0];
        for (int r = 1; r < rows; r++) {
            Window w = group[r];
            if (!texts.sameMetric(order[from + r], order[from]) || w.resolution() != first.resolution()
                    || w.start() != first.start() || w.flushSeq() != first.flushSeq()
                    || w.complete() != first.complete()) {
                return false;
            }
        }
        return true;
    }

    private static void bindShared(PreparedStatement ps, String replica, Window[] group, WindowTexts texts,
                                   int[] order, int from, int rows) throws SQLException {
        Window first = group[0];
        ps.setString(1, replica);
        ps.setString(2, texts.metric(order[from]));
        ps.setLong(3, first.resolution());
        ps.setLong(4, first.start());
        ps.setLong(5, first.flushSeq());
        ps.setBoolean(6, first.complete());
        for (int r = 0; r < rows; r++) {
            Aggregate a = group[r].aggregate();
            int p = SHARED + r * SHARED_ROW;
            ps.setLong(p + 1, texts.id(order[from + r]));
            WindowTable.bindAggregate(ps, p + 2, a);
            ps.setBytes(p + 10, a.sketchBytes());
        }
    }

    private static void bindGeneral(PreparedStatement ps, String replica, Window[] group, WindowTexts texts,
                                    int[] order, int from, int rows) throws SQLException {
        ps.setString(1, replica);
        for (int r = 0; r < rows; r++) {
            int i = order[from + r];
            Window w = group[r];
            Aggregate a = w.aggregate();
            int p = 1 + r * GENERAL_ROW;
            ps.setString(p + 1, texts.metric(i));
            ps.setLong(p + 2, texts.id(i));
            ps.setLong(p + 3, w.resolution());
            ps.setLong(p + 4, w.start());
            ps.setLong(p + 5, w.flushSeq());
            WindowTable.bindAggregate(ps, p + 6, a);
            ps.setBoolean(p + 14, w.complete());
            ps.setBytes(p + 15, a.sketchBytes());
        }
    }
}
