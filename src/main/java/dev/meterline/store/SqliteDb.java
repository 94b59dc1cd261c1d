package dev.meterline.store;

import dev.meterline.config.StoreConfig;
import dev.meterline.telemetry.StoreMeters;
import org.sqlite.SQLiteConfig;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.locks.ReentrantLock;

import static java.util.Objects.requireNonNull;

/**
 * The SQLite connections of the embedded store: one file, {@value #FILE_NAME} in the data directory (or the file of a
 * {@code jdbc:sqlite:} URL), in WAL mode with {@code synchronous=NORMAL} (a power loss may lose the last commits but
 * never corrupts the file).
 *
 * <p>Threads: SQLite has one writer at a time and a JDBC connection must not be used by two threads at once, so
 * writes and maintenance share one writer connection under a lock, while queries read on read-only connections of
 * their own, one per store thread ({@link SqliteReaders}, opened as reads first need them); in WAL mode a reader sees
 * the last commit and waits neither for a writer nor for another reader, so a query is held up by neither a large
 * flush nor another query's long scan. The store's own reads ({@link #readApart}: rollup's scans, the export's reads)
 * use one more read-only connection, so that a query never waits behind one of them either. Writer transactions begin
 * IMMEDIATE, taking the write lock up front, so a transaction never fails half way when another process holds the
 * file.
 *
 * <p>The store's database copies its log into the file apart from the writer ({@link SqliteCheckpoints}, a
 * connection and a thread of its own): a flush's commit then only appends to the log, and the checkpoint after it,
 * with its two {@code fsync}s, runs while the writer goes on.
 */
final class SqliteDb implements Db {

    /** The database file's name inside the data directory. */
    public static final String FILE_NAME = "meterline.db";

    private static final int BUSY_TIMEOUT_MILLIS = 10_000;
    /**
     * The page size of a store's database file when it creates one: a flush appends rows at the table's right edge
     * and keys at one place per metric and resolution, so larger pages mean fewer pages (and fewer log frames, each a
     * system call when written and again when checkpointed) per flushed row. A file created with another page size
     * keeps it: SQLite changes the page size of a file in WAL mode only by rebuilding it.
     */
    static final int STORE_PAGE_SIZE = 16_384;
    /** SQLite's default page size, kept by the spool, whose bound in bytes an empty file of large pages would fill. */
    static final int DEFAULT_PAGE_SIZE = 4_096;

    /**
     * The writer's own checkpoint threshold, in log pages, when checkpoints run apart ({@link SqliteCheckpoints}):
     * past it the writer's commit copies the log itself, which bounds the log should the checkpoints fall behind.
     * Four times SQLite's default (1 000 pages), so that a flush of some 100 000 windows (about 1 300 pages of 16
     * KiB) and the one after it, written while the first is still being copied, stay below it.
     */
    static final int WRITER_AUTOCHECKPOINT_PAGES = 4_096;

    private final StoreConfig config;
    private final int pageSize;
    private final boolean checkpointsApart;
    private final StoreMeters meters;
    /**
     * Fair: the writer goes to the thread that has waited longest, so a flush or an export cursor update waiting
     * behind a rollup gets it between two of the rollup's batches rather than after a run of them, which the thread
     * that just let go would otherwise take back before a waiting thread wakes.
     */
    private final ReentrantLock writeLock = new ReentrantLock(true);
    /** Set by open and close; volatile because those may run on another thread than the gateway's. */
    private volatile Connection writer;
    private volatile SqliteReaders readers;
    private volatile SqliteReaders apart;
    private volatile SqliteCheckpoints checkpoints;

    /**
     * A database whose file, when this creates it, takes pages of {@code pageSize} bytes (a power of two); with
     * {@code checkpointsApart} the log is copied into the file after each write of windows on a thread of its own
     * ({@link SqliteCheckpoints}) rather than by the commit that fills it; unmetered.
     */
    SqliteDb(StoreConfig config, int pageSize, boolean checkpointsApart) {
        this(config, pageSize, checkpointsApart, StoreMeters.unregistered());
    }

    /** As above, the checkpoints metered on {@code meters}. */
    SqliteDb(StoreConfig config, int pageSize, boolean checkpointsApart, StoreMeters meters) {
        if (pageSize < 512 || pageSize > 65_536 || Integer.bitCount(pageSize) != 1) {
            throw new IllegalArgumentException("pageSize: " + pageSize
                    + " (expected: a power of two from 512 to 65536)");
        }
        this.config = config;
        this.pageSize = pageSize;
        this.checkpointsApart = checkpointsApart;
        this.meters = requireNonNull(meters, "meters");
    }

    /** The JDBC URL: the configured {@code jdbc:sqlite:} URL, else the file in the data directory. */
    String url() {
        if (config.url().startsWith("jdbc:sqlite:")) {
            return config.url();
        }
        return "jdbc:sqlite:" + config.dataDir().resolve(FILE_NAME);
    }

