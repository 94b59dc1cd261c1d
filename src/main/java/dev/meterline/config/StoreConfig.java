package dev.meterline.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * Storage: the data directory of the embedded store, or a JDBC URL with credentials; the retention tiers; this
 * replica's id, written with every row so that replicas sharing one database never overwrite each other; and how
 * long a database call may wait to connect before it fails (so a flush against a database that is down fails fast);
 * how many closed windows may wait in memory for storage; and the bound of the on-disk spool that takes windows
 * beyond that while the database is unreachable (0: no spool), before ingest is paused; the series budget
 * ({@code max-series}), the series whose stored texts and ids the store keeps; and how many selected series the
 * store keeps for queries and listings by named tag values ({@code store-selection-rows}, 0: none).
 */
public record StoreConfig(Path dataDir, String url, String user, String password, List<Tier> tiers,
                          String replicaId, Duration timeout, int maxPendingWindows, long spoolMaxBytes,
                          int threads, int maxSeries, int selectionRows) {

    /** The default of {@code storage-timeout}. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(5);
    /** The shortest connection timeout the pool accepts. */
    public static final Duration MIN_TIMEOUT = Duration.ofMillis(250);
    /** The default of {@code max-pending-windows}: one flush of every series of the default series budget. */
    public static final int DEFAULT_MAX_PENDING_WINDOWS = 1_000_000;
    /** The default of {@code spool-max-bytes}: 1 GiB. */
    public static final long DEFAULT_SPOOL_MAX_BYTES = 1L << 30;
    /** The default of {@code store-threads}: one flushing while a query reads. */
    public static final int DEFAULT_THREADS = 2;
    /** The default of {@code max-series}. */
    public static final int DEFAULT_MAX_SERIES = 1_000_000;
    /** The default of {@code store-selection-rows}. */
    public static final int DEFAULT_SELECTION_ROWS = 100_000;

    public StoreConfig {
        if (timeout.compareTo(MIN_TIMEOUT) < 0) {
            throw new IllegalArgumentException("timeout: " + timeout + " (expected: >= " + MIN_TIMEOUT + ")");
        }
        if (maxPendingWindows < 1) {
            throw new IllegalArgumentException("maxPendingWindows: " + maxPendingWindows + " (expected: > 0)");
        }
        if (spoolMaxBytes < 0) {
            throw new IllegalArgumentException("spoolMaxBytes: " + spoolMaxBytes + " (expected: >= 0)");
        }
        if (threads < 1) {
            throw new IllegalArgumentException("threads: " + threads + " (expected: > 0)");
        }
        if (maxSeries < 1) {
            throw new IllegalArgumentException("maxSeries: " + maxSeries + " (expected: > 0)");
        }
        if (selectionRows < 0) {
            throw new IllegalArgumentException("selectionRows: " + selectionRows + " (expected: >= 0)");
        }
    }

    /** With the default bound of the kept selections. */
    public StoreConfig(Path dataDir, String url, String user, String password, List<Tier> tiers, String replicaId,
                       Duration timeout, int maxPendingWindows, long spoolMaxBytes, int threads, int maxSeries) {
        this(dataDir, url, user, password, tiers, replicaId, timeout, maxPendingWindows, spoolMaxBytes, threads,
                maxSeries, DEFAULT_SELECTION_ROWS);
    }

    /** With the default series budget. */
    public StoreConfig(Path dataDir, String url, String user, String password, List<Tier> tiers, String replicaId,
                       Duration timeout, int maxPendingWindows, long spoolMaxBytes, int threads) {
        this(dataDir, url, user, password, tiers, replicaId, timeout, maxPendingWindows, spoolMaxBytes, threads,
                DEFAULT_MAX_SERIES);
    }

    /** With the default number of store threads. */
    public StoreConfig(Path dataDir, String url, String user, String password, List<Tier> tiers, String replicaId,
                       Duration timeout, int maxPendingWindows, long spoolMaxBytes) {
        this(dataDir, url, user, password, tiers, replicaId, timeout, maxPendingWindows, spoolMaxBytes,
                DEFAULT_THREADS);
    }

    /** A configuration with the default timeout and backlog bound. */
    public StoreConfig(Path dataDir, String url, String user, String password, List<Tier> tiers, String replicaId) {
        this(dataDir, url, user, password, tiers, replicaId, DEFAULT_TIMEOUT, DEFAULT_MAX_PENDING_WINDOWS,
                DEFAULT_SPOOL_MAX_BYTES);
    }

    /** True when windows that the database cannot take spill to a spool file in the data directory. */
    public boolean spooled() {
        return !embedded() && spoolMaxBytes > 0;
    }

    /** True when no URL was set, so the embedded SQLite store in {@link #dataDir()} is used. */
    public boolean embedded() {
        return url.isEmpty() || url.startsWith("jdbc:sqlite:");
    }

    @Override
    public String toString() {
        return "StoreConfig[dataDir=" + dataDir + ", url=" + url + ", user=" + user
                + ", password=" + (password.isEmpty() ? "" : "***") + ", tiers=" + tiers + ", replicaId=" + replicaId
                + ", timeout=" + timeout + ", maxPendingWindows=" + maxPendingWindows + ", spoolMaxBytes=" + spoolMaxBytes
                + ", threads=" + threads + ", maxSeries=" + maxSeries + ", selectionRows=" + selectionRows + "]";
    }
}
