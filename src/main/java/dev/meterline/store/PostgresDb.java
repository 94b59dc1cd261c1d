package dev.meterline.store;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.meterline.config.StoreConfig;

import java.sql.Connection;
import java.sql.SQLException;

/**
 * The connection pool of {@link PostgresStore}. Every call borrows its own pooled connection, so the gateway's
 * threads never share one; PostgreSQL's row locks and MVCC do the rest.
 */
final class PostgresDb implements Db {

    private static final long CONNECT_TIMEOUT_MILLIS = 10_000;

    private final StoreConfig config;
    private final int poolSize;
    private volatile HikariDataSource pool;

    PostgresDb(StoreConfig config, int poolSize) {
        if (poolSize < 1) {
            throw new IllegalArgumentException("poolSize: " + poolSize + " (expected: >= 1)");
        }
        this.config = config;
        this.poolSize = poolSize;
    }

    /** The URL without its query string, which may carry credentials; for messages. */
    String safeUrl() {
        int q = config.url().indexOf('?');
        return q < 0 ? config.url() : config.url().substring(0, q);
    }

    void open() {
        HikariConfig hc = new HikariConfig();
        hc.setPoolName("meterline-store");
        hc.setJdbcUrl(config.url());
        if (!config.user().isEmpty()) {
            hc.setUsername(config.user());
        }
        if (!config.password().isEmpty()) {
            hc.setPassword(config.password());
        }
        hc.setMaximumPoolSize(poolSize);
        hc.setMinimumIdle(1);
        hc.setConnectionTimeout(CONNECT_TIMEOUT_MILLIS);
        // The driver turns a batch of single-row inserts into multi-row INSERT statements.
        hc.addDataSourceProperty("reWriteBatchedInserts", "true");
        hc.addDataSourceProperty("ApplicationName", "meterline");
        try {
            pool = new HikariDataSource(hc);
        } catch (RuntimeException e) {
            throw new StoreException("cannot connect to " + safeUrl() + ": " + rootMessage(e), e);
        }
        try {
            inTransaction("migrate schema", c -> {
                Schema.migrate(c, Dialect.POSTGRES);
                return null;
            });
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t.getMessage() == null ? t.toString() : t.getMessage();
    }

    @Override
    public <T> T inTransaction(String what, Work<T> work) {
        try (Connection c = pool().getConnection()) {
            c.setAutoCommit(false);
            try {
                T result = work.run(c);
                c.commit();
                return result;
            } catch (SQLException | RuntimeException e) {
                try {
                    c.rollback();
                } catch (SQLException r) {
                    e.addSuppressed(r);
                }
                throw e;
            }
        } catch (SQLException e) {
            throw new StoreException(what + " failed on " + safeUrl() + ": " + e.getMessage(), e);
        }
    }

    @Override
    public <T> T read(String what, Work<T> work) {
        try (Connection c = pool().getConnection()) {
            return work.run(c);
        } catch (SQLException e) {
            throw new StoreException(what + " failed on " + safeUrl() + ": " + e.getMessage(), e);
        }
    }

    private HikariDataSource pool() {
        HikariDataSource p = pool;
        if (p == null) {
            throw new StoreException("store at " + safeUrl() + " is not open (expected: open() before use)");
        }
        return p;
    }

    void close() {
        HikariDataSource p = pool;
        pool = null;
        if (p != null) {
            p.close();
        }
    }
}
