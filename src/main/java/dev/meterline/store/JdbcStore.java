package dev.meterline.store;

import dev.meterline.config.StoreConfig;
import dev.meterline.model.SeriesKey;
import dev.meterline.model.Window;

import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

import static java.util.Objects.requireNonNull;

/**
 * A {@link Store} on a JDBC database: the embedded SQLite file or a PostgreSQL server, which differ only in how they
 * lend connections ({@link Db}) and in their SQL ({@link Dialect}); every operation is the same {@link StoreOps}.
 */
final class JdbcStore implements Store {

    private final Db db;
    private final Dialect dialect;
    private final StoreOps ops;

    /**
     * A store over {@code db} speaking {@code dialect}; {@code clock} decides which tier a read uses, and a coarse
     * window is rolled up {@code rollupDelay} after it ends.
     */
    JdbcStore(Db db, Dialect dialect, StoreConfig config, Clock clock, Duration rollupDelay) {
        this.db = requireNonNull(db, "db");
        this.dialect = requireNonNull(dialect, "dialect");
        this.ops = new StoreOps(db, dialect, requireNonNull(config, "config"), requireNonNull(clock, "clock"),
                requireNonNull(rollupDelay, "rollupDelay").toMillis());
    }

    /** The SQL dialect of the database behind this store. */
    Dialect dialect() {
        return dialect;
    }

    @Override
    public void open() {
        db.open();
    }

    @Override
    public void write(List<Window> windows) {
        ops.write(windows);
    }

    @Override
    public List<StoredWindow> read(String metric, Predicate<SeriesKey> series, long from, long to, long resolution) {
        return ops.read(metric, series, from, to, resolution);
    }

    @Override
    public Map<String, Long> metrics() {
        return ops.metrics();
    }

    @Override
    public List<SeriesKey> series(String metric) {
        return ops.series(metric);
    }

    @Override
    public long lastFlushSeq() {
        return ops.lastFlushSeq();
    }

    @Override
    public void maintain(long now) {
        ops.maintain(now);
    }

    @Override
    public void prepareExport() {
        ops.prepareExport();
    }

    @Override
    public ExportCursor exportCursor(String target) {
        return ops.exportCursor(target);
    }

    @Override
    public void advanceExportCursor(String target, ExportCursor cursor) {
        ops.advanceExportCursor(target, cursor);
    }

    @Override
    public ExportPage exportPage(long resolution, long from, long to, ExportCursor after, long maxId, int limit) {
        return ops.exportPage(resolution, from, to, after, maxId, limit);
    }

    @Override
    public long nextWrittenStart(long resolution, long from) {
        return ops.nextWrittenStart(resolution, from);
    }

    @Override
    public long lastWrittenId() {
        return ops.lastWrittenId();
    }

    @Override
    public long countWrittenBetween(long afterId, long throughId, long resolution, long before) {
        return ops.countWrittenBetween(afterId, throughId, resolution, before);
    }

    @Override
    public ExportLock exportLock(String target) {
        if (db instanceof PostgresDb pg) {
            return new PostgresExportLock(pg::connectDirect, target);
        }
        return new ExportLock() {
            @Override
            public boolean hold() {
                return true;
            }

            @Override
            public void close() {
            }
        };
    }

    @Override
    public void close() {
        db.close();
    }
}
