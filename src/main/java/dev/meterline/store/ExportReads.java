package dev.meterline.store;

import dev.meterline.model.SeriesKey;
import dev.meterline.model.Window;
import dev.meterline.store.WindowTable.Row;

import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The store's side of remote write: the export cursor, pages of stored windows in (slice, series) order with every
 * partial of a series on one page, and the row ids that tell a slice's late writes.
 */
final class ExportReads {

    private final Db db;
    private final Dialect dialect;
    private final ExportTable table = new ExportTable();

    ExportReads(Db db, Dialect dialect) {
        this.db = db;
        this.dialect = dialect;
    }

    void prepareExport() {
        db.inTransaction("create the export index", c -> {
            try (Statement st = c.createStatement()) {
                if (dialect.migrationLock != null) {
                    st.execute(dialect.migrationLock);
                }
                st.execute(Dialect.EXPORT_INDEX);
            }
            return null;
        });
    }

    ExportCursor exportCursor(String target) {
        return db.read("read export cursor", c -> table.exportCursor(c, target));
    }

    void advanceExportCursor(String target, ExportCursor cursor) {
        db.inTransaction("advance export cursor", c -> {
            table.advanceExportCursor(c, target, cursor);
            return null;
        });
    }

    ExportPage exportPage(long resolution, long from, long to, ExportCursor after, long maxId, int limit) {
        List<Row> rows = db.read("read windows to export", c -> table.selectForExport(c, resolution, from, to,
                after.metric(), after.series(), maxId, limit));
        boolean more = rows.size() >= limit;
        if (more) {
            // Never split a series across pages: its partials must merge into one sample.
            Row last = rows.get(rows.size() - 1);
            int keep = rows.size();
            while (keep > 0 && sameSeries(rows.get(keep - 1), last)) {
                keep--;
            }
            if (keep == 0) {
                rows = db.read("read windows to export", c -> table.selectSeriesForExport(c, resolution, from, to,
                        last.metric(), last.seriesId(), maxId));
            } else {
                rows = rows.subList(0, keep);
            }
        }
        if (rows.isEmpty()) {
            return new ExportPage(List.of(), after, false);
        }
        Map<Long, SeriesKey> keys = new HashMap<>();
        List<StoredWindow> out = new ArrayList<>(rows.size());
        for (Row r : rows) {
            SeriesKey key = keys.computeIfAbsent(r.seriesId(),
                    k -> SeriesKey.of(r.metric(), TagsJson.decode(r.tags())));
            out.add(new StoredWindow(r.replica(), new Window(key, r.start(), r.resolution(), r.aggregate(),
                    r.complete(), r.flushSeq())));
        }
        Row last = rows.get(rows.size() - 1);
        return new ExportPage(out, new ExportCursor(from, last.metric(), last.seriesId()), more);
    }

    private static boolean sameSeries(Row a, Row b) {
        return a.seriesId() == b.seriesId();
    }

    long nextWrittenStart(long resolution, long from) {
        return db.read("find the next window to export", c -> table.nextWrittenStart(c, resolution, from));
    }

    long lastWrittenId() {
        return db.read("read the last row id", table::lastId);
    }

    long countWrittenBetween(long afterId, long throughId, long resolution, long before) {
        return db.read("count late writes", c -> table.countWrittenBetween(c, afterId, throughId, resolution, before));
    }
}
