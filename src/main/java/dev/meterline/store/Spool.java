package dev.meterline.store;

import dev.meterline.config.StoreConfig;
import dev.meterline.config.Tier;
import dev.meterline.model.SeriesKey;
import dev.meterline.model.Window;
import dev.meterline.store.WindowTable.Row;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The on-disk spool: windows that could not be written to the database wait here, in an SQLite file
 * ({@value #FILE_NAME} in the data directory, the embedded store's schema and code), until they are moved to the
 * database oldest first. Windows keep their flush numbers, so moving one twice (a crash between the database commit
 * and the spool delete) stores it once. Every method blocks; call them only on the store scheduler.
 */
public final class Spool implements AutoCloseable {

    /** The spool file's name inside the data directory. */
    public static final String FILE_NAME = "spool.db";

    /** Spooled windows, oldest first, and the position to {@link #remove(long)} them through once stored. */
    public record Oldest(List<Window> windows, long throughId) {
    }

    private final SqliteDb db;
    private final WindowTable table = new WindowTable(Dialect.SQLITE);
    private final Path dataDir;
    private final String replica;
    private final long maxBytes;
    private volatile long windows;
    private volatile long bytes;

    /** A spool in {@code dataDir} holding at most about {@code maxBytes} of windows for {@code replica}. */
    public Spool(Path dataDir, long maxBytes, String replica) {
        if (maxBytes < 1) {
            throw new IllegalArgumentException("maxBytes: " + maxBytes + " (expected: > 0)");
        }
        this.dataDir = dataDir;
        this.replica = replica;
        this.maxBytes = maxBytes;
        this.db = new SqliteDb(new StoreConfig(dataDir, "jdbc:sqlite:" + dataDir.resolve(FILE_NAME), "", "",
                List.of(Tier.parseList("1s:1d").get(0)), replica), SqliteDb.DEFAULT_PAGE_SIZE, false);
    }

    /** Opens (or creates) the file; windows left by an earlier run are counted and will be moved first. */
    public void open() {
        try {
            Files.createDirectories(dataDir);
        } catch (IOException e) {
            throw new StoreException("cannot create data directory '" + dataDir.toAbsolutePath() + "': " + e, e);
        }
        db.open();
        refresh();
    }

    /** Windows waiting in the spool. */
    public long windows() {
        return windows;
    }

    /** Bytes the spooled windows use in the file (pages in use; freed pages are reused, the file does not shrink). */
    public long bytes() {
        return bytes;
    }

    public long maxBytes() {
        return maxBytes;
    }

    /** True when the spool holds its bound or more: nothing more is spilled into it. */
    public boolean full() {
        return bytes >= maxBytes;
    }

    /** The highest flush number in the spool, 0 when it never held any; a restarted replica numbers after it. */
    public long lastFlushSeq() {
        return db.read("read spool flush sequence", c -> table.lastFlushSeq(c, replica));
    }

    /** Adds windows in one transaction. */
    public void put(List<Window> spilled) {
        if (spilled.isEmpty()) {
            return;
        }
        db.inTransaction("spool " + spilled.size() + " windows", c -> {
            table.insert(c, replica, spilled);
            return null;
        });
        refresh();
    }

    /** The oldest spooled windows, at most {@code max}. */
    public Oldest oldest(int max) {
        List<Row> rows = db.read("read spool", c -> table.selectOldest(c, max));
        Map<String, SeriesKey> keys = new HashMap<>();
        List<Window> out = new ArrayList<>(rows.size());
        long through = 0;
        for (Row r : rows) {
            SeriesKey key = keys.computeIfAbsent(r.metric() + '\u0000' + r.tags(),
                    k -> SeriesKey.of(r.metric(), TagsJson.decode(r.tags())));
            out.add(new Window(key, r.start(), r.resolution(), r.aggregate(), r.complete(), r.flushSeq()));
            through = Math.max(through, r.id());
        }
        return new Oldest(out, through);
    }

    /** Removes the oldest windows through {@code throughId} once the database holds them. */
    public void remove(long throughId) {
        db.inTransaction("remove spooled windows", c -> table.deleteThrough(c, throughId));
        refresh();
    }

    private void refresh() {
        windows = db.read("count spool", table::countRows);
        bytes = db.read("measure spool", c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT (page_count - freelist_count) * page_size"
                    + " FROM pragma_page_count(), pragma_freelist_count(), pragma_page_size()");
                 ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        });
    }

    @Override
    public void close() {
        db.close();
    }
}
