package dev.meterline.store;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;

/**
 * Creates and migrates the schema, recorded as one row in {@code meterline_schema(version)}. Migration {@code i}
 * takes version {@code i} to {@code i + 1}; version 0 is an empty database.
 */
final class Schema {

    /** The newest schema this binary reads and writes. */
    static final int VERSION = 4;

    private Schema() {
    }

    /** Brings the schema to {@link #VERSION} inside the caller's transaction; refuses a newer schema. */
    static void migrate(Connection c, Dialect dialect) throws SQLException {
        List<List<String>> migrations = List.of(dialect.version1(), Dialect.VERSION2, Dialect.VERSION3,
                dialect.version4());
        try (Statement st = c.createStatement()) {
            if (dialect.migrationLock != null) {
                st.execute(dialect.migrationLock);
            }
            st.execute("CREATE TABLE IF NOT EXISTS meterline_schema (version INTEGER NOT NULL)");
            int version = 0;
            boolean hasRow = false;
            try (ResultSet rs = st.executeQuery("SELECT max(version), count(*) FROM meterline_schema")) {
                if (rs.next() && rs.getLong(2) > 0) {
                    version = rs.getInt(1);
                    hasRow = true;
                }
            }
            if (version > VERSION) {
                throw new StoreException("schema version " + version + " is newer than this binary supports ("
                        + VERSION + "); run a newer Meterline or restore a matching backup");
            }
            for (int v = version; v < VERSION; v++) {
                for (String sql : migrations.get(v)) {
                    st.execute(sql);
                }
            }
            if (!hasRow) {
                st.execute("INSERT INTO meterline_schema (version) VALUES (" + VERSION + ")");
            } else if (version < VERSION) {
                st.execute("UPDATE meterline_schema SET version = " + VERSION);
            }
        }
    }
}
