package dev.meterline.store;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayDeque;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.IntConsumer;

/**
 * Read-only connections to one SQLite file, opened as reads first need them, up to a bound. In WAL mode each
 * connection reads its own snapshot and waits neither for the writer nor for another reader, so as many reads run at
 * once as there are connections: a quick query is not held up behind a long scan. A read past the bound waits for a
 * connection to be given back; a connection given back stays open for the next read (its page cache warm), until
 * {@link #close}.
 */
final class SqliteReaders implements AutoCloseable {

    /** Opens one read-only connection. */
    @FunctionalInterface
    interface Opener {
        Connection open() throws SQLException;
    }

    private final int max;
    private final Opener opener;
    /** Told the number of open connections whenever it changes. */
    private final IntConsumer opened;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition given = lock.newCondition();
    /** Open connections no read holds, the most recently given back last; guarded by {@link #lock}. */
    private final ArrayDeque<Connection> idle = new ArrayDeque<>();
    /** Connections open or being opened, idle or lent; guarded by {@link #lock}. */
    private int open;
    private boolean closed;

    /** At most {@code max} connections, each opened by {@code opener}; {@code opened} hears their number. */
    SqliteReaders(int max, Opener opener, IntConsumer opened) {
        if (max < 1) {
            throw new IllegalArgumentException("max: " + max + " (expected: > 0)");
        }
        this.max = max;
        this.opener = opener;
        this.opened = opened;
    }

    /**
     * A connection for one read, to be given back with {@link #give}: an idle one, else a new one while fewer than
     * the bound are open, else the first one given back. Null once closed.
     */
    Connection take() throws SQLException {
        lock.lock();
        try {
            while (true) {
                if (closed) {
                    return null;
                }
                Connection c = idle.pollLast();
                if (c != null) {
                    return c;
                }
                if (open < max) {
                    open++;
                    break;
                }
                given.awaitUninterruptibly();
            }
        } finally {
            lock.unlock();
        }
        Connection c;
        try {
            c = opener.open();
        } catch (SQLException | RuntimeException e) {
            lock.lock();
            try {
                open--;
                given.signalAll();
            } finally {
                lock.unlock();
            }
            throw e;
        }
        opened.accept(open());
        return c;
    }

    /** Gives back a connection {@link #take} lent; once closed, closes it. */
    void give(Connection c) {
        lock.lock();
        try {
            if (closed) {
                open--;
                SqliteDb.closeQuietly(c);
                given.signalAll();
                opened.accept(open);
            } else {
                idle.addLast(c);
                given.signal();
            }
        } finally {
            lock.unlock();
        }
    }

    /** The connections open now, idle or lent. */
    int open() {
        lock.lock();
        try {
            return open;
        } finally {
            lock.unlock();
        }
    }

    /** Closes the idle connections, then waits for the lent ones to be given back and closes them too. */
    @Override
    public void close() {
        lock.lock();
        try {
            closed = true;
            for (Connection c; (c = idle.pollFirst()) != null; ) {
                open--;
                SqliteDb.closeQuietly(c);
            }
            opened.accept(open);
            while (open > 0) {
                given.awaitUninterruptibly();
            }
        } finally {
            lock.unlock();
        }
    }
}
