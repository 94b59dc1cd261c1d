package dev.meterline.store;

import dev.meterline.config.ConfigException;
import dev.meterline.config.StoreConfig;
import dev.meterline.config.Tier;
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
import java.util.List;

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

    @Test
    void anUnusableDataDirectoryIsAOneLineStartupError() throws Exception {
        Path file = Files.writeString(dir.resolve("not-a-dir"), "x");
        StoreConfig config = new StoreConfig(file, "", "", "", Tier.parseList("10s:24h"), "r1");

        ConfigException e = assertThrows(ConfigException.class, () -> Store.connect(config));
        assertTrue(e.getMessage().startsWith("METERLINE_STORAGE_URL: embedded SQLite in " + file), e.getMessage());
        assertTrue(e.getMessage().contains("cannot create data directory"), e.getMessage());
    }
}
