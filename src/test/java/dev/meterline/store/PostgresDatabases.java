package dev.meterline.store;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.io.IOException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A real (embedded) PostgreSQL server, started before a test class's tests and stopped after them when the class
 * registers it ({@code @RegisterExtension static}), and a fresh database on it for each test.
 */
final class PostgresDatabases implements BeforeAllCallback, AfterAllCallback {

    private static final AtomicInteger DATABASES = new AtomicInteger();

    private EmbeddedPostgres server;

    @Override
    public void beforeAll(ExtensionContext context) throws IOException {
        server = EmbeddedPostgres.start();
    }

    @Override
    public void afterAll(ExtensionContext context) throws IOException {
        server.close();
    }

    /** Creates an empty database named {@code prefix}, an underscore and a number no other took; returns its name. */
    String create(String prefix) throws SQLException {
        String name = prefix + "_" + DATABASES.incrementAndGet();
        try (Connection c = DriverManager.getConnection(url("postgres"), "postgres", "");
             Statement st = c.createStatement()) {
            st.execute("CREATE DATABASE " + name);
        }
        return name;
    }

    /** The JDBC URL of database {@code database} on the server, whose user {@code postgres} has no password. */
    String url(String database) {
        return "jdbc:postgresql://localhost:" + server.getPort() + "/" + database;
    }
}
