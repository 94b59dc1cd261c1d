package dev.meterline.store;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Series stored in groups get the rows and ids that one statement per series gives them. */
class SqliteSeriesTest {

    @TempDir
    Path dir;

    @Test
    void groupsStoreWhatSingleStatementsStore() throws SQLException {
        Random random = new Random(11);
        List<List<String[]>> writes = new ArrayList<>();
        for (int w = 0; w < 6; w++) {
            List<String[]> series = new ArrayList<>();
            int count = random.nextInt(300);
            for (int i = 0; i < count; i++) {
                // Few metrics and tags, so that writes repeat series, a metric's run spans groups and some series
                // come twice in one write (two texts of one series when the texts' table was full).
                series.add(new String[] {"m" + random.nextInt(3), "{\"h\":\"" + random.nextInt(400) + "\"}"});
            }
            series.sort((a, b) -> a[0].compareTo(b[0]));
            writes.add(series);
        }
        try (Connection single = open("single.db"); Connection grouped = open("grouped.db")) {
            for (List<String[]> write : writes) {
                NewSeries one = series(write);
                NewSeries group = series(write);
                storeOneByOne(single, one);
                SqliteSeries.store(grouped, group);
                for (int i = 0; i < write.size(); i++) {
                    assertEquals(one.id(i), group.id(i), "id of " + write.get(i)[1]);
                }
            }
            assertEquals(contents(single), contents(grouped));
        }
    }

    private Connection open(String file) throws SQLException {
        Connection c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve(file));
        try (Statement st = c.createStatement()) {
            st.execute("CREATE TABLE meterline_series (id INTEGER PRIMARY KEY AUTOINCREMENT, metric TEXT NOT NULL,"
                    + " tags TEXT NOT NULL, UNIQUE (metric, tags))");
        }
        return c;
    }

    /** The series of one write, each in columns of its own: a series twice in a write is two texts. */
    private static NewSeries series(List<String[]> series) {
        SeriesColumns columns = new SeriesColumns();
        int[] numbers = new int[series.size()];
        for (int i = 0; i < numbers.length; i++) {
            byte[] tags = series.get(i)[1].getBytes(StandardCharsets.UTF_8);
            numbers[i] = columns.add(series.get(i)[0], tags, tags.length);
        }
        return new NewSeries(columns, numbers);
    }

    /** The statements of one series each. */
    private static void storeOneByOne(Connection c, NewSeries series) throws SQLException {
        try (PreparedStatement insert = c.prepareStatement(
                "INSERT INTO meterline_series (metric, tags) VALUES (?, ?) ON CONFLICT DO NOTHING");
             PreparedStatement id = c.prepareStatement(
                     "SELECT id FROM meterline_series WHERE metric = ? AND tags = ?")) {
            for (int k = 0; k < series.size(); k++) {
                insert.setString(1, series.metric(k));
                insert.setString(2, series.tags(k));
                insert.executeUpdate();
            }
            for (int k = 0; k < series.size(); k++) {
                id.setString(1, series.metric(k));
                id.setString(2, series.tags(k));
                try (ResultSet rs = id.executeQuery()) {
                    rs.next();
                    series.id(k, rs.getLong(1));
                }
            }
        }
    }

    private static List<String> contents(Connection c) throws SQLException {
        List<String> out = new ArrayList<>();
        try (Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT id, metric, tags FROM meterline_series ORDER BY id")) {
            while (rs.next()) {
                out.add(rs.getLong(1) + " " + rs.getString(2) + " " + rs.getString(3));
            }
        }
        try (Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT name, seq FROM sqlite_sequence")) {
            while (rs.next()) {
                out.add(rs.getString(1) + " " + rs.getLong(2));
            }
        }
        return out;
    }
}
