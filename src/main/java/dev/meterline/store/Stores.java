package dev.meterline.store;

import dev.meterline.config.ConfigException;
import dev.meterline.config.StoreConfig;

import java.time.Clock;
import java.time.Duration;

/** Picks, opens and returns the store a {@link StoreConfig} asks for. */
public final class Stores {

    /** Connections in the PostgreSQL pool: the gateway's two threads plus one spare for start-up and shutdown. */
    static final int POOL_SIZE = 3;
    /** How long after a coarse window ends it is rolled up: past lateness and the flush that follows it. */
    static final Duration ROLLUP_DELAY = Duration.ofMinutes(1);

    private Stores() {
    }

    /** Opens the store of {@code config} on the system clock; see {@link #open(StoreConfig, Clock)}. */
    public static Store open(StoreConfig config) {
        return open(config, Clock.systemUTC());
    }

    /**
     * Opens PostgreSQL when the URL starts with {@code jdbc:postgresql:}, else the embedded SQLite store, creating or
     * migrating its schema.
     *
     * @throws ConfigException when the store cannot be opened, in one line naming {@code METERLINE_STORAGE_URL}
     */
    public static Store open(StoreConfig config, Clock clock) {
        Store store = config.url().startsWith("jdbc:postgresql:")
                ? new JdbcStore(new PostgresDb(config, POOL_SIZE), Dialect.POSTGRES, config, clock, ROLLUP_DELAY)
                : new JdbcStore(new SqliteDb(config), Dialect.SQLITE, config, clock, ROLLUP_DELAY);
        try {
            store.open();
            return store;
        } catch (RuntimeException e) {
            store.close();
            throw new ConfigException("METERLINE_STORAGE_URL: " + describe(config) + ": " + oneLine(e.getMessage()));
        }
    }

    private static String describe(StoreConfig config) {
        if (config.url().isEmpty()) {
            return "embedded SQLite in " + config.dataDir() + " (METERLINE_DATA_DIR)";
        }
        int q = config.url().indexOf('?');
        return q < 0 ? config.url() : config.url().substring(0, q);
    }

    private static String oneLine(String message) {
        return message == null ? "unknown error" : message.replaceAll("\\s*\\R\\s*", " ").strip();
    }
}
