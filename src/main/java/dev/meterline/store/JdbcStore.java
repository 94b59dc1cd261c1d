package dev.meterline.store;

import dev.meterline.config.ConfigException;
import dev.meterline.config.StoreConfig;
import dev.meterline.model.SeriesKey;
import dev.meterline.model.SeriesValues;
import dev.meterline.model.Window;
import dev.meterline.store.WindowTable.Row;
import dev.meterline.telemetry.StoreMeters;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Predicate;

import static java.util.Objects.requireNonNull;

/**
 * A {@link Store} on a JDBC database: the embedded SQLite file or a PostgreSQL server, which differ only in how they
 * lend connections ({@link Db}) and in their SQL ({@link Dialect}); every operation is the same.
 */
final class JdbcStore implements Store {

    /** How long after a coarse window ends it is rolled up: past lateness and the flush that follows it. */
    static final Duration ROLLUP_DELAY = Duration.ofMinutes(1);

    /**
     * Opens PostgreSQL when the URL starts with {@code jdbc:postgresql:}, else the embedded SQLite store, creating or
     * migrating its schema; its writes (and SQLite's checkpoints) are metered on {@code meters}.
     *
     * @throws ConfigException when the store cannot be opened, in one line naming {@code METERLINE_STORAGE_URL}
     */
    static Store connect(StoreConfig config, Clock clock, StoreMeters meters) {
        Store store = config.url().startsWith("jdbc:postgresql:")
                ? new JdbcStore(new PostgresDb(config, poolSize(config)), Dialect.POSTGRES, config, clock, ROLLUP_DELAY,
                        meters)
                : new JdbcStore(new SqliteDb(config, SqliteDb.STORE_PAGE_SIZE, true, meters), Dialect.SQLITE, config,
                        clock, ROLLUP_DELAY, meters);
        try {
            store.open();
            return store;
        } catch (RuntimeException e) {
            store.close();
            throw new ConfigException("METERLINE_STORAGE_URL: " + describe(config) + ": " + oneLine(e.getMessage()));
        }
    }

    /**
     * Connections in the PostgreSQL pool: one per store thread, writing and reading, plus one spare for start-up and
     * shutdown.
     */
    static int poolSize(StoreConfig config) {
        return 2 * config.threads() + 1;
    }

    private static String describe(StoreConfig config) {
        if (config.url().isEmpty()) {
            return "embedded SQLite in " + config.dataDir() + " (METERLINE_DATA_DIR)";
        }
        int q = config.url().indexOf('?');
        return q < 0 ? config.url() : config.url().substring(0, q);
    }

    private static String oneLine(String message) {
        return message == null ? "unknown error" : message.replaceAll("\\s*\\R\\s*", " ").strip();
    }

    private final Db db;
    private final Dialect dialect;
    private final WindowTable table;
    private final ExportReads exports;
    private final Tiers tiers;
    private final Rollup rollup;
    private final String replica;
    private final Clock clock;
    private final StoreMeters meters;
    /**
     * The stored series' texts and ids, for as many series as the server may hold ({@code max-series}), so that a
     * flush of series that stay encodes and inserts none of them again.
     */
    private final SeriesTexts seriesTexts;
    /** Resolutions of written windows seen by this process, so that retention also finds non-tier resolutions. */
    private final Set<Long> writtenResolutions = ConcurrentHashMap.newKeySet();
    /** The distinct tag key sets of the stored series, for the label listings. */
    private final StoredTagKeySets tagKeySets;

    /**
     * A store over {@code db} speaking {@code dialect}; {@code clock} decides which tier a read uses, and a coarse
     * window is rolled up {@code rollupDelay} after it ends; unmetered.
     */
    JdbcStore(Db db, Dialect dialect, StoreConfig config, Clock clock, Duration rollupDelay) {
        this(db, dialect, config, clock, rollupDelay, StoreMeters.unregistered());
    }

    /** As above, each write of windows timed on {@code meters}. */
    JdbcStore(Db db, Dialect dialect, StoreConfig config, Clock clock, Duration rollupDelay, StoreMeters meters) {
        this.db = requireNonNull(db, "db");
        this.dialect = requireNonNull(dialect, "dialect");
        this.exports = new ExportReads(db, dialect);
        this.tiers = new Tiers(requireNonNull(config, "config").tiers());
        this.replica = config.replicaId();
        this.clock = requireNonNull(clock, "clock");
        this.meters = requireNonNull(meters, "meters");
        this.table = new WindowTable(dialect, new StoredSelections(config.selectionRows(), meters, dialect));
        this.rollup = new Rollup(db, table, tiers, replica, requireNonNull(rollupDelay, "rollupDelay").toMillis());
        this.seriesTexts = new SeriesTexts(config.maxSeries());
        this.tagKeySets = new StoredTagKeySets(dialect == Dialect.POSTGRES);
    }

