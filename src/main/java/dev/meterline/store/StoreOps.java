package dev.meterline.store;

import dev.meterline.config.StoreConfig;
import dev.meterline.model.SeriesKey;
import dev.meterline.model.Window;
import dev.meterline.store.WindowTable.Row;

import java.time.Clock;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Predicate;

/** The store operations both databases share, over whatever connections a {@link Db} lends. */
final class StoreOps {

    /**
     * Series known to be in {@code meterline_series}, so a flush inserts only new ones; cleared when full (this is a
     * cache, the insert is idempotent) and whenever retention forgets series.
     */
    private static final int KNOWN_SERIES_MAX = 200_000;

    private final Db db;
    private final Dialect dialect;
    private final WindowTable table;
    private final Tiers tiers;
    private final Rollup rollup;
    private final String replica;
    private final Clock clock;
    private final Set<SeriesKey> knownSeries = ConcurrentHashMap.newKeySet();
    /** Resolutions of written windows seen by this process, so that retention also finds non-tier resolutions. */
    private final Set<Long> writtenResolutions = ConcurrentHashMap.newKeySet();

    StoreOps(Db db, Dialect dialect, StoreConfig config, Clock clock, long rollupDelayMillis) {
        this.db = db;
        this.dialect = dialect;
        this.table = new WindowTable(dialect);
        this.tiers = new Tiers(config.tiers());
        this.replica = config.replicaId();
        this.clock = clock;
        this.rollup = new Rollup(db, table, tiers, replica, rollupDelayMillis);
    }

    void write(List<Window> windows) {
        if (windows.isEmpty()) {
            return;
        }
        // Sorted, so that replicas adding the same new series take row locks in one order and cannot deadlock.
        TreeSet<SeriesKey> fresh = new TreeSet<>();
        for (Window w : windows) {
            if (!knownSeries.contains(w.series())) {
                fresh.add(w.series());
            }
            writtenResolutions.add(w.resolution());
        }
        List<SeriesKey> newSeries = new ArrayList<>(fresh);
        db.inTransaction("write " + windows.size() + " windows", c -> {
            table.insert(c, replica, windows, newSeries);
            return null;
        });
        if (knownSeries.size() + newSeries.size() > KNOWN_SERIES_MAX) {
            knownSeries.clear();
        }
        knownSeries.addAll(newSeries);
    }

    List<StoredWindow> read(String metric, Predicate<SeriesKey> series, long from, long to, long resolution) {
        long tier = tiers.readResolution(resolution, from, clock.millis());
        // Tags text → its key, or absent from the answer: each distinct series is decoded and tested once.
        Map<String, Optional<SeriesKey>> keys = new HashMap<>();
        Predicate<String> wanted = tags -> keys.computeIfAbsent(tags, t -> {
            SeriesKey key = SeriesKey.of(metric, TagsJson.decode(t));
            return series.test(key) ? Optional.of(key) : Optional.empty();
        }).isPresent();
        List<Row> rows = db.read("read " + metric, c -> table.select(c, metric, tier, from, to, wanted));
        List<StoredWindow> out = new ArrayList<>(rows.size());
        for (Row r : rows) {
            SeriesKey key = keys.get(r.tags()).orElseThrow();
            out.add(new StoredWindow(r.replica(), new Window(key, r.start(), r.resolution(), r.aggregate(),
                    r.complete(), r.flushSeq())));
        }
        return out;
    }

    Map<String, Long> metrics() {
        return db.read("list metrics", table::metrics);
    }

    List<SeriesKey> series(String metric) {
        List<String> tags = db.read("list series of " + metric, c -> table.seriesTags(c, metric));
        List<SeriesKey> out = new ArrayList<>(tags.size());
        for (String t : tags) {
            out.add(SeriesKey.of(metric, TagsJson.decode(t)));
        }
        out.sort(Comparator.naturalOrder());
        return out;
    }

    long lastFlushSeq() {
        return db.read("read last flush sequence", c -> table.lastFlushSeq(c, replica));
    }

    void maintain(long now) {
        rollup.run(now);
        Set<Long> resolutions = new TreeSet<>(writtenResolutions);
        for (int i = 0; i < tiers.size(); i++) {
            resolutions.add(tiers.resolution(i));
        }
        for (String metric : db.read("list metrics", table::metricNames)) {
            int deleted = 0;
            for (long resolution : resolutions) {
                long cutoff = now - tiers.retentionOf(resolution);
                deleted += db.inTransaction("expire " + metric,
                        c -> table.deleteBefore(c, replica, metric, resolution, cutoff));
            }
            // A series that came back during the prune may be forgotten until its next new-series flush.
            if (deleted > 0 && db.inTransaction("forget series of " + metric, c -> table.pruneSeries(c, metric)) > 0) {
                knownSeries.clear();
            }
        }
    }

    void prepareExport() {
        db.inTransaction("create the export index", c -> {
            try (java.sql.Statement st = c.createStatement()) {
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
                after.metric(), after.tags(), maxId, limit));
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
                        last.metric(), last.tags(), maxId));
            } else {
                rows = rows.subList(0, keep);
            }
        }
        if (rows.isEmpty()) {
            return new ExportPage(List.of(), after, false);
        }
        Map<String, SeriesKey> keys = new HashMap<>();
        List<StoredWindow> out = new ArrayList<>(rows.size());
        for (Row r : rows) {
            SeriesKey key = keys.computeIfAbsent(r.metric() + '\0' + r.tags(),
                    k -> SeriesKey.of(r.metric(), TagsJson.decode(r.tags())));
            out.add(new StoredWindow(r.replica(), new Window(key, r.start(), r.resolution(), r.aggregate(),
                    r.complete(), r.flushSeq())));
        }
        Row last = rows.get(rows.size() - 1);
        return new ExportPage(out, new ExportCursor(from, last.metric(), last.tags()), more);
    }

    private static boolean sameSeries(Row a, Row b) {
        return a.metric().equals(b.metric()) && a.tags().equals(b.tags());
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
