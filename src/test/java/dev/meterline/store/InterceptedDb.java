package dev.meterline.store;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A real {@link Db} whose write transactions of one kind ({@code what}) let a test act around them, numbered from 1:
 * before the n-th begins, and inside it after its work, before the commit (where a throw rolls the work back); and
 * whose reads of that kind, a query's ({@link Db#read}) or the store's own ({@link Db#readApart}), let it act inside
 * them.
 */
final class InterceptedDb implements Db {

    /** What a test does around the n-th transaction of the kind. */
    interface Hooks {

        /** Before the n-th transaction begins, outside any transaction. */
        default void before(int n) throws Exception {
        }

        /** Inside the n-th transaction, after its work and before its commit. */
        default void after(int n, Connection c) throws SQLException {
        }

        /** Inside the n-th read of the kind, on its connection, before its work. */
        default void reading(int n) throws Exception {
        }
    }

    private final Db db;
    private final String what;
    private final Hooks hooks;
    private int count;
    /** Reads may run on several threads at once. */
    private final AtomicInteger reads = new AtomicInteger();

    InterceptedDb(Db db, String what, Hooks hooks) {
        this.db = db;
        this.what = what;
        this.hooks = hooks;
    }

    @Override
    public void open() {
        db.open();
    }

    @Override
    public void close() {
        db.close();
    }

    @Override
    public <T> T inTransaction(String what, Work<T> work) {
        if (!what.equals(this.what)) {
            return db.inTransaction(what, work);
        }
        int n = ++count;
        try {
            hooks.before(n);
        } catch (Exception e) {
            throw new IllegalStateException("before transaction " + n + " of " + what + ": " + e, e);
        }
        return db.inTransaction(what, c -> {
            T result = work.run(c);
            hooks.after(n, c);
            return result;
        });
    }

    @Override
    public void written() {
        db.written();
    }

    @Override
    public <T> T read(String what, Work<T> work) {
        return db.read(what, hooked(what, work));
    }

    @Override
    public <T> T readApart(String what, Work<T> work) {
        return db.readApart(what, hooked(what, work));
    }

    /** {@code work}, after the hook when it is a read of the kind. */
    private <T> Work<T> hooked(String what, Work<T> work) {
        if (!what.equals(this.what)) {
            return work;
        }
        int n = reads.incrementAndGet();
        return c -> {
            try {
                hooks.reading(n);
            } catch (Exception e) {
                throw new IllegalStateException("inside read " + n + " of " + what + ": " + e, e);
            }
            return work.run(c);
        };
    }
}
