package dev.meterline.store;

import java.sql.Connection;
import java.sql.SQLException;

/**
 * A real {@link Db} whose write transactions of one kind ({@code what}) let a test act around them, numbered from 1:
 * before the n-th begins, and inside it after its work, before the commit (where a throw rolls the work back).
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
    }

    private final Db db;
    private final String what;
    private final Hooks hooks;
    private int count;

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
        return db.read(what, work);
    }
}
