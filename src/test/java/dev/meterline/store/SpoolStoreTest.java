package dev.meterline.store;

import dev.meterline.model.Window;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

import static dev.meterline.store.StoreContract.CPU_A;
import static dev.meterline.store.StoreContract.SECOND;
import static dev.meterline.store.StoreContract.T0;
import static dev.meterline.store.StoreContract.assertSameWindow;
import static dev.meterline.store.StoreContract.sample;
import static dev.meterline.store.StoreContract.window;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The on-disk spool: windows come back oldest first with every field, survive a reopen, and fill up at the bound. */
class SpoolStoreTest {

    @TempDir
    Path dir;

    /** Its bound counts bytes of the file, which SQLite's default pages keep small while it is nearly empty. */
    @Test
    void theSpoolFileKeepsSqlitesDefaultPageSize() throws Exception {
        try (Spool spool = new Spool(dir, 1 << 30, "r1")) {
            spool.open();
            spool.put(sample());
        }
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve(Spool.FILE_NAME));
             Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("PRAGMA page_size")) {
            rs.next();
            assertEquals(SqliteDb.DEFAULT_PAGE_SIZE, rs.getInt(1));
        }
    }

    @Test
    void windowsComeBackOldestFirstWithEveryFieldAndLeaveWhenRemoved() {
        try (Spool spool = new Spool(dir, 1 << 30, "r1")) {
            spool.open();
            assertEquals(0, spool.windows());
            List<Window> written = sample();
            spool.put(written.subList(0, 2));
            spool.put(written.subList(2, written.size()));
            assertEquals(written.size(), spool.windows());
            assertEquals(2, spool.lastFlushSeq());

            Spool.Oldest first = spool.oldest(3);
            assertEquals(3, first.windows().size());
            for (int i = 0; i < 3; i++) {
                assertSameWindow(written.get(i), first.windows().get(i));
            }
            spool.remove(first.throughId());
            assertEquals(written.size() - 3, spool.windows());
            Spool.Oldest rest = spool.oldest(100);
            assertEquals(written.size() - 3, rest.windows().size());
            assertSameWindow(written.get(3), rest.windows().get(0));
            spool.remove(rest.throughId());
            assertEquals(0, spool.windows());
            assertTrue(spool.oldest(10).windows().isEmpty());
            // The numbering survives emptying: a restarted replica must not reuse a spooled flush number.
            assertEquals(2, spool.lastFlushSeq());
        }
    }

    @Test
    void spooledWindowsSurviveAReopen() {
        try (Spool spool = new Spool(dir, 1 << 30, "r1")) {
            spool.open();
            spool.put(sample());
        }
        assertTrue(Files.exists(dir.resolve(Spool.FILE_NAME)));
        try (Spool again = new Spool(dir, 1 << 30, "r1")) {
            again.open();
            assertEquals(sample().size(), again.windows());
            assertSameWindow(sample().get(0), again.oldest(1).windows().get(0));
        }
    }

    @Test
    void theSpoolIsFullOnceItsPagesReachTheBound() {
        try (Spool spool = new Spool(dir, 200_000, "r1")) {
            spool.open();
            assertFalse(spool.full(), "an empty spool has room: " + spool.bytes() + " bytes");
            long seq = 1;
            while (!spool.full()) {
                List<Window> chunk = new ArrayList<>();
                for (int i = 0; i < 100; i++) {
                    chunk.add(window(CPU_A, T0 + i * 10 * SECOND, 10 * SECOND, seq, true, i, i + 0.5, i * 2));
                }
                spool.put(chunk);
                seq++;
                assertTrue(seq < 1_000, "never full: " + spool.bytes() + " bytes");
            }
            assertTrue(spool.bytes() >= 200_000, spool.bytes() + " bytes");
            long held = spool.windows();
            spool.remove(spool.oldest((int) held).throughId());
            assertEquals(0, spool.windows());
            assertFalse(spool.full(), "freed pages count as room again: " + spool.bytes() + " bytes");
        }
    }
}
