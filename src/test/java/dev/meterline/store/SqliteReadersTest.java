package dev.meterline.store;

import dev.meterline.config.StoreConfig;
import dev.meterline.config.Tier;
import dev.meterline.telemetry.StoreMeters;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The embedded store's read-only connections: opened as reads need them, at most one per store thread. */
@Timeout(value = 30, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
final class SqliteReadersTest {

    @TempDir
    Path dir;

    private final List<Integer> heard = new ArrayList<>();

    private Connection connect() throws SQLException {
        return DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("readers.db"));
    }

    /** Waits until {@code t} parks: a take waiting for a connection to be given back. */
    private static void awaitParked(Thread t) {
        while (t.getState() != Thread.State.WAITING) {
            assertTrue(t.isAlive(), "the taking thread ended instead of waiting");
            Thread.onSpinWait();
        }
    }

    @Test
    void connectionsOpenOnlyAsReadsNeedThemAndAreUsedAgain() throws Exception {
        AtomicInteger opens = new AtomicInteger();
        SqliteReaders readers = new SqliteReaders(2, () -> {
            opens.incrementAndGet();
            return connect();
        }, heard::add);
        assertEquals(0, readers.open());

        Connection first = readers.take();
        readers.give(first);
        Connection again = readers.take();

        assertSame(first, again);
        assertEquals(1, opens.get());
        Connection second = readers.take();
        assertEquals(2, opens.get());
        assertEquals(List.of(1, 2), heard);
        readers.give(second);
        readers.give(again);
        readers.close();
        assertEquals(0, readers.open());
        assertEquals(List.of(1, 2, 0), heard);
        assertTrue(first.isClosed() && second.isClosed());
    }

    @Test
    void aReadPastTheBoundWaitsForAConnectionToBeGivenBack() throws Exception {
        SqliteReaders readers = new SqliteReaders(1, this::connect, heard::add);
        Connection held = readers.take();
        CompletableFuture<Connection> next = new CompletableFuture<>();
        Thread waiting = new Thread(() -> {
            try {
                next.complete(readers.take());
            } catch (Throwable e) {
                next.completeExceptionally(e);
            }
        });
        waiting.start();
        awaitParked(waiting);
        assertFalse(next.isDone());

        readers.give(held);

        assertSame(held, next.get(30, TimeUnit.SECONDS));
        assertEquals(1, readers.open());
        readers.give(held);
        readers.close();
    }

    @Test
    void aConnectionThatFailsToOpenLeavesItsPlaceToTheNextRead() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        SqliteReaders readers = new SqliteReaders(1, () -> {
            if (calls.incrementAndGet() == 1) {
                throw new SQLException("disk I/O error");
            }
            return connect();
        }, heard::add);

        assertThrows(SQLException.class, readers::take);
        Connection c = readers.take();

        assertEquals(1, readers.open());
        readers.give(c);
        readers.close();
    }

    @Test
    void closingWaitsForTheLentConnectionsAndLaterReadsFindItClosed() throws Exception {
        SqliteReaders readers = new SqliteReaders(2, this::connect, heard::add);
        Connection lent = readers.take();
        readers.give(readers.take());
        CountDownLatch closed = new CountDownLatch(1);
        Thread closing = new Thread(() -> {
            readers.close();
            closed.countDown();
        });
        closing.start();
        awaitParked(closing);
        assertEquals(1, readers.open());
        assertFalse(lent.isClosed());

        readers.give(lent);

        assertTrue(closed.await(30, TimeUnit.SECONDS));
        assertTrue(lent.isClosed());
        assertEquals(0, readers.open());
        assertNull(readers.take());
    }

    @Test
    void theStoreOpensAReadConnectionPerStoreThreadAtMostAndMetersThem() throws Exception {
        StoreMeters meters = new StoreMeters(new SimpleMeterRegistry());
        StoreConfig config = new StoreConfig(dir.resolve("data"), "", "", "", Tier.parseList("10s:1d"), "r1",
                StoreConfig.DEFAULT_TIMEOUT, StoreConfig.DEFAULT_MAX_PENDING_WINDOWS, StoreConfig.DEFAULT_SPOOL_MAX_BYTES,
                2);
        SqliteDb db = new SqliteDb(config, SqliteDb.STORE_PAGE_SIZE, true, meters);
        db.open();
        try {
            assertEquals(0, meters.readConnections());
            CountDownLatch bothReading = new CountDownLatch(2);
            CountDownLatch release = new CountDownLatch(1);
            List<CompletableFuture<Integer>> reads = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                reads.add(CompletableFuture.supplyAsync(() -> db.read("held", c -> {
                    bothReading.countDown();
                    try {
                        release.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    return 1;
                })));
            }
            assertTrue(bothReading.await(30, TimeUnit.SECONDS), "two reads at once");
            assertEquals(2, meters.readConnections());
            release.countDown();
            for (CompletableFuture<Integer> r : reads) {
                assertEquals(1, r.get(30, TimeUnit.SECONDS));
            }
            db.read("one more", c -> 1);
            assertEquals(2, meters.readConnections());
        } finally {
            db.close();
        }
        assertEquals(0, meters.readConnections());
        StoreException e = assertThrows(StoreException.class, () -> db.read("after close", c -> 1));
        assertTrue(e.getMessage().contains("is not open"), e.getMessage());
    }
}
