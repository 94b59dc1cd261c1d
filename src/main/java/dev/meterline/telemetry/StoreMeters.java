package dev.meterline.telemetry;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static dev.meterline.telemetry.MeterNames.*;
import static java.util.Objects.requireNonNull;

/**
 * The store's meters: the time each transaction of windows takes, the time of each read for a query and how it found
 * its rows, the series whose stored texts it keeps (and how often that table was full), and for the embedded SQLite
 * store the checkpoints that copy its write-ahead log into the database file and the log's size as the last one left
 * it, and the selections of stored series by named tag values it keeps for queries.
 */
public final class StoreMeters {

    private final Timer writes;
    private final Counter checkpoints;
    private final Map<CheckpointFailure, Counter> failures = new EnumMap<>(CheckpointFailure.class);
    private final Timer checkpointDuration;
    private final Map<StoreReadPath, Timer> reads = new EnumMap<>(StoreReadPath.class);
    private final AtomicLong logPages = new AtomicLong();
    private final AtomicLong logPagesLeft = new AtomicLong();
    private final AtomicLong seriesKept = new AtomicLong();
    private final AtomicLong seriesKeptFull = new AtomicLong();
    private final Counter selectionHits;
    private final Counter selectionMisses;
    private final AtomicLong selectionRows = new AtomicLong();
    private final Counter selectionEvictions;
    private final AtomicLong readConnections = new AtomicLong();

    /** Registers the store's meters on {@code registry}. */
    public StoreMeters(MeterRegistry registry) {
        requireNonNull(registry, "registry");
        writes = Timer.builder(STORE_WRITE_DURATION)
                .description("time of one store transaction of flushed windows (a flush, or a slice of a paced one)")
                .register(registry);
        checkpoints = Counter.builder(STORE_CHECKPOINTS)
                .description("checkpoints of the SQLite store's write-ahead log run to their end")
                .register(registry);
        for (CheckpointFailure f : CheckpointFailure.values()) {
            failures.put(f, Counter.builder(STORE_CHECKPOINT_FAILURES)
                    .description("checkpoints of the SQLite store's write-ahead log that copied nothing, by reason")
                    .tag("reason", f.tag()).register(registry));
        }
        checkpointDuration = Timer.builder(STORE_CHECKPOINT_DURATION)
                .description("time of one checkpoint of the SQLite store's write-ahead log, failed ones included")
                .register(registry);
        for (StoreReadPath p : StoreReadPath.values()) {
            reads.put(p, Timer.builder(STORE_READ_DURATION)
                    .description("time of a query's read of one metric's stored windows, by how its rows were found:"
                            + " seek (looked up per series and window start), range (the metric's range walked),"
                            + " none (nothing stored to read)")
                    .tag("path", p.tag()).register(registry));
        }
        Gauge.builder(STORE_LOG_PAGES, logPages, AtomicLong::get)
                .description("pages in the SQLite store's write-ahead log when the last checkpoint ran")
                .baseUnit("pages").register(registry);
        Gauge.builder(STORE_LOG_LEFT_PAGES, logPagesLeft, AtomicLong::get)
                .description("of those, pages the last checkpoint left in the log because a reader still used them")
                .baseUnit("pages").register(registry);
        Gauge.builder(STORE_SERIES_KEPT, seriesKept, AtomicLong::get)
                .description("series whose stored texts and ids the store keeps, so a flush encodes and inserts only"
                        + " new series; at most max-series")
                .register(registry);
        FunctionCounter.builder(STORE_SERIES_KEPT_FULL, seriesKeptFull, AtomicLong::get)
                .description("writes that found the kept series at max-series and started afresh, encoding and"
                        + " inserting every series of that flush again")
                .register(registry);
        selectionHits = Counter.builder(STORE_SELECTIONS_LOOKUPS)
                .description("queries and listings by named tag values that found their stored series kept and"
                        + " read only the series stored since")
                .tag("result", "hit").register(registry);
        selectionMisses = Counter.builder(STORE_SELECTIONS_LOOKUPS)
                .description("queries and listings by named tag values that read every tag text of the metric"
                        + " (a first ask, series forgotten since, a selection too large to keep, or on PostgreSQL"
                        + " series ids that may still appear below the highest one read)")
                .tag("result", "miss").register(registry);
        Gauge.builder(STORE_SELECTIONS_ROWS, selectionRows, AtomicLong::get)
                .description("rows the kept selections hold: one per selected series and one per selection; at most"
                        + " store-selection-rows")
                .baseUnit("rows").register(registry);
        selectionEvictions = Counter.builder(STORE_SELECTIONS_EVICTIONS)
                .description("kept selections dropped, least recently asked first, to stay within"
                        + " store-selection-rows")
                .register(registry);
        Gauge.builder(STORE_READ_CONNECTIONS, readConnections, AtomicLong::get)
                .description("read-only connections the embedded SQLite store has open for queries, each reading at"
                        + " once with the others; at most store-threads")
                .baseUnit("connections").register(registry);
    }

