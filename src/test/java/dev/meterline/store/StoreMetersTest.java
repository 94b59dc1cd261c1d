package dev.meterline.store;

import dev.meterline.Background;
import dev.meterline.LineClient;
import dev.meterline.Poll;
import dev.meterline.TestServer;
import dev.meterline.config.StoreConfig;
import dev.meterline.config.Tier;
import dev.meterline.model.SeriesKey;
import dev.meterline.model.Window;
import dev.meterline.telemetry.CheckpointFailure;
import dev.meterline.telemetry.MeterNames;
import dev.meterline.telemetry.StoreMeters;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static dev.meterline.store.StoreContract.SECOND;
import static dev.meterline.store.StoreContract.T0;
import static dev.meterline.store.StoreContract.window;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The store's meters on a real SQLite file: a write's time, the log's checkpoints and the pages they find and leave,
 * and checkpoints that copy nothing because another connection holds the checkpoint lock or the connection fails.
 */
class StoreMetersTest {

    private static final long WAIT_MILLIS = 60_000;

    @TempDir
    Path dir;

    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final StoreMeters meters = new StoreMeters(registry);
    private final List<AutoCloseable> opened = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (int i = opened.size() - 1; i >= 0; i--) {
            opened.get(i).close();
        }
    }

    private Path dataDir() {
        return dir.resolve("data");
    }

    private String url() {
        return "jdbc:sqlite:" + dataDir().resolve(SqliteDb.FILE_NAME);
    }

    private Store open() {
        Store store = Store.connect(new StoreConfig(dataDir(), "", "", "", Tier.parseList("10s:24h"), "r1"),
                Clock.systemUTC(), meters);
        opened.add(store);
        return store;
    }

    private static SqliteCheckpoints checkpoints(Store store) {
        return ((SqliteDb) ((JdbcStore) store).db()).checkpoints();
    }

    /** One window at {@code start} of each of {@code series} series. */
    private static List<Window> flush(int series, long start, long seq) {
        List<Window> out = new ArrayList<>(series);
        for (int s = 0; s < series; s++) {
            out.add(window(SeriesKey.of("cpu", Map.of("host", String.format("h%06d", s))), start, 10 * SECOND, seq,
                    true, s, s + 0.5));
        }
        return out;
    }

    /** A connection that reads the file in a transaction, holding the snapshot it read until it is closed. */
    private Connection readerHoldingASnapshot() throws Exception {
        Connection reader = DriverManager.getConnection(url());
        opened.add(reader);
        reader.setAutoCommit(false);
        try (Statement st = reader.createStatement();
             ResultSet rs = st.executeQuery("SELECT count(*) FROM meterline_window")) {
            assertTrue(rs.next());
        }
        return reader;
    }

    @Test
    void aWriteIsTimedAndTheCheckpointAfterItCountsTheLogsPages() throws Exception {
        Store store = open();
        SqliteCheckpoints checkpoints = checkpoints(store);
        assertEquals(0, meters.writes());
        assertEquals(0, meters.checkpoints());

        store.write(flush(5_000, T0, 1));
        checkpoints.awaitIdle(WAIT_MILLIS);

        assertEquals(1, registry.get(MeterNames.STORE_WRITE_DURATION).timer().count());
        assertTrue(registry.get(MeterNames.STORE_WRITE_DURATION).timer().totalTime(TimeUnit.NANOSECONDS) > 0);
        assertEquals(1.0, registry.get(MeterNames.STORE_CHECKPOINTS).counter().count());
        assertEquals(1, registry.get(MeterNames.STORE_CHECKPOINT_DURATION).timer().count());
        // Some 5 000 rows of about 200 bytes, with their keys and series: tens of pages of 16 KiB, all copied.
        double pages = registry.get(MeterNames.STORE_LOG_PAGES).gauge().value();
        assertTrue(pages >= 20, "log pages " + pages);
        assertEquals(0.0, registry.get(MeterNames.STORE_LOG_LEFT_PAGES).gauge().value());
        for (CheckpointFailure f : CheckpointFailure.values()) {
            assertEquals(0.0, registry.get(MeterNames.STORE_CHECKPOINT_FAILURES).tag("reason", f.tag()).counter()
                    .count(), f.tag());
        }
    }

    /**
     * At the series budget the store keeps the texts of max-series series and says so; a flush with one more series
     * still stores every window, and the write after it starts the table afresh and counts that.
     */
    @Test
    void theKeptSeriesStopAtMaxSeriesAndEveryWindowIsStillStored() throws Exception {
        Store store = Store.connect(new StoreConfig(dataDir(), "", "", "", Tier.parseList("10s:24h"), "r1",
                StoreConfig.DEFAULT_TIMEOUT, StoreConfig.DEFAULT_MAX_PENDING_WINDOWS,
                StoreConfig.DEFAULT_SPOOL_MAX_BYTES, StoreConfig.DEFAULT_THREADS, 3), Clock.systemUTC(), meters);
        opened.add(store);

        store.write(flush(3, T0, 1));
        store.write(flush(3, T0 + 10 * SECOND, 2));
        assertEquals(3.0, registry.get(MeterNames.STORE_SERIES_KEPT).gauge().value());
        assertEquals(0.0, registry.get(MeterNames.STORE_SERIES_KEPT_FULL).functionCounter().count());

        store.write(flush(4, T0 + 20 * SECOND, 3));
        assertEquals(3.0, registry.get(MeterNames.STORE_SERIES_KEPT).gauge().value());
        assertEquals(0.0, registry.get(MeterNames.STORE_SERIES_KEPT_FULL).functionCounter().count());

        store.write(store.inKeyOrder(flush(4, T0 + 30 * SECOND, 4)));
        assertEquals(3.0, registry.get(MeterNames.STORE_SERIES_KEPT).gauge().value());
        assertEquals(1.0, registry.get(MeterNames.STORE_SERIES_KEPT_FULL).functionCounter().count());

        try (Connection c = DriverManager.getConnection(url());
             Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT count(*), count(DISTINCT w.series_id) FROM meterline_window w"
                     + " JOIN meterline_series s ON s.id = w.series_id AND s.metric = w.metric")) {
            assertTrue(rs.next());
            assertEquals(3 + 3 + 4 + 4, rs.getLong(1));
            assertEquals(4, rs.getLong(2), "each series stored once, under one id");
        }
    }

    @Test
    void pagesAReaderStillUsesAreLeftInTheLogUntilItEnds() throws Exception {
        Store store = open();
        SqliteCheckpoints checkpoints = checkpoints(store);
        store.write(flush(2_000, T0, 1));
        checkpoints.awaitIdle(WAIT_MILLIS);
        assertEquals(0, meters.logPagesLeft());

        Connection reader = readerHoldingASnapshot();
        store.write(flush(2_000, T0 + 10 * SECOND, 2));
        checkpoints.awaitIdle(WAIT_MILLIS);

        assertEquals(2, meters.checkpoints());
        assertTrue(meters.logPagesLeft() > 0, "pages left " + meters.logPagesLeft() + " of " + meters.logPages());
        assertTrue(meters.logPagesLeft() <= meters.logPages());

        reader.close();
        store.write(flush(2_000, T0 + 20 * SECOND, 3));
        checkpoints.awaitIdle(WAIT_MILLIS);

        assertEquals(3, meters.checkpoints());
        assertEquals(0, meters.logPagesLeft());
        assertEquals(0, meters.checkpointFailures(CheckpointFailure.BUSY) + meters.checkpointFailures(
                CheckpointFailure.ERROR));
    }

    @Test
    void aCheckpointThatFindsAnotherHoldingTheCheckpointLockIsCountedBusy() throws Exception {
        Store store = open();
        SqliteCheckpoints checkpoints = checkpoints(store);
        store.write(flush(2_000, T0, 1));
        checkpoints.awaitIdle(WAIT_MILLIS);
        Connection reader = readerHoldingASnapshot();
        store.write(flush(2_000, T0 + 10 * SECOND, 2));
        checkpoints.awaitIdle(WAIT_MILLIS);
        long ran = meters.checkpoints();

        // A FULL checkpoint on another connection takes the checkpoint lock, then waits (its busy handler) for the
        // reader to let go of the pages it has to copy: meanwhile every PASSIVE checkpoint finds the lock held.
        Files.createDirectories(dataDir());
        Connection other = DriverManager.getConnection(url());
        opened.add(other);
        try (Statement st = other.createStatement()) {
            st.execute("PRAGMA busy_timeout = " + WAIT_MILLIS);
        }
        CompletableFuture<Void> full = fullCheckpoint(other);
        try {
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(WAIT_MILLIS);
            while (meters.checkpointFailures(CheckpointFailure.BUSY) == 0 && System.nanoTime() < deadline) {
                if (full.isDone()) {
                    // It asked for the lock while a PASSIVE checkpoint held it, and gave up at once: ask again.
                    full.get();
                    full = fullCheckpoint(other);
                }
                checkpoints.request();
                checkpoints.awaitIdle(WAIT_MILLIS);
            }
            assertTrue(meters.checkpointFailures(CheckpointFailure.BUSY) > 0, "no checkpoint found the lock held");
            assertEquals(0, meters.checkpointFailures(CheckpointFailure.ERROR));
            assertEquals(checkpoints.failed(), meters.checkpointFailures(CheckpointFailure.BUSY));
        } finally {
            reader.close();
            full.get(WAIT_MILLIS, TimeUnit.MILLISECONDS);
        }

        // The lock free again, the next checkpoint runs.
        long busy = meters.checkpointFailures(CheckpointFailure.BUSY);
        checkpoints.request();
        checkpoints.awaitIdle(WAIT_MILLIS);
        assertEquals(busy, meters.checkpointFailures(CheckpointFailure.BUSY));
        assertTrue(meters.checkpoints() > ran);
    }

    /** A FULL checkpoint on {@code connection}, on a thread of its own. */
    private static CompletableFuture<Void> fullCheckpoint(Connection connection) {
        return Background.run("full checkpoint", () -> {
            try (Statement st = connection.createStatement();
                 ResultSet rs = st.executeQuery("PRAGMA wal_checkpoint(FULL)")) {
                rs.next();
            }
        });
    }

    @Test
    void aCheckpointOnAFailedConnectionIsCountedAsAnError() throws Exception {
        Files.createDirectories(dataDir());
        Connection closed = DriverManager.getConnection(url());
        closed.close();
        SqliteCheckpoints checkpoints = new SqliteCheckpoints(closed, meters);
        opened.add(checkpoints);

        checkpoints.request();
        checkpoints.awaitIdle(WAIT_MILLIS);

        assertEquals(1.0, registry.get(MeterNames.STORE_CHECKPOINT_FAILURES).tag("reason", "error").counter()
                .count());
        assertEquals(0, meters.checkpoints());
        assertEquals(1, registry.get(MeterNames.STORE_CHECKPOINT_DURATION).timer().count());
    }

    @Test
    void aServersMetricsShowItsStoresWritesAndCheckpoints() throws Exception {
        // The clock stands 0.3 s past a due moment; the points are a minute old, so the next tick closes their window.
        long now = Window.startOf(System.currentTimeMillis() - 10_000, 10_000) + 5_300;
        LongSupplier clock = () -> now;
        try (TestServer server = TestServer.start(dataDir(), Map.of(), null, clock)) {
            try (LineClient c = server.connect()) {
                c.send("{\"metric\":\"m\",\"value\":1,\"timestamp\":" + (now - 60_000) + ",\"tags\":{\"h\":\"a\"}}\n");
                assertEquals(1, c.sync("s").get("accepted").asLong());
            }
            Pattern written = Pattern.compile("(?m)^meterline_store_write_duration_seconds_count (\\S+)$");
            Pattern ran = Pattern.compile("(?m)^meterline_store_checkpoints_total (\\S+)$");
            String scraped = Poll.until(() -> server.get("/metrics").body(),
                    body -> value(written, body) >= 1 && value(ran, body) >= 1, Duration.ofSeconds(30));
            assertTrue(value(written, scraped) >= 1, scraped);
            assertTrue(value(ran, scraped) >= 1, scraped);
            assertTrue(scraped.contains("meterline_store_log_pages "), scraped);
            assertTrue(scraped.contains("meterline_store_log_left_pages "), scraped);
            assertTrue(scraped.contains("meterline_store_checkpoint_failures_total{reason=\"busy\"} 0.0"), scraped);
        }
    }

    private static double value(Pattern line, String body) {
        Matcher m = line.matcher(body);
        return m.find() ? Double.parseDouble(m.group(1)) : -1;
    }
}
