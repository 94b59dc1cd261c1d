package dev.meterline.store;

import dev.meterline.config.StoreConfig;

import java.time.Clock;
import java.util.Map;
import java.util.TreeMap;

/**
 * A store whose write transactions are timed by what they do ({@link Db#inTransaction}'s {@code what}), from the
 * moment the database lends the writer to the commit: how long each kind holds it. Built as {@link Store#connect}
 * builds a store, from the package's own classes, so a bench compiled against any build's jar times that build.
 */
public final class TimedTransactions {

    /** Transactions of one kind: how many, the longest and the total, in nanoseconds. */
    public record Times(long count, long longest, long total) {
    }

    private final Map<String, long[]> times = new TreeMap<>();

    /** Opens the store of {@code config}, as {@link Store#connect(StoreConfig, Clock)} does, with its writes timed. */
    public Store connect(StoreConfig config, Clock clock) {
        Db db = config.url().startsWith("jdbc:postgresql:")
                ? new PostgresDb(config, JdbcStore.poolSize(config))
                : new SqliteDb(config, SqliteDb.STORE_PAGE_SIZE, true);
        Dialect dialect = db instanceof PostgresDb ? Dialect.POSTGRES : Dialect.SQLITE;
        Store store = new JdbcStore(new Timed(db), dialect, config, clock, JdbcStore.ROLLUP_DELAY);
        store.open();
        return store;
    }

    /** The times of the transactions whose kind starts with {@code prefix}, taken together. */
    public synchronized Times of(String prefix) {
        long count = 0;
        long longest = 0;
        long total = 0;
        for (Map.Entry<String, long[]> e : times.entrySet()) {
            if (e.getKey().startsWith(prefix)) {
                count += e.getValue()[0];
                longest = Math.max(longest, e.getValue()[1]);
                total += e.getValue()[2];
            }
        }
        return new Times(count, longest, total);
    }

    /** Forgets every time taken so far. */
    public synchronized void clear() {
        times.clear();
    }

    private synchronized void record(String what, long nanos) {
        long[] t = times.computeIfAbsent(what, k -> new long[3]);
        t[0]++;
        t[1] = Math.max(t[1], nanos);
        t[2] += nanos;
    }

    /** {@code db} with each transaction timed from inside it: the wait for the writer is not counted. */
    private final class Timed implements Db {

        private final Db db;

        Timed(Db db) {
            this.db = db;
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
            long[] began = new long[1];
            T result = db.inTransaction(what, c -> {
                began[0] = System.nanoTime();
                return work.run(c);
            });
            // The commit is part of the hold.
            record(what, System.nanoTime() - began[0]);
            return result;
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
}
