package dev.meterline.store;

import dev.meterline.config.StoreConfig;
import dev.meterline.config.Tier;
import dev.meterline.model.SeriesKey;
import dev.meterline.model.Window;
import dev.meterline.model.WindowList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static dev.meterline.store.StoreContract.SECOND;
import static dev.meterline.store.StoreContract.T0;
import static dev.meterline.store.StoreContract.window;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A flush in key order carries its series' texts to the writes of its parts, and those writes store exactly the rows,
 * in exactly the order, that the same parts handed over as plain lists (found and sorted afresh) store.
 */
class KeyOrderedTest {

    @TempDir
    Path dir;

    private final List<Store> opened = new ArrayList<>();

    @AfterEach
    void close() {
        opened.forEach(Store::close);
    }

    private Store open(String name) {
        Store s = Store.connect(new StoreConfig(dir.resolve(name), "", "", "", Tier.parseList("10s:24h,1m:30d,1h:1y"),
                "r1"), Clock.fixed(java.time.Instant.ofEpochMilli(T0 + 3_600_000), java.time.ZoneOffset.UTC));
        opened.add(s);
        return s;
    }

    private static SeriesKey series(int s) {
        return SeriesKey.of(s % 5 == 0 ? "mem" : "cpu", Map.of("host", "h" + s, "dc", "d" + s % 3));
    }

    /** Every row in row-id order: its series' text, resolution, start, flush, sum and sketch. */
    private List<String> rows(String name) throws Exception {
        List<String> out = new ArrayList<>();
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve(name).resolve(SqliteDb.FILE_NAME));
             Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT w.id, w.metric, s.id, s.tags, w.resolution_ms, w.start_ms,"
                     + " w.flush_seq, w.value_sum, w.sketch FROM meterline_window w"
                     + " JOIN meterline_series s ON s.id = w.series_id ORDER BY w.id")) {
            while (rs.next()) {
                out.add(rs.getLong(1) + " " + rs.getString(2) + " " + rs.getLong(3) + " " + rs.getString(4) + " "
                        + rs.getLong(5) + " " + rs.getLong(6) + " " + rs.getLong(7) + " " + rs.getDouble(8) + " "
                        + Arrays.toString(rs.getBytes(9)));
            }
        }
        return out;
    }

    private static void assertSameRows(List<String> expected, List<String> actual) {
        for (int r = 0; r < Math.min(expected.size(), actual.size()); r++) {
            assertEquals(expected.get(r), actual.get(r), "row " + r);
        }
        assertEquals(expected.size(), actual.size(), "rows");
    }

    /** Series 0..stored-1 written first in falling order, so that their ids run against their texts. */
    private static void seed(Store store, int stored) {
        for (int s = stored - 1; s >= 0; s -= 7) {
            List<Window> some = new ArrayList<>();
            for (int t = s; t > s - 7 && t >= 0; t--) {
                some.add(window(series(t), T0 - 600 * SECOND, 10 * SECOND, 1, true, t));
            }
            store.write(some);
        }
    }

    /** One flush: every series at two starts of 10 s and one of 1 m, shuffled as the shards hand it over. */
    private static List<Window> flush(int series, long seq) {
        List<Window> out = new ArrayList<>();
        for (int s = 0; s < series; s++) {
            out.add(window(series(s), T0, 10 * SECOND, seq, true, s, s + 0.5));
            out.add(window(series(s), T0 + 10 * SECOND, 10 * SECOND, seq, s % 2 == 0, 2 * s));
            out.add(window(series(s), T0, 60 * SECOND, seq, true, 3 * s, 1, 2, 3));
        }
        Collections.shuffle(out, new Random(series + seq));
        return out;
    }

    private static void writeInParts(Store store, List<Window> ordered, int part, boolean plain) {
        for (int from = 0; from < ordered.size(); from += part) {
            int to = Math.min(ordered.size(), from + part);
            List<Window> slice = ordered.subList(from, to);
            if (plain) {
                slice = new ArrayList<>(slice);
            }
            if (to == ordered.size()) {
                store.write(slice);
            } else {
                store.writePart(slice);
            }
        }
    }

    @Test
    void partsWithCarriedTextsStoreTheRowsInTheOrderOfPartsFoundAfresh() throws Exception {
        Store carried = open("carried");
        Store afresh = open("afresh");
        for (Store s : List.of(carried, afresh)) {
            seed(s, 120);
        }
        // New series beside known ones, then a flush of known series only, as the next flushes are.
        for (long seq = 2; seq <= 3; seq++) {
            List<Window> flush = flush(seq == 2 ? 200 : 180, seq);
            List<Window> ordered = carried.inKeyOrder(flush);
            assertInstanceOf(KeyOrdered.class, ordered.subList(5, 50));
            writeInParts(carried, ordered, 97, false);
            writeInParts(afresh, afresh.inKeyOrder(flush), 97, true);
        }
        List<String> rows = rows("carried");
        assertEquals(120 + 200 * 3 + 180 * 3, rows.size());
        assertSameRows(rows("afresh"), rows);
        assertEquals(3, carried.lastFlushSeq());
    }

    @Test
    void aFlushOrderedByAnotherStoreIsFoundAfreshByTheStoreThatWritesIt() throws Exception {
        Store other = open("other");
        Store writer = open("writer");
        Store afresh = open("afresh");
        seed(other, 60);
        seed(writer, 30);
        seed(afresh, 30);
        List<Window> flush = flush(60, 2);
        // The other store's texts hold the other database's ids: the writer must not take them.
        List<Window> ordered = other.inKeyOrder(flush);
        writeInParts(writer, ordered, 50, false);
        writeInParts(afresh, ordered, 50, true);
        assertSameRows(rows("afresh"), rows("writer"));
    }

    @Test
    void theOrderedListIsAReadOnlyViewWhosePartsKeepTheirPlace() {
        Store store = open("view");
        List<Window> flush = flush(20, 1);
        List<Window> ordered = store.inKeyOrder(flush);
        assertEquals(60, ordered.size());
        List<Window> part = ordered.subList(10, 40);
        assertEquals(ordered.get(15), part.subList(5, 10).get(0));
        assertEquals(30, part.size());
        assertEquals(ordered.subList(10, 40), part);
        assertThrows(IndexOutOfBoundsException.class, () -> part.get(30));
        assertThrows(IndexOutOfBoundsException.class, () -> part.subList(0, 31));
        assertThrows(UnsupportedOperationException.class, () -> part.set(0, flush.get(0)));
        assertFalse(part.isEmpty());
        assertTrue(new ArrayList<>(flush).containsAll(ordered));
        for (int i = 0; i < part.size(); i++) {
            Window w = part.get(i);
            assertEquals(w.series(), WindowList.series(part, i), "series " + i);
            assertEquals(w.start(), WindowList.start(part, i), "start " + i);
            assertEquals(w.resolution(), WindowList.resolution(part, i), "resolution " + i);
        }
        assertThrows(IndexOutOfBoundsException.class, () -> WindowList.start(part, 30));
    }
}
