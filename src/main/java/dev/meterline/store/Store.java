package dev.meterline.store;

import dev.meterline.config.StoreConfig;
import dev.meterline.model.SeriesKey;
import dev.meterline.model.SeriesValues;
import dev.meterline.model.Window;
import dev.meterline.telemetry.StoreMeters;

import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * Durable storage of flushed partial windows. Every method blocks and is called only from the store's own bounded
 * scheduler ({@link StoreGateway}); implementations need not be thread-safe beyond that scheduler's threads.
 *
 * <p>Rows are partials: each flush writes this replica's partial aggregate of a window, and readers merge all
 * partials of a (series, window). A write is idempotent per (replica, series, resolution, start, flushSeq), so a
 * retried batch that had in fact committed never doubles a count.
 */
public interface Store extends AutoCloseable {

    /** Opens the store of {@code config} on the system clock; see {@link #connect(StoreConfig, Clock)}. */
    static Store connect(StoreConfig config) {
        return connect(config, Clock.systemUTC());
    }

    /**
     * Opens PostgreSQL when the URL starts with {@code jdbc:postgresql:}, else the embedded SQLite store, creating or
     * migrating its schema; {@code clock} decides which tier a read uses.
     *
     * @throws dev.meterline.config.ConfigException when the store cannot be opened, in one line naming
     *                                              {@code METERLINE_STORAGE_URL}
     */
    static Store connect(StoreConfig config, Clock clock) {
        return connect(config, clock, StoreMeters.unregistered());
    }

    /** As {@link #connect(StoreConfig, Clock)}, the store's writes and SQLite's checkpoints metered on {@code meters}. */
    static Store connect(StoreConfig config, Clock clock, StoreMeters meters) {
        return JdbcStore.connect(config, clock, meters);
    }

    /** Creates or migrates the schema; fails with a clear message when the schema is newer than this binary. */
    void open();

    /** Writes every window of one flush in one transaction, under this store's replica id. */
    void write(List<Window> windows);

    /**
     * Writes part of one flush in its own transaction, as {@link #write} does, except that this replica's last flush
     * number is not raised: until the flush's last part is written by {@link #write}, a restart replays the whole
     * flush from the write-ahead log and writes it again, and the unique key skips the parts already stored.
     */
    void writePart(List<Window> windows);

    /**
     * {@code windows} in the order {@link #write} inserts them (the unique key's), so that parts cut from it in turn
     * each fill one stretch of the key rather than land between the rows of the parts before them.
     */
    default List<Window> inKeyOrder(List<Window> windows) {
        return windows;
    }

    /**
     * Stored partials of {@code metric} whose window starts in {@code [from, to)}, from the finest tier whose
     * resolution divides {@code resolution} and whose retention covers {@code from}; in write order.
     */
    default List<StoredWindow> read(String metric, long from, long to, long resolution) {
        return read(metric, series -> true, from, to, resolution);
    }

    /**
     * As above, only of the series {@code series} accepts. Each distinct series is tested once, before any of its
     * rows' aggregates is decoded, so a query for one series of a large metric decodes that series' rows only.
     */
    default List<StoredWindow> read(String metric, Predicate<SeriesKey> series, long from, long to, long resolution) {
        return read(metric, TagValues.NONE, series, from, to, resolution);
    }

    /**
     * As above, only of the series that have the values {@code named} names (a query's tag filters, a Prometheus
     * selector's equality matchers): the store finds them by their values before it decodes their tags, and
     * {@code series} tests only those.
     */
    List<StoredWindow> read(String metric, TagValues named, Predicate<SeriesKey> series, long from, long to,
                            long resolution);

    /**
     * The newest window start, at any resolution, of the rows of {@code metric} the store holds, as far as this
     * process can know it: {@link Long#MIN_VALUE} for none, {@link Long#MAX_VALUE} when others may write rows at any
     * time. Rows written later by this process start at most at the newest start of the windows it writes.
     */
    default long newestStart(String metric) {
        return Long.MAX_VALUE;
    }

    /** Every stored metric with its number of distinct series. */
    Map<String, Long> metrics();

    /** The names of the stored metrics, sorted; without counting their series. */
    List<String> metricNames();

    /** Distinct stored series of {@code metric}, sorted. */
    List<SeriesKey> series(String metric);

    /** The highest flush sequence number this replica has written, 0 for none. */
    long lastFlushSeq();

    /** Rolls finished windows up into coarser tiers and deletes rows past their tier's retention. */
    default void maintain(long now) {
    }

    /** Creates what exporting needs (the export index) if missing; idempotent, safe with several replicas. */
    void prepareExport();

    /** Where the export to {@code target} stands, or null when it never started. */
    ExportCursor exportCursor(String target);

    /** Moves the export cursor of {@code target} forward to {@code cursor}; a cursor behind the stored one is ignored. */
    void advanceExportCursor(String target, ExportCursor cursor);

    /**
     * Written partials (of every replica, rollups excluded) of {@code resolution} with start in [from, to) and row
     * id at most {@code maxId}, of the series after {@code after}'s, in series order: at most about {@code limit}
     * rows, never part of a series.
     */
    ExportPage exportPage(long resolution, long from, long to, ExportCursor after, long maxId, int limit);

    /** The earliest start at or after {@code from} of any stored window of {@code resolution}, or -1 for none. */
    long nextWrittenStart(long resolution, long from);

    /** The highest row id written so far by any replica, 0 for none. */
    long lastWrittenId();

    /** Written partials of {@code resolution} with a row id in (afterId, throughId] that start before {@code before}. */
    long countWrittenBetween(long afterId, long throughId, long resolution, long before);

    /** The lock that lets one replica at a time export to {@code target}. */
    ExportLock exportLock(String target);

    @Override
    void close();

    /**
     * At most {@code max + 1} distinct stored series of {@code metric} that have the values {@code named} names and
     * pass {@code filter} (null for none), in no particular order: more than {@code max} tells the caller its listing
     * is over its bound.
     */
    List<SeriesKey> series(String metric, TagValues named, Predicate<SeriesKey> filter, int max);

    /**
     * What {@code valueOf} gives of each distinct stored series of {@code metric} that has the values {@code named}
     * names and passes {@code filter} (null for none), with the count of those series, reading at most
     * {@code max + 1} of them: a count over {@code max} tells the caller its listing is over its bound.
     */
    SeriesValues seriesValues(String metric, TagValues named, Predicate<SeriesKey> filter, SeriesValues.Value valueOf,
                              int max);

    /** One stored series of each distinct metric and set of tag keys: the label names of them all are theirs. */
    List<SeriesKey> tagKeySets();
}