    /** The database behind this store. */
    Db db() {
        return db;
    }

    /** The SQL dialect of the database behind this store. */
    Dialect dialect() {
        return dialect;
    }

    @Override
    public void open() {
        db.open();
        // One look at the series table rather than a load of it: the series of a store that has some are looked up
        // by the writes that bring them.
        seriesTexts.unknownNew(db.read("look for stored series", table::noSeries));
    }

    @Override
    public void close() {
        db.close();
    }

    @Override
    public void write(List<Window> windows) {
        write(windows, true);
    }

    @Override
    public void writePart(List<Window> windows) {
        write(windows, false);
    }

    /**
     * The windows in the order {@link #write} inserts them, each with its series' text and rank carried along
     * ({@link KeyOrdered}), so that the write of a part cut from it takes them rather than finding every series and
     * sorting the part again.
     */
    @Override
    public List<Window> inKeyOrder(List<Window> windows) {
        WindowTexts texts = textsOf(windows);
        int n = texts.size();
        int[] rank = new int[n];
        int[] metricRank = new int[n];
        texts.rank(rank, metricRank);
        // By the ids a write found the series under, when it found every one, as a write orders a start's rows once
        // it knows them. A part's write sorts its rows again only where a series was stored since, under another id.
        boolean known = texts.storedEver();
        int[] order = known ? IndexOrder.ofIds(windows, texts, metricRank) : null;
        if (order == null) {
            order = IndexOrder.of(windows, texts, rank, metricRank);
            if (known) {
                IndexOrder.byIds(windows, texts, order);
            }
        }
        int[] orderedRank = new int[n];
        for (int p = 0; p < n; p++) {
            orderedRank[p] = rank[order[p]];
        }
        return new KeyOrdered(seriesTexts, windows, order, texts.at(order), orderedRank);
    }

    private void write(List<Window> windows, boolean lastPart) {
        if (windows.isEmpty()) {
            return;
        }
        WindowTexts texts;
        int[] rank;
        int[] order;
        if (windows instanceof KeyOrdered part && part.textsOf(seriesTexts)) {
            // A stretch of a flush that inKeyOrder ordered: its texts, ranks and order come with it. A text forgotten
            // since (retention cleared the table) is still the series' text, and stored again as new.
            texts = part.texts();
            rank = part.ranks();
            order = IndexOrder.identity(texts.size());
        } else {
            texts = textsOf(windows);
            int n = texts.size();
            rank = new int[n];
            int[] metricRank = new int[n];
            texts.rank(rank, metricRank);
            order = IndexOrder.of(windows, texts, rank, metricRank);
        }
        long resolution = 0;
        for (Window w : windows) {
            long r = w.resolution();
            if (r != resolution) {
                writtenResolutions.add(r);
                resolution = r;
            }
        }
        long began = System.nanoTime();
        int[] ranks = rank;
        int[] insertOrder = order;
        WindowTexts found = texts;
        boolean assumeNew = seriesTexts.unknownNew();
        WindowTable.Stored stored = db.inTransaction("write " + windows.size() + " windows",
                c -> table.insert(c, replica, windows, found, ranks, insertOrder, lastPart, assumeNew));
        meters.written(System.nanoTime() - began);
        db.written();
        stored.series().stored(stored.epoch());
        if (!stored.series().isEmpty()) {
            seriesTexts.unknownNew(stored.allNew());
        }
        tagKeySets.written(stored, windows, texts);
    }

    private WindowTexts textsOf(List<Window> windows) {
        WindowTexts texts = seriesTexts.of(windows);
        meters.seriesKept(seriesTexts.series(), seriesTexts.fullResets());
        return texts;
    }

    @Override
    public List<StoredWindow> read(String metric, TagValues named, Predicate<SeriesKey> series, long from, long to,
                                   long resolution) {
        long tier = tiers.readResolution(resolution, from, clock.millis());
        // Tags text → its key, or absent from the answer: each distinct series is decoded and tested once.
        Map<String, Optional<SeriesKey>> keys = new HashMap<>();
        Predicate<String> wanted = tags -> keys.computeIfAbsent(tags, t -> {
            SeriesKey key = SeriesKey.of(metric, TagsJson.decode(t));
            return named.admits(key, series) ? Optional.of(key) : Optional.empty();
        }).isPresent();
        long began = System.nanoTime();
        WindowTable.Selected selected = db.read("read " + metric,
                c -> table.select(c, metric, tier, from, to, named, wanted));
        meters.read(selected.path(), System.nanoTime() - began);
        List<StoredWindow> out = new ArrayList<>(selected.rows().size());
        for (Row r : selected.rows()) {
            SeriesKey key = keys.get(r.tags()).orElseThrow();
            out.add(new StoredWindow(r.replica(), new Window(key, r.start(), r.resolution(), r.aggregate(),
                    r.complete(), r.flushSeq())));
        }
        return out;
    }

