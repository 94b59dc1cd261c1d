package dev.meterline.store;

import java.sql.Connection;
import java.sql.SQLException;

/** How a store lends out JDBC connections: one transaction for writes, a plain read for queries. */
interface Db {

    /** Connects (or creates the database file) and prepares the connections. */
    void open();

    /** Releases every connection. */
    void close();

    /** Runs {@code work} in one transaction on a connection that may write; commits, or rolls back and throws. */
    <T> T inTransaction(String what, Work<T> work);

    /**
     * Called after a committed write of windows: lets the database tidy its log off the writer's path (SQLite copies
     * the log into the database file on a thread of its own); nothing by default.
     */
    default void written() {
    }

    /** Runs {@code work} on a connection used only for reading, the one queries read on. */
    <T> T read(String what, Work<T> work);

    /**
     * Runs {@code work} on a connection used only for reading that queries never wait for: the store's own reads
     * (rollup's scans, the export's reads), which run at ingest's priority and would otherwise hold a query's read
     * while they wait for a core. As {@link #read} where every read has a connection of its own.
     */
    default <T> T readApart(String what, Work<T> work) {
        return read(what, work);
    }

    /** A unit of JDBC work. */
    @FunctionalInterface
    interface Work<T> {
        T run(Connection c) throws SQLException;
    }
}
