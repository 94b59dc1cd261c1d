package dev.meterline.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;

/**
 * An {@link ExportLock} on a PostgreSQL session advisory lock, on a connection of its own outside the pool: the lock
 * lives exactly as long as that session, so a replica that dies (or loses the database) lets another take over.
 */
final class PostgresExportLock implements ExportLock {

    /** First key of the lock, the second being the target's hash; distinct from the migration lock's key. */
    static final int KEY = 7361627;
    /** Seconds a check of the held connection may take. */
    private static final int VALID_TIMEOUT_SECONDS = 5;

    /** Opens a connection outside the pool. */
    @FunctionalInterface
    interface Connector {
        Connection connect() throws SQLException;
    }

    private final Connector connector;
    private final int targetKey;
    private Connection connection;
    private boolean held;

    PostgresExportLock(Connector connector, String target) {
        this.connector = connector;
        this.targetKey = target.hashCode();
    }

    @Override
    public synchronized boolean hold() {
        try {
            if (connection != null && !connection.isValid(VALID_TIMEOUT_SECONDS)) {
                // The session is gone, and with it the lock: another replica may hold it by now.
                closeConnection();
            }
            if (held) {
                return true;
            }
            if (connection == null) {
                connection = connector.connect();
            }
            try (PreparedStatement ps = connection.prepareStatement("SELECT pg_try_advisory_lock(?, ?)")) {
                ps.setInt(1, KEY);
                ps.setInt(2, targetKey);
                try (ResultSet rs = ps.executeQuery()) {
                    held = rs.next() && rs.getBoolean(1);
                }
            }
            return held;
        } catch (SQLException e) {
            closeConnection();
            throw new StoreException("export lock: " + PostgresDb.describe(e), e);
        }
    }

    private void closeConnection() {
        held = false;
        if (connection != null) {
            try {
                connection.close();
            } catch (SQLException e) {
                // Closing the session releases the lock on the server; nothing is left to do here.
            }
            connection = null;
        }
    }

    @Override
    public synchronized void close() {
        closeConnection();
    }
}
