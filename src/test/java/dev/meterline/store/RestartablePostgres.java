package dev.meterline.store;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * A real PostgreSQL server on one data directory and one loopback port that a test can stop and start again, so
 * that clients see an outage and then the same database come back.
 */
final class RestartablePostgres implements AutoCloseable {

    private final Path dataDir;
    private final int port;
    private EmbeddedPostgres server;

    private RestartablePostgres(Path dataDir, int port) {
        this.dataDir = dataDir;
        this.port = port;
    }

    /** Initialises a cluster in the empty (or absent) {@code dataDir} on a free port and starts it. */
    static RestartablePostgres start(Path dataDir) throws IOException {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        RestartablePostgres pg = new RestartablePostgres(dataDir, port);
        pg.up();
        return pg;
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
    String createDatabase(String database) throws SQLException {
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
