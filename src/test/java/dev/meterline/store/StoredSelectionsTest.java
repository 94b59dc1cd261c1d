package dev.meterline.store;

import dev.meterline.config.StoreConfig;
import dev.meterline.config.Tier;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

/** {@link StoredSelectionsContract} on a real SQLite store. */
class StoredSelectionsTest extends StoredSelectionsContract {

    @TempDir
    Path dir;

    @Override
    StoreConfig config(String replica, int selectionRows) {
        return new StoreConfig(dir.resolve("data"), "", "", "", Tier.parseList("10s:1h"), replica,
                StoreConfig.DEFAULT_TIMEOUT, StoreConfig.DEFAULT_MAX_PENDING_WINDOWS,
                StoreConfig.DEFAULT_SPOOL_MAX_BYTES, StoreConfig.DEFAULT_THREADS, StoreConfig.DEFAULT_MAX_SERIES,
                selectionRows);
    }

    @Override
    Dialect dialect() {
        return Dialect.SQLITE;
    }
}
