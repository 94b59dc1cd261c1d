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
import java.sql.ResultSet;
import java.sql.Statement;
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
