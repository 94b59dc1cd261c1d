package dev.meterline.store;

import dev.meterline.config.StoreConfig;
import dev.meterline.config.Tier;
import dev.meterline.model.SeriesKey;
import dev.meterline.telemetry.StoreMeters;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static dev.meterline.store.StoreContract.T0;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link StoredSelectionsContract} on a real (embedded) PostgreSQL, started once for the class with a fresh database
 * per test; and two replicas on one database committing series ids out of order: a series whose lower id commits
 * after a read saw a higher one is in the next read, whether its transaction commits or rolls back, and a series
 * committed between an ask's look at the ids and its read is read once.
 */
final class PostgresStoredSelectionsTest extends StoredSelectionsContract {

    private static final long WAIT_SECONDS = 30;
    @RegisterExtension
    static final PostgresDatabases postgres = new PostgresDatabases();

    private String url;

    @BeforeEach
    void createDatabase() throws Exception {
        url = postgres.url(postgres.create("selections"));
    }

    @Override
    StoreConfig config(String replica, int selectionRows) {
        return new StoreConfig(Path.of("unused"), url, "postgres", "", Tier.parseList("10s:1h"), replica,
                StoreConfig.DEFAULT_TIMEOUT, StoreConfig.DEFAULT_MAX_PENDING_WINDOWS,
                StoreConfig.DEFAULT_SPOOL_MAX_BYTES, StoreConfig.DEFAULT_THREADS, StoreConfig.DEFAULT_MAX_SERIES,
                selectionRows);
    }

    @Override
    Dialect dialect() {
        return Dialect.POSTGRES;
    }

    /**
     * A write of one window by another replica, its transaction held open after its work (its series has its id)
     * until released, then committed or rolled back.
     */
    private static final class HeldWrite implements InterceptedDb.Hooks {

        final CountDownLatch inside = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);
        final boolean rollBack;

        HeldWrite(boolean rollBack) {
            this.rollBack = rollBack;
        }

