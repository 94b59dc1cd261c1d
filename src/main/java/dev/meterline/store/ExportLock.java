package dev.meterline.store;

/**
 * The right to export to one receiver, held by one replica of a shared store at a time: a PostgreSQL session
 * advisory lock, released by the database when its holder's connection ends (process death included). On the
 * embedded store there is one replica and the lock is always held.
 */
public interface ExportLock extends AutoCloseable {

    /** True while this process holds the lock; tries to take it when it does not. Blocks on the database. */
    boolean hold();

    /** Releases the lock. */
    @Override
    void close();
}
