package dev.meterline.store;

import dev.meterline.config.StoreConfig;
import dev.meterline.model.SeriesKey;
import dev.meterline.model.Window;

import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static java.util.Objects.requireNonNull;

/**
 * The embedded store: one SQLite file, {@value #FILE_NAME} in the data directory (or the file of a
 * {@code jdbc:sqlite:} URL), in WAL mode with {@code synchronous=NORMAL}: a power loss may lose the last commits but
 * never corrupts the file.
 */
public final class SqliteStore implements Store {

    /** The database file's name inside the data directory. */
    public static final String FILE_NAME = "meterline.db";

    private final SqliteDb db;
    private final StoreOps ops;

    /**
     * A store for {@code config}; {@code clock} decides which tier a read uses, and a coarse window is rolled up
     * {@code rollupDelay} after it ends.
     */
    public SqliteStore(StoreConfig config, Clock clock, Duration rollupDelay) {
        requireNonNull(config, "config");
        this.db = new SqliteDb(config);
        this.ops = new StoreOps(db, Dialect.SQLITE, config, requireNonNull(clock, "clock"),
                requireNonNull(rollupDelay, "rollupDelay").toMillis());
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
    public List<StoredWindow> read(String metric, long from, long to, long resolution) {
        return ops.read(metric, from, to, resolution);
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
    public void close() {
        db.close();
    }
}
