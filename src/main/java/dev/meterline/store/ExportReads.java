package dev.meterline.store;

import dev.meterline.store.ExportTable.Read;

import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

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
        return db.readApart("read export cursor", c -> table.exportCursor(c, target));
    }

    void advanceExportCursor(String target, ExportCursor cursor) {
        db.inTransaction("advance export cursor", c -> {
            table.advanceExportCursor(c, target, cursor);
            return null;
        });
    }

    ExportPage exportPage(long resolution, long from, long to, ExportCursor after, long maxId, int limit) {
        List<Read> rows = db.readApart("read windows to export", c -> table.selectForExport(c, resolution, from, to,
                after.metric(), after.series(), maxId, limit));
        boolean more = rows.size() >= limit;
        if (more) {
            // Never split a series across pages: its partials must merge into one sample.
            Read last = rows.get(rows.size() - 1);
            int keep = rows.size();
            while (keep > 0 && rows.get(keep - 1).seriesId() == last.seriesId()) {
                keep--;
            }
            if (keep == 0) {
                rows = db.readApart("read windows to export", c -> table.selectSeriesForExport(c, resolution, from, to,
                        last.metric(), last.seriesId(), maxId));
            } else {
                rows = rows.subList(0, keep);
            }
        }
        if (rows.isEmpty()) {
            return new ExportPage(List.of(), after, false);
        }
        List<ExportRow> out = new ArrayList<>(rows.size());
        for (Read r : rows) {
            out.add(r.row());
        }
        Read last = rows.get(rows.size() - 1);
        return new ExportPage(out, new ExportCursor(from, last.metric(), last.seriesId()), more);
    }

    long nextWrittenStart(long resolution, long from) {
        return db.readApart("find the next window to export", c -> table.nextWrittenStart(c, resolution, from));
    }

    long lastWrittenId() {
        return db.readApart("read the last row id", table::lastId);
    }

    long countWrittenBetween(long afterId, long throughId, long resolution, long before) {
        return db.readApart("count late writes", c -> table.countWrittenBetween(c, afterId, throughId, resolution, before));
    }
}