        @Override
        public void after(int n, Connection c) throws SQLException {
            inside.countDown();
            try {
                assertTrue(release.await(WAIT_SECONDS, TimeUnit.SECONDS), "released");
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new SQLException(e);
            }
            if (rollBack) {
                throw new SQLException("rolled back by the test");
            }
        }
    }

    /** Replica r2 on this test's database, its writes of one window held by {@code hooks}. */
    private JdbcStore replica(InterceptedDb.Hooks hooks) {
        StoreConfig config = config("r2", 0);
        JdbcStore store = open(new JdbcStore(new InterceptedDb(new PostgresDb(config, JdbcStore.poolSize(config)),
                "write 1 windows", hooks), Dialect.POSTGRES, config, clock, JdbcStore.ROLLUP_DELAY));
        store.open();
        return store;
    }

    private static final SeriesKey LATE = cpu("host", "h13", "dc", "us", "zone", "late");

    /**
     * Replica r2 takes a series id for {@link #LATE} and holds its transaction open; r1 then stores two series under
     * higher ids, and {@code whileHeld} runs; then r2's transaction commits (or rolls back).
     */
    private void lowerIdHeldOpen(JdbcStore store, boolean rollBack, Runnable whileHeld) throws Exception {
        HeldWrite held = new HeldWrite(rollBack);
        JdbcStore other = replica(held);
        ExecutorService pool = Executors.newSingleThreadExecutor();
        try {
            Future<?> write = pool.submit(() -> other.write(windows(List.of(LATE), T0 + RESOLUTION)));
            assertTrue(held.inside.await(WAIT_SECONDS, TimeUnit.SECONDS), "r2's write holds its series id");
            store.write(windows(List.of(cpu("host", "h13", "dc", "eu", "zone", "b"), cpu("host", "h2", "zone", "b")),
                    T0 + 2 * RESOLUTION));
            whileHeld.run();
            held.release.countDown();
            try {
                write.get(WAIT_SECONDS, TimeUnit.SECONDS);
            } catch (ExecutionException e) {
                assertTrue(rollBack, "only the rolled back write fails: " + e.getCause());
            }
        } finally {
            held.release.countDown();
            pool.shutdownNow();
        }
    }

    private static boolean holdsLate(JdbcStore store, WindowTable table) {
        return rows(select(store, table, byKey("host", "h13"), null)).contains("\"zone\":\"late\"");
    }

    @Test
    void aLowerSeriesIdCommittedAfterAReadSawAHigherOneIsInTheNextRead() throws Exception {
        JdbcStore store = open(0);
        StoredSelections selections = selections(100_000);
        WindowTable kept = new WindowTable(Dialect.POSTGRES, selections);
        store.write(windows(hosts(0, 20), T0));
        sameAsScan(store, kept, scan, "first asks");
        int asks = asks().size();
        assertEquals(asks, lookups(keptRegistry, "miss"));
        assertEquals(0, selections.gapCount());

        lowerIdHeldOpen(store, false, () -> {
            sameAsScan(store, kept, scan, "r2's lower id not committed");
            assertFalse(holdsLate(store, kept));
            assertEquals(1, selections.gapCount(), "r2's id: no read found it, and its transaction runs");
            sameAsScan(store, kept, scan, "asked again");
        });
        assertTrue(holdsLate(store, scan), "committed");
        sameAsScan(store, kept, scan, "r2's lower id committed");
        assertTrue(holdsLate(store, kept));
        assertEquals(0, selections.gapCount(), "every transaction that could hold an id read has ended");
        assertEquals(asks, lookups(keptRegistry, "miss"), "every later ask read only ids after and in the gaps");
    }

    /** Listings by named values list what the scan lists while a lower id is held open, and once it committed. */
    @Test
    void listingsListALowerSeriesIdCommittedAfterAListingSawAHigherOne() throws Exception {
        JdbcStore store = open(0);
        StoredSelections selections = selections(100_000);
        WindowTable kept = new WindowTable(Dialect.POSTGRES, selections);
        store.write(windows(hosts(0, 20), T0));
        sameListingsAsScan(store, kept, scan, "first listings");

        lowerIdHeldOpen(store, false, () -> {
            sameListingsAsScan(store, kept, scan, "r2's lower id not committed");
            assertEquals(1, selections.gapCount());
        });
        assertTrue(listing(store, scan, byKey("host", "h13"), null, 10).contains(TagsJson.encode(LATE)), "committed");
        sameListingsAsScan(store, kept, scan, "r2's lower id committed");
        assertEquals(0, selections.gapCount());
        assertEquals(asks().size(), lookups(keptRegistry, "miss"), "every later listing read only ids after and in gaps");
    }

    @Test
    void aLowerSeriesIdRolledBackLeavesTheGapsOnceItsTransactionEnded() throws Exception {
        JdbcStore store = open(0);
        StoredSelections selections = selections(100_000);
        WindowTable kept = new WindowTable(Dialect.POSTGRES, selections);
        store.write(windows(hosts(0, 20), T0));
        sameAsScan(store, kept, scan, "first asks");

        lowerIdHeldOpen(store, true, () -> {
            sameAsScan(store, kept, scan, "r2's lower id not committed");
            assertEquals(1, selections.gapCount());
        });
        sameAsScan(store, kept, scan, "r2's lower id rolled back");
        assertFalse(holdsLate(store, kept));
        assertEquals(0, selections.gapCount());
        assertEquals(asks().size(), lookups(keptRegistry, "miss"));
    }

    /**
     * Selections first asked while another replica holds a lower id read every ask whole (the ids the first look
     * took as read are not final), and keep their series once that transaction ended.
     */
    @Test
    void selectionsFirstAskedWhileALowerIdMayStillCommitAreReadWholeUntilItsTransactionEnded() throws Exception {
        JdbcStore store = open(0);
        SimpleMeterRegistry lateRegistry = new SimpleMeterRegistry();
        StoredSelections selections = new StoredSelections(100_000, new StoreMeters(lateRegistry), Dialect.POSTGRES);
        WindowTable kept = new WindowTable(Dialect.POSTGRES, selections);
        store.write(windows(hosts(0, 20), T0));

        lowerIdHeldOpen(store, false, () -> {
            sameAsScan(store, kept, scan, "first asks, r2's lower id not committed");
            sameAsScan(store, kept, scan, "asked again");
            assertEquals(-1, selections.gapCount(), "not listed: the ids up to the first look's may still appear");
            assertEquals(0, lookups(lateRegistry, "hit"));
            assertEquals(selections.selections(), selections.rows(), "no series kept, each selection weighs itself");
        });
        sameAsScan(store, kept, scan, "r2's lower id committed");
        assertTrue(holdsLate(store, kept));
        assertEquals(0, selections.gapCount());
        double hits = lookups(lateRegistry, "hit");
        sameAsScan(store, kept, scan, "asked again");
        assertEquals(hits + 2 * asks().size(), lookups(lateRegistry, "hit"));
    }

    /**
     * {@code c}, running {@code before} once, just before it prepares the first statement that reads a selection's
     * rows: a commit between the look at the ids and the read.
     */
    private static Connection beforeSelectionRead(Connection c, Runnable before) {
        boolean[] done = {false};
        return (Connection) Proxy.newProxyInstance(Connection.class.getClassLoader(), new Class<?>[] {Connection.class},
                (proxy, method, args) -> {
                    if (!done[0] && method.getName().equals("prepareStatement")
                            && ((String) args[0]).startsWith("SELECT (SELECT epoch FROM meterline_series_epoch)")) {
                        done[0] = true;
                        before.run();
                    }
                    try {
                        return method.invoke(c, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
    }

    private static final List<List<String>> H13 = List.of(List.of(TagsJson.pair("host", "h13")));

    /** Host h13's series' ids as {@code selections} selects them, {@code before} run between the look and the read. */
    private static List<Long> h13(JdbcStore store, StoredSelections selections, Runnable before) {
        return ids(store.db().read("read", c -> selections.select(beforeSelectionRead(c, before), "cpu", H13)));
    }

    /** The ids of host h13's series in the store. */
    private static List<Long> h13Stored(JdbcStore store) {
        return store.db().read("scan", c -> {
            List<Long> out = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT id FROM meterline_series WHERE metric = 'cpu'"
                    + " AND strpos(tags, ?) > 0 ORDER BY id")) {
                ps.setString(1, H13.get(0).get(0));
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.add(rs.getLong(1));
                    }
                }
            }
            return out;
        });
    }

    /** A series committed between an ask's look at the ids and its read is read once: by the next ask. */
    @Test
    void aSeriesCommittedBetweenTheLookAndTheReadIsReadOnce() {
        JdbcStore store = open(0);
        StoredSelections selections = selections(100_000);
        store.write(windows(hosts(0, 20), T0));
        List<Long> before = h13(store, selections, () -> { });
        List<Long> during = h13(store, selections, () -> store.write(windows(List.of(LATE), T0)));

        assertEquals(before, during, "stored after the look: left to the next ask");
        List<Long> after = h13(store, selections, () -> { });
        assertEquals(2, after.size(), after.toString());
        assertEquals(h13Stored(store), after);
        assertEquals(after, h13(store, selections, () -> { }));
    }

    /**
     * A lower id committed between an ask's look at the ids and its read is found by the read in its gap, and leaves
     * the selection's gaps though the look still listed it: the next ask does not read it again.
     */
    @Test
    void aLowerIdCommittedBetweenTheLookAndTheReadIsReadOnce() throws Exception {
        JdbcStore store = open(0);
        StoredSelections selections = selections(100_000);
        store.write(windows(hosts(0, 20), T0));
        h13(store, selections, () -> { });

        HeldWrite held = new HeldWrite(false);
        JdbcStore other = replica(held);
        ExecutorService pool = Executors.newSingleThreadExecutor();
        try {
            Future<?> write = pool.submit(() -> other.write(windows(List.of(LATE), T0)));
            assertTrue(held.inside.await(WAIT_SECONDS, TimeUnit.SECONDS));
            store.write(windows(List.of(cpu("host", "h13", "zone", "b")), T0));
            assertEquals(2, h13(store, selections, () -> { }).size());
            assertEquals(1, selections.gapCount());
            List<Long> found = h13(store, selections, () -> {
                held.release.countDown();
                try {
                    write.get(WAIT_SECONDS, TimeUnit.SECONDS);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            assertEquals(3, found.size(), "found in the gap: " + found);
        } finally {
            held.release.countDown();
            pool.shutdownNow();
        }
        List<Long> after = h13(store, selections, () -> { });
        assertEquals(h13Stored(store), after);
        assertEquals(after, h13(store, selections, () -> { }));
        assertEquals(0, selections.gapCount());
    }
}
