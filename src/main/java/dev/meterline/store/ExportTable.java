package dev.meterline.store;

import dev.meterline.model.SeriesKey;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/** The SQL of remote write's reads: stored partials in (slice, series) order, row ids, and the export cursor. */
final class ExportTable {

    /**
     * The columns a sample set needs, read by position ({@link #read}): the series' tag text is decoded once per
     * series, the sketch is left encoded.
     */
    static final String SELECT = "SELECT w.series_id, w.metric, s.tags, w.start_ms, w.value_count, w.value_sum,"
            + " w.value_min, w.value_max, w.value_last, w.first_ts, w.last_ts, w.late, w.sketch"
            + " FROM meterline_window w JOIN meterline_series s ON s.id = w.series_id";

    /** Every written partial of one series at one resolution starting in a range. */
    static final String SERIES_FOR_EXPORT = SELECT + " WHERE w.resolution_ms = ? AND w.start_ms >= ?"
            + " AND w.start_ms < ? AND w.metric = ? AND w.series_id = ? AND w.id <= ? AND w.merged_through = 0";
    static final String NEXT_WRITTEN_START = "SELECT min(start_ms) FROM meterline_window"
            + " WHERE resolution_ms = ? AND start_ms >= ?";

    /**
     * A page of a slice in series order (metric, then series id); with one start an equality, so the export index
     * needs no sort.
     */
    static String exportPage(boolean oneStart) {
        String starts = oneStart ? "w.start_ms = ?" : "w.start_ms >= ? AND w.start_ms < ?";
        return SELECT + " WHERE w.resolution_ms = ? AND " + starts + " AND (w.metric, w.series_id) > (?, ?)"
                + " AND w.id <= ? AND w.merged_through = 0 ORDER BY w.metric, w.series_id LIMIT ?";
    }

    /**
     * Up to {@code limit} written partials (rollups excluded) of {@code resolution} starting in [from, to), with id
     * at most {@code maxId}, whose series comes after ({@code afterMetric}, {@code afterSeries}), in series order.
     */
    List<Read> selectForExport(Connection c, long resolution, long from, long to, String afterMetric,
                              long afterSeries, long maxId, int limit) throws SQLException {
        // One start (the export resolution is the window's): an equality, so the export index gives series order
        // without a sort.
        try (PreparedStatement ps = c.prepareStatement(exportPage(to - from == resolution))) {
            int i = 1;
            ps.setLong(i++, resolution);
            ps.setLong(i++, from);
            if (to - from != resolution) {
                ps.setLong(i++, to);
            }
            ps.setString(i++, afterMetric);
            ps.setLong(i++, afterSeries);
            ps.setLong(i++, maxId);
            ps.setInt(i, limit);
            return read(ps, limit);
        }
    }

    /** Every written partial of one series of {@code resolution} starting in [from, to). */
    List<Read> selectSeriesForExport(Connection c, long resolution, long from, long to, String metric, long series,
                                    long maxId) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(SERIES_FOR_EXPORT)) {
            ps.setLong(1, resolution);
            ps.setLong(2, from);
            ps.setLong(3, to);
            ps.setString(4, metric);
            ps.setLong(5, series);
            ps.setLong(6, maxId);
            return read(ps, 16);
        }
    }

    /** A partial read for export and its series' store id and metric, which order and cut pages. */
    record Read(long seriesId, String metric, ExportRow row) {
    }

    /** The rows of {@link #SELECT}, which come in series order: a series' tags are decoded at its first row. */
    private static List<Read> read(PreparedStatement ps, int expected) throws SQLException {
        List<Read> out = new ArrayList<>(Math.min(expected, 4096));
        long seriesId = 0;
        String metric = null;
        SeriesKey key = null;
        try (ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                long id = rs.getLong(1);
                if (key == null || id != seriesId) {
                    seriesId = id;
                    metric = rs.getString(2);
                    key = SeriesKey.of(metric, TagsJson.decode(rs.getString(3)));
                }
                ExportRow row = new ExportRow(key, rs.getLong(4), rs.getLong(5), rs.getDouble(6), nullable(rs, 7),
                        nullable(rs, 8), nullable(rs, 9), rs.getLong(10), rs.getLong(11), rs.getLong(12),
                        rs.getBytes(13));
                out.add(new Read(seriesId, metric, row));
            }
        }
        return out;
    }

    /** A nullable double column's value, NaN for SQL NULL. */
    private static double nullable(ResultSet rs, int column) throws SQLException {
        double v = rs.getDouble(column);
        return rs.wasNull() ? Double.NaN : v;
    }

    /** The earliest start at or after {@code from} of a written partial of {@code resolution}, or -1. */
    long nextWrittenStart(Connection c, long resolution, long from) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(NEXT_WRITTEN_START)) {
            ps.setLong(1, resolution);
            ps.setLong(2, from);
            try (ResultSet rs = ps.executeQuery()) {
                long v = rs.next() ? rs.getLong(1) : -1;
                return rs.wasNull() ? -1 : v;
            }
        }
    }

    long lastId(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT max(id) FROM meterline_window");
             ResultSet rs = ps.executeQuery()) {
            return rs.next() ? rs.getLong(1) : 0;
        }
    }

    /** Written partials of {@code resolution} with id in (afterId, throughId] and start before {@code before}. */
    long countWrittenBetween(Connection c, long afterId, long throughId, long resolution, long before)
            throws SQLException {
        // "+ 0" keeps the planner on the id range: the export index would scan every row before the cursor.
        try (PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM meterline_window WHERE id > ?"
                + " AND id <= ? AND resolution_ms + 0 = ? AND start_ms + 0 < ? AND merged_through = 0")) {
            ps.setLong(1, afterId);
            ps.setLong(2, throughId);
            ps.setLong(3, resolution);
            ps.setLong(4, before);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    /** The export cursor of {@code target}, or null. */
    ExportCursor exportCursor(Connection c, String target) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT through_ms, after_metric, after_series FROM meterline_export WHERE target = ?")) {
            ps.setString(1, target);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? new ExportCursor(rs.getLong(1), rs.getString(2), rs.getLong(3)) : null;
            }
        }
    }

    /** Sets the cursor of {@code target} to {@code cursor} unless the stored one is already past it. */
    void advanceExportCursor(Connection c, String target, ExportCursor cursor) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO meterline_export"
                + " (target, through_ms, after_metric, after_series) VALUES (?, ?, ?, ?) ON CONFLICT (target)"
                + " DO UPDATE SET through_ms = excluded.through_ms, after_metric = excluded.after_metric,"
                + " after_series = excluded.after_series WHERE (meterline_export.through_ms,"
                + " meterline_export.after_metric, meterline_export.after_series)"
                + " < (excluded.through_ms, excluded.after_metric, excluded.after_series)")) {
            ps.setString(1, target);
            ps.setLong(2, cursor.through());
            ps.setString(3, cursor.metric());
            ps.setLong(4, cursor.series());
            ps.executeUpdate();
        }
    }
}
