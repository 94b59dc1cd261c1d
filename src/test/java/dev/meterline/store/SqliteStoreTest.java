package dev.meterline.store;

import dev.meterline.config.ConfigException;
import dev.meterline.config.StoreConfig;
import dev.meterline.config.Tier;
import dev.meterline.model.SeriesKey;
import dev.meterline.model.Window;
import dev.meterline.telemetry.StoreMeters;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.locks.AbstractQueuedSynchronizer;
import java.util.concurrent.locks.LockSupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The store contract on the embedded SQLite store, in a fresh directory per test. */
final class SqliteStoreTest extends StoreContract {

    @TempDir
    Path dir;

    private Path dataDir() {
        return dir.resolve("data");
    }

    @Override
    StoreConfig config(String replica, List<Tier> tiers) {
        return new StoreConfig(dataDir(), "", "", "", tiers, replica);
    }

    @Override
    void setSchemaVersion(int version) throws Exception {
        try (Connection c = DriverManager.getConnection(url());
             Statement st = c.createStatement()) {
            st.executeUpdate("UPDATE meterline_schema SET version = " + version);
        }
    }

    @Override
    void execute(String sql, Object... args) throws Exception {
        Files.createDirectories(dataDir());
        try (Connection c = DriverManager.getConnection(url());
             PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < args.length; i++) {
                ps.setObject(i + 1, args[i]);
            }
            ps.execute();
        }
    }

    @Override
    List<String> schemaVersion2() {
        return withVersion2Indexes(List.of(
                "CREATE TABLE meterline_schema (version INTEGER NOT NULL)",
                "CREATE TABLE meterline_window (id INTEGER PRIMARY KEY AUTOINCREMENT,"
                        + " replica TEXT NOT NULL, metric TEXT NOT NULL, tags TEXT NOT NULL,"
                        + " resolution_ms INTEGER NOT NULL, start_ms INTEGER NOT NULL, flush_seq INTEGER NOT NULL,"
                        + " value_count INTEGER NOT NULL, value_sum REAL NOT NULL,"
                        + " value_min REAL, value_max REAL, value_last REAL,"
                        + " first_ts INTEGER NOT NULL, last_ts INTEGER NOT NULL, late INTEGER NOT NULL,"
                        + " complete INTEGER NOT NULL, sketch BLOB NOT NULL,"
                        + " merged_through INTEGER NOT NULL DEFAULT 0)",
                "CREATE TABLE meterline_series (metric TEXT NOT NULL, tags TEXT NOT NULL,"
                        + " PRIMARY KEY (metric, tags)) WITHOUT ROWID",
                "CREATE TABLE meterline_replica (replica TEXT PRIMARY KEY, last_flush_seq INTEGER NOT NULL)",
                "CREATE TABLE meterline_rollup (replica TEXT NOT NULL, resolution_ms INTEGER NOT NULL,"
                        + " through_id INTEGER NOT NULL, PRIMARY KEY (replica, resolution_ms))"));
    }

    @Override
    String plan(String sql, Object... args) throws Exception {
        StringBuilder out = new StringBuilder();
        try (Connection c = DriverManager.getConnection(url());
             PreparedStatement ps = c.prepareStatement("EXPLAIN QUERY PLAN " + sql)) {
            for (int i = 0; i < args.length; i++) {
                ps.setObject(i + 1, args[i]);
            }
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.append(rs.getString("detail")).append('\n');
                }
            }
        }
        return out.toString();
    }

    @Override
    List<String> windowIndexes() throws Exception {
        List<String> out = new ArrayList<>();
        try (Connection c = DriverManager.getConnection(url());
             Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT sql FROM sqlite_master WHERE type = 'index'"
                     + " AND tbl_name = 'meterline_window' AND sql IS NOT NULL")) {
            while (rs.next()) {
                out.add(rs.getString(1));
            }
        }
        return out;
    }

    private String url() {
        return "jdbc:sqlite:" + dataDir().resolve(SqliteDb.FILE_NAME);
    }

    @Test
    void createsTheDataDirectoryAndAWalDatabase() throws Exception {
        open("r1");

        assertTrue(Files.isRegularFile(dataDir().resolve(SqliteDb.FILE_NAME)));
        try (Connection c = DriverManager.getConnection(url());
             Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("PRAGMA journal_mode")) {
            rs.next();
            assertEquals("wal", rs.getString(1));
        }
    }

    private long pragma(String name) throws Exception {
        try (Connection c = DriverManager.getConnection(url());
             Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("PRAGMA " + name)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    @Test
    void aNewDatabaseTakesTheStoresPageSize() throws Exception {
        open("r1").write(sample());

        assertEquals(SqliteDb.STORE_PAGE_SIZE, pragma("page_size"));
    }

    @Test
    void aDatabaseCreatedWithAnotherPageSizeKeepsItAndTakesWindows() throws Exception {
        execute("CREATE TABLE unrelated (x INTEGER)");
        assertEquals(4096, pragma("page_size"));

        Store store = open("r1");
        store.write(sample());

        assertEquals(4096, pragma("page_size"));
        assertSameAsSample(store.read("cpu", T0, T0 + MINUTE, 10 * SECOND),
                store.read("mem", T0, T0 + MINUTE, 10 * SECOND));
        try (Connection c = DriverManager.getConnection(url());
             Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("PRAGMA journal_mode")) {
            rs.next();
            assertEquals("wal", rs.getString(1));
        }
    }

    @Test
    void anUnusableDataDirectoryIsAOneLineStartupError() throws Exception {
        Path file = Files.writeString(dir.resolve("not-a-dir"), "x");
        StoreConfig config = new StoreConfig(file, "", "", "", Tier.parseList("10s:24h"), "r1");

        ConfigException e = assertThrows(ConfigException.class, () -> Store.connect(config));
        assertTrue(e.getMessage().startsWith("METERLINE_STORAGE_URL: embedded SQLite in " + file), e.getMessage());
        assertTrue(e.getMessage().contains("cannot create data directory"), e.getMessage());
    }

    /** The newest start is taken over every resolution: a rolled-up row may be newer than the finest rows left. */
    @Test
    void newestStartIsTheLatestWindowOfTheMetricAtAnyResolution() {
        Store store = open("r1");
        assertEquals(Long.MIN_VALUE, store.newestStart("cpu"));
        store.write(List.of(window(host(1), T0, 10 * SECOND, 1, true, 1),
                window(host(2), T0 + 20 * SECOND, 10 * SECOND, 1, true, 2),
                window(host(1), T0 + 60 * SECOND, 60 * SECOND, 2, true, 3),
                window(SeriesKey.of("mem", Map.of("host", "a")), T0 + 600 * SECOND, 10 * SECOND, 2, true, 4)));

        assertEquals(T0 + 60 * SECOND, store.newestStart("cpu"));
        assertEquals(T0 + 600 * SECOND, store.newestStart("mem"));
        assertEquals(Long.MIN_VALUE, store.newestStart("disk"));
    }

    private List<Long> seriesIdsInRowOrder(long start) throws Exception {
        List<Long> out = new ArrayList<>();
        try (Connection c = DriverManager.getConnection(url());
             PreparedStatement ps = c.prepareStatement(
                     "SELECT series_id FROM meterline_window WHERE start_ms = ? ORDER BY id")) {
            ps.setLong(1, start);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(rs.getLong(1));
                }
            }
        }
        return out;
    }

    @Test
    void aStartsRowsGoInBySeriesIdWhereTheIdsDoNotFollowTheTexts() throws Exception {
        Store store = open("r1");
        // Each series stored by a write of its own, in reverse text order: the ids run against the texts.
        for (int s = 99; s >= 0; s--) {
            store.write(List.of(window(host(s), T0 - MINUTE, 10 * SECOND, 1, true, s)));
        }
        List<Long> idsByText = new ArrayList<>();
        try (Connection c = DriverManager.getConnection(url());
             Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT id FROM meterline_series ORDER BY tags")) {
            while (rs.next()) {
                idsByText.add(rs.getLong(1));
            }
        }
        List<Long> falling = new ArrayList<>(idsByText);
        falling.sort(Collections.reverseOrder());
        assertEquals(falling, idsByText, "ids against the texts' order");

        List<Window> written = flush(100, 0);
        List<Window> ordered = store.inKeyOrder(written);
        store.write(written);

        // Paced slices are cut in the same order: by id, here against the texts.
        for (int s = 0; s < 100; s++) {
            assertEquals(host(99 - s), ordered.get(s).series());
        }
        List<Long> ids = seriesIdsInRowOrder(T0);
        List<Long> rising = new ArrayList<>(ids);
        Collections.sort(rising);
        assertEquals(rising, ids);
        assertEquals(100, ids.size());
        List<StoredWindow> stored = store.read("cpu", T0, T0 + 10 * SECOND, 10 * SECOND);
        written.sort((a, b) -> a.series().tag("host").compareTo(b.series().tag("host")));
        List<Window> back = new ArrayList<>();
        for (StoredWindow w : stored) {
            back.add(w.window());
        }
        back.sort((a, b) -> a.series().tag("host").compareTo(b.series().tag("host")));
        for (int s = 0; s < 100; s++) {
            assertSameWindow(written.get(s), back.get(s));
        }
    }

    private long fileBytes() throws Exception {
        return Files.size(dataDir().resolve(SqliteDb.FILE_NAME));
    }

    @Test
    void aWrittenFlushIsCopiedIntoTheDatabaseFileApartFromTheWritersCommit() throws Exception {
        Store store = open("r1");
        SqliteDb db = (SqliteDb) ((JdbcStore) store).db();
        SqliteCheckpoints checkpoints = db.checkpoints();
        db.inTransaction("read the writer's threshold", c -> {
            try (Statement st = c.createStatement();
                 ResultSet rs = st.executeQuery("PRAGMA wal_autocheckpoint")) {
                rs.next();
                assertEquals(SqliteDb.WRITER_AUTOCHECKPOINT_PAGES, rs.getInt(1));
            }
            return null;
        });
        checkpoints.awaitIdle(60_000);
        long before = fileBytes();
        long done = checkpoints.done();
        // About 3 MB of rows: some 200 pages, far below the writer's own threshold.
        List<Window> written = flush(10_000, 0);

        store.write(written);
        checkpoints.awaitIdle(60_000);

        assertTrue(checkpoints.done() > done, "a checkpoint ran after the write");
        assertEquals(0, checkpoints.failed());
        assertTrue(fileBytes() > before + 1_000_000, "file " + before + " -> " + fileBytes() + " bytes");
        assertEquals(10_000, store.read("cpu", T0, T0 + MINUTE, 10 * SECOND).size());
    }

    @Test
    void aFailedCheckpointIsCountedAndTheNextRequestRunsAgain() throws Exception {
        Files.createDirectories(dataDir());
        Connection closed = DriverManager.getConnection(url());
        closed.close();
        SqliteCheckpoints checkpoints = new SqliteCheckpoints(closed, StoreMeters.unregistered());
        try {
            checkpoints.request();
            checkpoints.awaitIdle(60_000);
            checkpoints.request();
            checkpoints.awaitIdle(60_000);

            assertEquals(2, checkpoints.failed());
            assertEquals(0, checkpoints.done());
        } finally {
            checkpoints.close();
        }
    }

    @Test
    void aThreadWaitingForTheWriterGetsItBeforeTheThreadThatLetItGoTakesItAgain() throws Exception {
        // As a rollup lets go of the writer after one batch and asks for it again for the next.
        SqliteDb db = new SqliteDb(config("r1", Tier.parseList("10s:24h")), SqliteDb.STORE_PAGE_SIZE, true);
        db.open();
        try {
            // Fifty times: without fairness the thread that let go wins the race now and then, not every time.
            for (int i = 0; i < 50; i++) {
                List<String> order = Collections.synchronizedList(new ArrayList<>());
                Thread waiting = new Thread(() -> db.inTransaction("waiting", c -> order.add("waiting")));
                db.inTransaction("first", c -> {
                    waiting.start();
                    while (!(LockSupport.getBlocker(waiting) instanceof AbstractQueuedSynchronizer)) {
                        Thread.onSpinWait();
                    }
                    return order.add("first");
                });
                db.inTransaction("again", c -> order.add("again"));
                waiting.join();

                assertEquals(List.of("first", "waiting", "again"), order, "round " + i);
            }
        } finally {
            db.close();
        }
    }

    @Test
    void theSpoolsDatabaseCheckpointsOnItsWritersCommitsAsBefore() throws Exception {
        SqliteDb db = new SqliteDb(config("r1", Tier.parseList("10s:24h")), SqliteDb.DEFAULT_PAGE_SIZE, false);
        db.open();
        try {
            assertEquals(null, db.checkpoints());
            db.written();
            assertEquals(1000, (int) db.inTransaction("read the writer's threshold", c -> {
                try (Statement st = c.createStatement();
                     ResultSet rs = st.executeQuery("PRAGMA wal_autocheckpoint")) {
                    rs.next();
                    return rs.getInt(1);
                }
            }));
        } finally {
            db.close();
        }
    }

    /** Series {@code s} of metric {@code cpu}; the zero-padded host makes the tags' text order the numeric one. */
    private static SeriesKey host(int s) {
        return SeriesKey.of("cpu", Map.of("host", String.format("h%06d", s)));
    }

    /** A flush of one window of each of {@code series} series, sum {@code base + s}, handed over in random order. */
    private static List<Window> flush(int series, double base) {
        List<Window> out = new ArrayList<>(series);
        for (int s = 0; s < series; s++) {
            out.add(window(host(s), T0, 10 * SECOND, 1, s % 3 != 0, base + s));
        }
        Collections.shuffle(out, new Random(series));
        return out;
    }

    /** Writes {@code series} windows in one flush and reads every one back, with every field, in key order. */
    private void writesAndReadsBackInKeyOrder(int series) {
        Store store = open("r1");
        List<Window> written = flush(series, 0);
        store.write(written);

        List<StoredWindow> stored = store.read("cpu", T0, T0 + MINUTE, 10 * SECOND);
        assertEquals(series, stored.size());
        written.sort((a, b) -> a.series().tag("host").compareTo(b.series().tag("host")));
        for (int s = 0; s < series; s++) {
            assertSameWindow(written.get(s), stored.get(s).window());
        }
        assertEquals(Map.of("cpu", (long) series), store.metrics());
    }

    @Test
    void aFlushOfExactlyOneStatementsRowsIsStoredWhole() {
        writesAndReadsBackInKeyOrder(SqliteRows.GROUP);
    }

    @Test
    void aFlushOfOneStatementsRowsAndOneMoreIsStoredWhole() {
        writesAndReadsBackInKeyOrder(SqliteRows.GROUP + 1);
    }

    @Test
    void aFlushOfManyStatementsIsStoredWhole() {
        writesAndReadsBackInKeyOrder(160 * SqliteRows.GROUP + 5);
    }

    @Test
    void groupsWithSharedAndWithDifferingKeysAreStoredWholeInKeyOrderAsText() throws Exception {
        Store store = open("r1");
        // Complete windows of one start and flush share those values in every group but the ones spanning the
        // second start, the second flush number or the second metric; the last group is short.
        List<Window> written = new ArrayList<>();
        int series = 2 * SqliteRows.GROUP + 10;
        for (int s = 0; s < series; s++) {
            written.add(window(host(s), T0, 10 * SECOND, 1, true, s));
            written.add(window(host(s), T0 + 10 * SECOND, 10 * SECOND, s < 20 ? 1 : 2, true, 1000 + s));
            written.add(window(SeriesKey.of("mem", Map.of("host", String.format("h%06d", s))), T0, 10 * SECOND, 2,
                    true, 2000 + s));
        }
        Collections.shuffle(written, new Random(3));
        store.write(written);

        List<StoredWindow> cpu = store.read("cpu", T0, T0 + MINUTE, 10 * SECOND);
        List<StoredWindow> mem = store.read("mem", T0, T0 + MINUTE, 10 * SECOND);
        assertEquals(2 * series, cpu.size());
        assertEquals(series, mem.size());
        written.sort(java.util.Comparator.comparing((Window w) -> w.series().metric())
                .thenComparingLong(Window::start).thenComparing(w -> w.series().tag("host")));
        List<StoredWindow> stored = new ArrayList<>(cpu);
        stored.addAll(mem);
        stored.sort(java.util.Comparator.comparing((StoredWindow w) -> w.window().series().metric())
                .thenComparingLong(w -> w.window().start()));
        for (int i = 0; i < written.size(); i++) {
            assertSameWindow(written.get(i), stored.get(i).window());
        }
        try (Connection c = DriverManager.getConnection(url());
             Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT DISTINCT typeof(replica), typeof(metric), typeof(series_id),"
                     + " typeof(sketch) FROM meterline_window")) {
            assertTrue(rs.next());
            assertEquals("text text integer blob", rs.getString(1) + " " + rs.getString(2) + " " + rs.getString(3)
                    + " " + rs.getString(4));
            assertTrue(!rs.next(), "one type per column");
        }
        // Every row names its series by an id that meterline_series holds.
        try (Connection c = DriverManager.getConnection(url());
             Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT count(*) FROM meterline_window w JOIN meterline_series s"
                     + " ON s.id = w.series_id AND s.metric = w.metric")) {
            assertTrue(rs.next());
            assertEquals(3L * series, rs.getLong(1));
        }
    }

    @Test
    void storedKeysInsideAStatementsRowsAreSkippedAndTheOthersWrittenInOrder() {
        Store store = open("r1");
        int[] storedBefore = {0, 3, 40, SqliteRows.GROUP - 1, SqliteRows.GROUP, 2 * SqliteRows.GROUP + 2};
        List<Window> first = new ArrayList<>();
        for (int s : storedBefore) {
            first.add(window(host(s), T0, 10 * SECOND, 1, true, 1000 + s));
        }
        store.write(first);
        // The same flush again with every series of three statements' rows, and one series twice: its first copy
        // counts, as in single-row statements.
        List<Window> replay = flush(2 * SqliteRows.GROUP + 3, 0);
        replay.add(window(host(10), T0, 10 * SECOND, 1, true, -1));
        store.write(replay);

        List<Double> sums = store.read("cpu", T0, T0 + MINUTE, 10 * SECOND).stream()
                .map(w -> w.window().aggregate().sum()).toList();
        List<Double> expected = new ArrayList<>();
        for (int s : storedBefore) {
            expected.add(1000.0 + s);
        }
        for (int s = 0; s < 2 * SqliteRows.GROUP + 3; s++) {
            int found = s;
            if (java.util.Arrays.stream(storedBefore).noneMatch(b -> b == found)) {
                expected.add((double) s);
            }
        }
        assertEquals(expected, sums);
        assertEquals(1, store.lastFlushSeq());
    }
}
