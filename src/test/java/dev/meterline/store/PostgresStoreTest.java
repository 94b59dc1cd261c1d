package dev.meterline.store;

import dev.meterline.config.ConfigException;
import dev.meterline.config.StoreConfig;
import dev.meterline.config.Tier;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The store contract on a real PostgreSQL, started once for the class, with a fresh database per test. */
final class PostgresStoreTest extends StoreContract {

    private static final AtomicInteger DATABASES = new AtomicInteger();
    private static EmbeddedPostgres postgres;

    private String database;

    @BeforeAll
    static void startPostgres() throws Exception {
        postgres = EmbeddedPostgres.start();
    }

    @AfterAll
    static void stopPostgres() throws Exception {
        postgres.close();
    }

    @BeforeEach
    void createDatabase() throws Exception {
        database = "meterline_" + DATABASES.incrementAndGet();
        execute(url("postgres"), "CREATE DATABASE " + database);
    }

    static String url(String db) {
        return "jdbc:postgresql://localhost:" + postgres.getPort() + "/" + db;
    }

    private static void execute(String url, String sql) throws Exception {
        try (Connection c = DriverManager.getConnection(url, "postgres", "");
             Statement st = c.createStatement()) {
            st.execute(sql);
        }
    }

    @Override
    StoreConfig config(String replica, List<Tier> tiers) {
        return new StoreConfig(Path.of("unused"), url(database), "postgres", "", tiers, replica);
    }

    @Override
    void setSchemaVersion(int version) throws Exception {
        execute(url(database), "UPDATE meterline_schema SET version = " + version);
    }

    @Test
    void opensAPostgresStoreForAPostgresUrl() {
        assertEquals(Dialect.POSTGRES, assertInstanceOf(JdbcStore.class, open("r1")).dialect());
    }

    @Test
    void anUnreachableDatabaseIsAOneLineStartupError() {
        StoreConfig config = new StoreConfig(Path.of("unused"), "jdbc:postgresql://127.0.0.1:1/none?password=secret",
                "postgres", "", Tier.parseList("10s:24h"), "r1");

        ConfigException e = assertThrows(ConfigException.class, () -> Store.connect(config));
        String msg = e.getMessage();
        assertTrue(msg.startsWith("METERLINE_STORAGE_URL: jdbc:postgresql://127.0.0.1:1/none: cannot connect"), msg);
        assertTrue(!msg.contains("secret") && !msg.contains("\n"), msg);
    }

    @Test
    void oneReplicaAtATimeHoldsTheExportLockAndAnotherTakesItOverWhenTheHolderIsGone() throws Exception {
        Store one = open("replica-1");
        Store two = open("replica-2");
        one.prepareExport();
        two.prepareExport();
        ExportLock first = one.exportLock("http://a/write");
        ExportLock second = two.exportLock("http://a/write");
        try (ExportLock other = two.exportLock("http://b/write")) {
            assertTrue(first.hold());
            assertFalse(second.hold());
            assertTrue(other.hold(), "another receiver has a lock of its own");
            // The holder's session ends as when its process dies: the server kills the backend.
            execute(url(database), "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    + " WHERE application_name = 'meterline-export' AND pid IN (SELECT pid FROM pg_locks"
                    + " WHERE locktype = 'advisory' AND objid = " + ("http://a/write".hashCode() & 0xFFFFFFFFL) + ")");
            // The backend exits (releasing the lock) a moment after it is told to.
            long deadline = System.nanoTime() + 10_000_000_000L;
            boolean taken = second.hold();
            while (!taken && System.nanoTime() < deadline) {
                execute(url(database), "SELECT pg_sleep(0.05)");
                taken = second.hold();
            }
            assertTrue(taken, "taken over once the holder's session ended");
            assertFalse(first.hold(), "the old holder notices it lost the lock");
        } finally {
            first.close();
            second.close();
        }
    }
}
