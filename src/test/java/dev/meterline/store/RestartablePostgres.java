package dev.meterline.store;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * A real PostgreSQL server on one data directory and one loopback port that a test can stop and start again, so
 * that clients see an outage and then the same database come back. Registered with {@code @RegisterExtension} on an
 * instance field, it gives every test a fresh server in a directory of its own, removed afterwards.
 */
public final class RestartablePostgres implements AutoCloseable, BeforeEachCallback, AfterEachCallback {

    private Path dataDir;
    private int port;
    private boolean ownsDataDir;
    private EmbeddedPostgres server;

    /** Unstarted: for {@code @RegisterExtension}, which starts it before each test. */
    RestartablePostgres() {
    }

    /** Initialises a cluster in the empty (or absent) {@code dataDir} on a free port and starts it. */
    public static RestartablePostgres start(Path dataDir) throws IOException {
        RestartablePostgres pg = new RestartablePostgres();
        pg.init(dataDir);
        return pg;
    }

    private void init(Path dir) throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        dataDir = dir;
        up();
    }

    @Override
    public void beforeEach(ExtensionContext context) throws IOException {
        ownsDataDir = true;
        init(Files.createTempDirectory("meterline-pg"));
    }

    @Override
    public void afterEach(ExtensionContext context) throws IOException {
        close();
        if (ownsDataDir) {
            try (Stream<Path> files = Files.walk(dataDir)) {
                for (Path f : files.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(f);
                }
            }
        }
    }

    private void up() throws IOException {
        server = EmbeddedPostgres.builder()
                .setDataDirectory(dataDir)
                // Never cleaned: zonky deletes a cleaned directory on close, and runs initdb only when it is empty.
                .setCleanDataDirectory(false)
                .setPort(port)
                .start();
    }

    /** Stops the server (fast shutdown: open connections are cut); the data stays. */
    synchronized void stop() throws IOException {
        if (server != null) {
            server.close();
            server = null;
        }
    }

    /** Starts the server again on the same data directory and port. */
    synchronized void restart() throws IOException {
        if (server == null) {
            up();
        }
    }

    String url(String database) {
        return "jdbc:postgresql://127.0.0.1:" + port + "/" + database;
    }

    /** Creates {@code database} and returns its JDBC URL. */
    public String createDatabase(String database) throws SQLException {
        execute("postgres", "CREATE DATABASE " + database);
        return url(database);
    }

    void execute(String database, String sql) throws SQLException {
        try (Connection c = DriverManager.getConnection(url(database), "postgres", "");
             Statement st = c.createStatement()) {
            st.execute(sql);
        }
    }

    /** The first column of the first row of {@code sql}, as a long (0 when NULL). */
    long queryLong(String database, String sql) throws SQLException {
        try (Connection c = DriverManager.getConnection(url(database), "postgres", "");
             Statement st = c.createStatement();
             ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    @Override
    public synchronized void close() throws IOException {
        stop();
    }
}
