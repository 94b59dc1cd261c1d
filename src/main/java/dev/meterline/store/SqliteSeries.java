package dev.meterline.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntFunction;

/**
 * New series into SQLite's {@code meterline_series}, up to {@value #GROUP} of one metric per pair of statements: a
 * multi-row {@code INSERT ... ON CONFLICT DO NOTHING}, then one query of their ids that names each series by its place
 * in the group, so that no tag text is read back. A statement's execution costs the driver a result set and its
 * column names, and a crossing into native code per step: a group shares them among its series.
 *
 * <p>The ids are those that one single-row statement per series would give: the rows of a multi-row insert are
 * inserted or skipped one by one in their order, and a skipped row uses up its {@code AUTOINCREMENT} number either way.
 */
final class SqliteSeries {

    /** Series per statement: 1 + {@value #GROUP} parameters, far below SQLite's limit. */
    static final int GROUP = 64;

    private SqliteSeries() {
    }

    /** The insert of {@code rows} series of the metric bound as parameter 1, tag texts as parameters 2 on. */
    static String insert(int rows) {
        StringBuilder sql = new StringBuilder(80 + rows * 12);
        sql.append("INSERT INTO meterline_series (metric, tags) VALUES ");
        for (int r = 0; r < rows; r++) {
            sql.append(r == 0 ? "(?1, ?" : ", (?1, ?").append(r + 2).append(')');
        }
        return sql.append(" ON CONFLICT DO NOTHING").toString();
    }

    /**
     * The ids of {@code rows} series, parameters as in {@link #insert}, each row its series' place in the group and
     * its id. The group drives the join, one seek in the unique key per series.
     */
    static String ids(int rows) {
        StringBuilder sql = new StringBuilder(120 + rows * 16);
        sql.append("WITH q(n, tags) AS (VALUES ");
        for (int r = 0; r < rows; r++) {
            sql.append(r == 0 ? "(" : ", (").append(r).append(", ?").append(r + 2).append(')');
        }
        return sql.append(") SELECT q.n, s.id FROM q CROSS JOIN meterline_series s"
                + " WHERE s.metric = ?1 AND s.tags = q.tags").toString();
    }

    /**
     * Inserts each series of {@code series} unless present, in its order, and reads every one's id;
     * a group holds consecutive series of one metric.
     */
    static void store(Connection c, NewSeries series) throws SQLException {
        try (Statements statements = new Statements(c)) {
            int from = 0;
            while (from < series.size()) {
                String metric = series.metric(from);
                int to = from + 1;
                while (to < series.size() && to - from < GROUP && series.metric(to).equals(metric)) {
                    to++;
                }
                store(statements.insert(to - from), statements.ids(to - from), metric, series, from, to);
                from = to;
            }
        }
    }

    private static void store(PreparedStatement insert, PreparedStatement ids, String metric,
                              NewSeries series, int from, int to) throws SQLException {
        insert.setString(1, metric);
        ids.setString(1, metric);
        for (int i = from; i < to; i++) {
            String tags = series.tags(i);
            insert.setString(2 + i - from, tags);
            ids.setString(2 + i - from, tags);
        }
        insert.executeUpdate();
        int found = 0;
        try (ResultSet rs = ids.executeQuery()) {
            while (rs.next()) {
                series.id(from + rs.getInt(1), rs.getLong(2));
                found++;
            }
        }
        if (found != to - from) {
            throw new SQLException((to - from - found) + " series of " + metric + " missing after their insert");
        }
    }

    /** The statements of one call by group size, each prepared on its first use and closed with the call. */
    private static final class Statements implements AutoCloseable {
        private final Connection c;
        private final Map<Integer, PreparedStatement> inserts = new HashMap<>();
        private final Map<Integer, PreparedStatement> ids = new HashMap<>();

        Statements(Connection c) {
            this.c = c;
        }

        PreparedStatement insert(int rows) throws SQLException {
            return prepared(inserts, rows, SqliteSeries::insert);
        }

        PreparedStatement ids(int rows) throws SQLException {
            return prepared(ids, rows, SqliteSeries::ids);
        }

        /** The statement of {@code kind} for {@code rows} series, prepared from {@code sql} on its first use. */
        private PreparedStatement prepared(Map<Integer, PreparedStatement> kind, int rows, IntFunction<String> sql)
                throws SQLException {
            PreparedStatement ps = kind.get(rows);
            if (ps == null) {
                ps = c.prepareStatement(sql.apply(rows));
                kind.put(rows, ps);
            }
            return ps;
        }

        @Override
        public void close() throws SQLException {
            SQLException failure = null;
            for (Map<Integer, PreparedStatement> kind : List.of(inserts, ids)) {
                for (PreparedStatement ps : kind.values()) {
                    try {
                        ps.close();
                    } catch (SQLException e) {
                        if (failure == null) {
                            failure = e;
                        } else {
                            failure.addSuppressed(e);
                        }
                    }
                }
            }
            if (failure != null) {
                throw failure;
            }
        }
    }
}
