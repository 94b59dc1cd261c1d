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
 * The production store: a PostgreSQL database named by a {@code jdbc:postgresql:} URL, reached through a small
 * bounded pool. Several replicas may share one database: every row carries its replica id, so their writes never
 * touch the same rows, and reads return every replica's partials.
 */
public final class PostgresStore implements Store {

    private final PostgresDb db;
    private final StoreOps ops;

    /**
     * A store for {@code config} with at most {@code poolSize} connections; {@code clock} decides which tier a read
     * uses, and a coarse window is rolled up {@code rollupDelay} after it ends.
     */
    public PostgresStore(StoreConfig config, int poolSize, Clock clock, Duration rollupDelay) {
        requireNonNull(config, "config");
        if (!config.url().startsWith("jdbc:postgresql:")) {
            throw new IllegalArgumentException("url: '" + config.url() + "' (expected: jdbc:postgresql://...)");
        }
        this.db = new PostgresDb(config, poolSize);
        this.ops = new StoreOps(db, Dialect.POSTGRES, config, requireNonNull(clock, "clock"),
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