    /**
     * On SQLite, the newest stored window start of {@code metric}: the file belongs to this server alone, so it
     * changes only by this server's writes. On PostgreSQL other replicas write at any time: {@link Long#MAX_VALUE}.
     */
    @Override
    public long newestStart(String metric) {
        if (dialect != Dialect.SQLITE) {
            return Long.MAX_VALUE;
        }
        return db.read("read newest window of " + metric, c -> table.newestStart(c, metric));
    }

    @Override
    public List<String> metricNames() {
        return db.read("list metric names", table::metricNames);
    }

    @Override
    public Map<String, Long> metrics() {
        return db.read("list metrics", table::metrics);
    }

    @Override
    public List<SeriesKey> series(String metric) {
        List<SeriesKey> out = db.read("list series of " + metric, c -> table.seriesTags(c, metric, TagValues.NONE,
                tags -> SeriesKey.of(metric, TagsJson.decode(tags)), Integer.MAX_VALUE));
        out.sort(Comparator.naturalOrder());
        return out;
    }

    @Override
    public long lastFlushSeq() {
        return db.read("read last flush sequence", c -> table.lastFlushSeq(c, replica));
    }

    @Override
    public void maintain(long now) {
        rollup.run(now);
        Set<Long> resolutions = new TreeSet<>(writtenResolutions);
        for (int i = 0; i < tiers.size(); i++) {
            resolutions.add(tiers.resolution(i));
        }
        for (String metric : db.readApart("list metric names", table::metricNames)) {
            int deleted = 0;
            for (long resolution : resolutions) {
                long cutoff = now - tiers.retentionOf(resolution);
                deleted += db.inTransaction("expire " + metric,
                        c -> table.deleteBefore(c, replica, metric, resolution, cutoff));
            }
            // A series that came back during the prune may be forgotten until its next new-series flush.
            if (deleted > 0 && db.inTransaction("forget series of " + metric, c -> table.pruneSeries(c, metric)) > 0) {
                seriesTexts.clear();
                tagKeySets.forgotten();
            }
        }
    }

    @Override
    public void prepareExport() {
        exports.prepareExport();
    }

    @Override
    public ExportCursor exportCursor(String target) {
        return exports.exportCursor(target);
    }

    @Override
    public void advanceExportCursor(String target, ExportCursor cursor) {
        exports.advanceExportCursor(target, cursor);
    }

    @Override
    public ExportPage exportPage(long resolution, long from, long to, ExportCursor after, long maxId, int limit) {
        return exports.exportPage(resolution, from, to, after, maxId, limit);
    }

    @Override
    public long nextWrittenStart(long resolution, long from) {
        return exports.nextWrittenStart(resolution, from);
    }

    @Override
    public long lastWrittenId() {
        return exports.lastWrittenId();
    }

    @Override
    public long countWrittenBetween(long afterId, long throughId, long resolution, long before) {
        return exports.countWrittenBetween(afterId, throughId, resolution, before);
    }

    @Override
    public ExportLock exportLock(String target) {
        if (db instanceof PostgresDb pg) {
            return new PostgresExportLock(pg::connectDirect, target);
        }
        return new ExportLock() {
            @Override
            public boolean hold() {
                return true;
            }

            @Override
            public void close() {
            }
        };
    }

    @Override
    public List<SeriesKey> series(String metric, TagValues named, Predicate<SeriesKey> filter, int max) {
        return db.read("list series of " + metric, c -> table.seriesTags(c, metric, named,
                tags -> admitted(metric, tags, named, filter), max + 1));
    }

    @Override
    public SeriesValues seriesValues(String metric, TagValues named, Predicate<SeriesKey> filter,
                                     SeriesValues.Value valueOf, int max) {
        String tagKey = !named.names() && filter == null ? valueOf.tagKey() : null;
        return db.read("list values of series of " + metric, c -> {
            if (tagKey != null) {
                // Every series, and a tag's value: read out of the texts where they are.
                SeriesValues values = table.tagValues(c, metric, tagKey, max + 1);
                if (values != null) {
                    return values;
                }
            }
            SeriesValues out = new SeriesValues();
            table.seriesTags(c, metric, named, tags -> {
                SeriesKey key = admitted(metric, tags, named, filter);
                if (key == null) {
                    return null;
                }
                out.add(key, valueOf);
                return Boolean.TRUE;
            }, max + 1);
            return out;
        });
    }

    /** The key of a stored series of {@code metric} with tag text {@code tags}, or null when a listing skips it. */
    private static SeriesKey admitted(String metric, String tags, TagValues named, Predicate<SeriesKey> filter) {
        SeriesKey key = SeriesKey.of(metric, TagsJson.decode(tags));
        return named.admits(key, filter) ? key : null;
    }

    @Override
    public List<SeriesKey> tagKeySets() {
        return db.read("list tag keys of series", tagKeySets::read);
    }
}