    /** Meters that no registry exports (a store opened outside a server, by tools and tests). */
    public static StoreMeters unregistered() {
        return new StoreMeters(new SimpleMeterRegistry());
    }

    /** A transaction of windows took {@code nanos}. */
    public void written(long nanos) {
        writes.record(nanos, TimeUnit.NANOSECONDS);
    }

    /** A query's read of a metric's stored windows took {@code nanos}, finding its rows by {@code path}. */
    public void read(StoreReadPath path, long nanos) {
        reads.get(path).record(nanos, TimeUnit.NANOSECONDS);
    }

    /** Reads of stored windows that found their rows by {@code path}. */
    public long reads(StoreReadPath path) {
        return reads.get(path).count();
    }

    /**
     * A checkpoint ran to its end in {@code nanos}: the log held {@code pages} pages and it copied {@code copied} of
     * them into the database file.
     */
    public void checkpointed(long pages, long copied, long nanos) {
        checkpoints.increment();
        checkpointDuration.record(nanos, TimeUnit.NANOSECONDS);
        logPages.set(Math.max(0, pages));
        logPagesLeft.set(Math.max(0, pages - copied));
    }

    /** A checkpoint copied nothing, for {@code reason}, after {@code nanos}. */
    public void checkpointFailed(CheckpointFailure reason, long nanos) {
        failures.get(reason).increment();
        checkpointDuration.record(nanos, TimeUnit.NANOSECONDS);
    }

    /** The store keeps the texts of {@code series} series; writes found that table full {@code fullResets} times. */
    public void seriesKept(long series, long fullResets) {
        seriesKept.set(series);
        seriesKeptFull.set(fullResets);
    }

    /** A query by named tag values found its selection kept ({@code hit}) or read the metric's tag texts. */
    public void selectionLookup(boolean hit) {
        (hit ? selectionHits : selectionMisses).increment();
    }

    /** The kept selections hold {@code rows} rows. */
    public void selectionRows(long rows) {
        selectionRows.set(rows);
    }

    /** The SQLite store's read-only connections for queries now open. */
    public void readConnections(int open) {
        readConnections.set(open);
    }

    /** The SQLite store's read-only connections for queries last reported open. */
    public long readConnections() {
        return readConnections.get();
    }

    /** A kept selection was dropped past the bound. */
    public void selectionEvicted() {
        selectionEvictions.increment();
    }

    /** Transactions of windows timed so far. */
    public long writes() {
        return writes.count();
    }

    /** Checkpoints run to their end so far. */
    public long checkpoints() {
        return (long) checkpoints.count();
    }

    /** Checkpoints that copied nothing for {@code reason} so far. */
    public long checkpointFailures(CheckpointFailure reason) {
        return (long) failures.get(reason).count();
    }

    /** Pages in the log when the last checkpoint that ran to its end ran; 0 before the first. */
    public long logPages() {
        return logPages.get();
    }

    /** Pages the last checkpoint that ran to its end left in the log. */
    public long logPagesLeft() {
        return logPagesLeft.get();
    }
}