    @Override
    public void open() {
        if (!config.url().startsWith("jdbc:sqlite:")) {
            Path dir = config.dataDir();
            try {
                Files.createDirectories(dir);
            } catch (IOException e) {
                throw new StoreException("cannot create data directory '" + dir.toAbsolutePath() + "': " + e, e);
            }
        }
        try {
            writer = connect(false);
            readers = new SqliteReaders(config.threads(), () -> connect(true), meters::readConnections);
            apart = new SqliteReaders(1, () -> connect(true), open -> { });
            if (checkpointsApart) {
                checkpoints = new SqliteCheckpoints(connectCheckpointer(), meters);
            }
        } catch (SQLException e) {
            close();
            throw new StoreException("cannot open " + url() + ": " + e.getMessage(), e);
        }
        try {
            inTransaction("migrate schema", c -> {
                Schema.migrate(c, Dialect.SQLITE);
                return null;
            });
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    private Connection connect(boolean readOnly) throws SQLException {
        SQLiteConfig sqlite = new SQLiteConfig();
        if (readOnly) {
            sqlite.setJournalMode(SQLiteConfig.JournalMode.WAL);
        }
        sqlite.setSynchronous(SQLiteConfig.SynchronousMode.NORMAL);
        sqlite.setBusyTimeout(BUSY_TIMEOUT_MILLIS);
        sqlite.setTransactionMode(SQLiteConfig.TransactionMode.IMMEDIATE);
        // Nothing reads generated keys: without this, every execution of an INSERT also runs a query of the last
        // row id, a statement prepared, stepped and closed per group of rows a flush writes.
        sqlite.setGetGeneratedKeys(false);
        Connection c = sqlite.createConnection(url());
        try (Statement st = c.createStatement()) {
            if (readOnly) {
                // Query-only rather than a read-only open: the first open must be able to create the WAL files.
                st.execute("PRAGMA query_only = true");
            } else {
                // The writer opens first. A new file takes its page size when its first table is written, and only
                // before it enters WAL mode, which the driver would set ahead of the page size: both are set here.
                st.execute("PRAGMA page_size = " + pageSize);
                st.execute("PRAGMA journal_mode = WAL");
                if (checkpointsApart) {
                    st.execute("PRAGMA wal_autocheckpoint = " + WRITER_AUTOCHECKPOINT_PAGES);
                }
            }
        } catch (SQLException e) {
            c.close();
            throw e;
        }
        return c;
    }

    /** The checkpoints' connection: syncing as the writer does, so a checkpoint syncs the log before copying it. */
    private Connection connectCheckpointer() throws SQLException {
        SQLiteConfig sqlite = new SQLiteConfig();
        sqlite.setSynchronous(SQLiteConfig.SynchronousMode.NORMAL);
        sqlite.setBusyTimeout(BUSY_TIMEOUT_MILLIS);
        return sqlite.createConnection(url());
    }

    @Override
    public void written() {
        SqliteCheckpoints c = checkpoints;
        if (c != null) {
            c.request();
        }
    }

    /** The log's checkpoints apart from the writer, or null when the writer's commits checkpoint it. */
    SqliteCheckpoints checkpoints() {
        return checkpoints;
    }

    @Override
    public <T> T inTransaction(String what, Work<T> work) {
        writeLock.lock();
        try {
            Connection c = connection(writer);
            c.setAutoCommit(false);
            try {
                T result = work.run(c);
                c.commit();
                return result;
            } catch (SQLException | RuntimeException e) {
                rollback(c, e);
                throw e;
            } finally {
                c.setAutoCommit(true);
            }
        } catch (SQLException e) {
            throw new StoreException(what + " failed on " + url() + ": " + e.getMessage(), e);
        } finally {
            writeLock.unlock();
        }
    }

    @Override
    public <T> T read(String what, Work<T> work) {
        return readOn(readers, what, work);
    }

    @Override
    public <T> T readApart(String what, Work<T> work) {
        return readOn(apart, what, work);
    }

    /** Runs {@code work} on a connection of {@code from}, waiting for one while all are lent. */
    private <T> T readOn(SqliteReaders from, String what, Work<T> work) {
        Connection c = null;
        try {
            c = connection(from == null ? null : from.take());
            return work.run(c);
        } catch (SQLException e) {
            throw new StoreException(what + " failed on " + url() + ": " + e.getMessage(), e);
        } finally {
            if (c != null) {
                from.give(c);
            }
        }
    }

    private Connection connection(Connection c) {
        if (c == null) {
            throw new StoreException("store at " + url() + " is not open (expected: open() before use)");
        }
        return c;
    }

    private static void rollback(Connection c, Exception cause) {
        try {
            c.rollback();
        } catch (SQLException e) {
            cause.addSuppressed(e);
        }
    }

    @Override
    public void close() {
        closeReaders(apart);
        closeReaders(readers);
        writeLock.lock();
        try {
            SqliteCheckpoints c = checkpoints;
            checkpoints = null;
            if (c != null) {
                c.close();
            }
            closeQuietly(writer);
            writer = null;
        } finally {
            writeLock.unlock();
        }
    }

    /** Closes {@code r}'s connections once no read holds them; a read that starts after it finds the store closed. */
    private static void closeReaders(SqliteReaders r) {
        if (r != null) {
            r.close();
        }
    }

    static void closeQuietly(Connection c) {
        if (c == null) {
            return;
        }
        try {
            c.close();
        } catch (SQLException e) {
            // Closing releases the file; a failure here leaves nothing the caller could act on.
        }
    }
}
