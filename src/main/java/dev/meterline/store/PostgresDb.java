package dev.meterline.store;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.meterline.config.StoreConfig;

import java.sql.BatchUpdateException;
import java.sql.Connection;
import java.sql.SQLException;

/**
 * The connection pool of the production store, a PostgreSQL database named by a {@code jdbc:postgresql:} URL. Every call borrows its own pooled connection, so the gateway's
 * threads never share one; PostgreSQL's row locks and MVCC do the rest.
 */
final class PostgresDb implements Db {

    /** How long one statement may wait for the server's answer before the connection is given up (seconds). */
    static final int SOCKET_TIMEOUT_SECONDS = 60;
    /** Longest database message kept in an error (logs, readiness). */
    private static final int MAX_MESSAGE = 300;

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

    @Override
    public void open() {
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
        // While the database is down, a borrow fails after the timeout instead of hanging, so the flush loop
        // counts the failure, keeps its windows pending and retries; broken connections are validated and replaced.
        long timeout = config.timeout().toMillis();
        hc.setConnectionTimeout(timeout);
        hc.setValidationTimeout(Math.max(250, timeout / 2));
        hc.addDataSourceProperty("connectTimeout", String.valueOf(Math.max(1, (timeout + 999) / 1000)));
        hc.addDataSourceProperty("loginTimeout", String.valueOf(Math.max(1, (timeout + 999) / 1000)));
        hc.addDataSourceProperty("socketTimeout", String.valueOf(SOCKET_TIMEOUT_SECONDS));
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

    /**
     * A connection outside the pool, for a session that must outlive pool churn (the export lock); TCP keepalive on,
     * so a holder that vanished from the network is noticed by the server.
     */
    Connection connectDirect() throws SQLException {
        java.util.Properties props = new java.util.Properties();
        if (!config.user().isEmpty()) {
            props.setProperty("user", config.user());
        }
        if (!config.password().isEmpty()) {
            props.setProperty("password", config.password());
        }
        long seconds = Math.max(1, (config.timeout().toMillis() + 999) / 1000);
        props.setProperty("connectTimeout", String.valueOf(seconds));
        props.setProperty("socketTimeout", String.valueOf(SOCKET_TIMEOUT_SECONDS));
        props.setProperty("tcpKeepAlive", "true");
        props.setProperty("ApplicationName", "meterline-export");
        return java.sql.DriverManager.getConnection(config.url(), props);
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
            throw new StoreException(what + " failed on " + safeUrl() + ": " + describe(e), e);
        }
    }

    /** The message, plus the root cause when the pool only says that no connection came (it hides why). */
    static String describe(SQLException e) {
        // A failed batch's own message repeats every statement of the batch: the next exception says why.
        SQLException why = e instanceof BatchUpdateException && e.getNextException() != null ? e.getNextException() : e;
        String root = rootMessage(why);
        String m = why.getMessage();
        String text = m == null ? root : root.equals(m) || m.contains(root) ? m : m + " (" + root + ")";
        return text.length() <= MAX_MESSAGE ? text : text.substring(0, MAX_MESSAGE) + "…";
    }

    @Override
    public <T> T read(String what, Work<T> work) {
        try (Connection c = pool().getConnection()) {
            return work.run(c);
        } catch (SQLException e) {
            throw new StoreException(what + " failed on " + safeUrl() + ": " + describe(e), e);
        }
    }

    private HikariDataSource pool() {
        HikariDataSource p = pool;
        if (p == null) {
            throw new StoreException("store at " + safeUrl() + " is not open (expected: open() before use)");
        }
        return p;
    }

    @Override
    public void close() {
        HikariDataSource p = pool;
        pool = null;
        if (p != null) {
            p.close();
        }
    }
}
