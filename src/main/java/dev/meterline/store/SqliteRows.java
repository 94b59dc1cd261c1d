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
 */
final class SqliteRows {

    /**
     * Rows per statement. Its host parameters, {@value #GROUP} × {@value #PARAMS_PER_ROW}, stay far below SQLite's
     * limit: 32 766 in SQLite's default build since 3.32, and more than 100 000 in the driver's bundled 3.54.
     */
    static final int GROUP = 64;

    /** Groups per executeBatch: bounds the driver's buffered parameters on very large flushes (about 10 000 rows). */
    static final int GROUPS_PER_BATCH = 10_000 / GROUP;

    /** Host parameters of one row: every column but {@code merged_through}, which is 0 for a flushed partial. */
    static final int PARAMS_PER_ROW = 16;

    private SqliteRows() {
    }

    /** The insert of {@code rows} rows, with {@value #PARAMS_PER_ROW} parameters per row in column order. */
    static String insert(String columns, int rows) {
        StringBuilder sql = new StringBuilder(64 + columns.length() + rows * 40);
        sql.append("INSERT INTO meterline_window (").append(columns).append(") VALUES ");
        for (int r = 0; r < rows; r++) {
            sql.append(r == 0 ? "(" : ", (");
            for (int p = 0; p < PARAMS_PER_ROW; p++) {
                sql.append("?, ");
            }
            sql.append("0)");
        }
        return sql.append(" ON CONFLICT DO NOTHING").toString();
    }

    /**
     * Inserts {@code windows} in {@code order} ({@code texts[i]} the texts of {@code windows.get(i)}), skipping any
     * row whose key is already stored.
     */
    static void write(Connection c, String columns, String replica, List<Window> windows, SeriesTexts.Text[] texts,
                      int[] order) throws SQLException {
        int groups = order.length / GROUP;
        int rest = order.length % GROUP;
        Binder binder = new Binder(replica);
        if (groups > 0) {
            try (PreparedStatement ps = c.prepareStatement(insert(columns, GROUP))) {
                int pending = 0;
                for (int g = 0; g < groups; g++) {
                    for (int r = 0; r < GROUP; r++) {
                        int i = order[g * GROUP + r];
                        binder.row(ps, r * PARAMS_PER_ROW, windows.get(i), texts[i]);
                    }
                    ps.addBatch();
                    if (++pending == GROUPS_PER_BATCH) {
                        ps.executeBatch();
                        pending = 0;
                    }
                }
                if (pending > 0) {
                    ps.executeBatch();
                }
            }
        }
        if (rest > 0) {
            try (PreparedStatement ps = c.prepareStatement(insert(columns, rest))) {
                for (int r = 0; r < rest; r++) {
                    int i = order[groups * GROUP + r];
                    binder.row(ps, r * PARAMS_PER_ROW, windows.get(i), texts[i]);
                }
                ps.executeUpdate();
            }
        }
    }

    /**
     * Binds rows to a statement. The SQLite driver keeps each bound value as an object: a box shared by consecutive
     * rows with the same resolution, start or flush number saves boxing it for every row.
     */
    private static final class Binder {
        private final String replica;
        private Long resolution;
        private Long start;
        private Long flushSeq;

        Binder(String replica) {
            this.replica = replica;
        }

        /** Binds one row's {@value #PARAMS_PER_ROW} parameters of {@code ps} after parameter {@code base}. */
        void row(PreparedStatement ps, int base, Window w, SeriesTexts.Text text) throws SQLException {
            resolution = boxed(resolution, w.resolution());
            start = boxed(start, w.start());
            flushSeq = boxed(flushSeq, w.flushSeq());
            Aggregate a = w.aggregate();
            ps.setString(base + 1, replica);
            ps.setString(base + 2, text.metric);
            ps.setString(base + 3, text.tags);
            ps.setObject(base + 4, resolution);
            ps.setObject(base + 5, start);
            ps.setObject(base + 6, flushSeq);
            WindowTable.bindAggregate(ps, base + 7, a);
            ps.setBoolean(base + 15, w.complete());
            ps.setBytes(base + 16, a.sketchBytes());
        }

        private static Long boxed(Long last, long value) {
            return last != null && last == value ? last : Long.valueOf(value);
        }
    }
}
