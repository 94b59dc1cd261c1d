package dev.meterline.store;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

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
                List<SeriesTexts.Text> one = texts(write);
                List<SeriesTexts.Text> group = texts(write);
                storeOneByOne(single, one);
                SqliteSeries.store(grouped, group);
                for (int i = 0; i < write.size(); i++) {
                    assertEquals(one.get(i).id, group.get(i).id, "id of " + write.get(i)[1]);
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

    private static List<SeriesTexts.Text> texts(List<String[]> series) {
        List<SeriesTexts.Text> out = new ArrayList<>();
        for (String[] s : series) {
            out.add(SeriesTexts.Text.of(s[0], s[1]));
        }
        return out;
    }

    /** The statements of one series each. */
    private static void storeOneByOne(Connection c, List<SeriesTexts.Text> series) throws SQLException {
        try (PreparedStatement insert = c.prepareStatement(
                "INSERT INTO meterline_series (metric, tags) VALUES (?, ?) ON CONFLICT DO NOTHING");
             PreparedStatement id = c.prepareStatement(
                     "SELECT id FROM meterline_series WHERE metric = ? AND tags = ?")) {
            for (SeriesTexts.Text t : series) {
                insert.setString(1, t.metric);
                insert.setString(2, t.tags());
                insert.executeUpdate();
            }
            for (SeriesTexts.Text t : series) {
                id.setString(1, t.metric);
                id.setString(2, t.tags());
                try (ResultSet rs = id.executeQuery()) {
                    rs.next();
                    t.id = rs.getLong(1);
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
