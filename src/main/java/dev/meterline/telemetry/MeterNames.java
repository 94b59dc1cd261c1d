package dev.meterline.telemetry;

/**
 * Every meter name Meterline registers, in one place: lowercase, dot-separated, base units. Tags come from the reason
 * enums beside this class, never from user data.
 */
public final class MeterNames {

    public static final String POINTS_RECEIVED = "meterline.points.received";
    public static final String POINTS_ACCEPTED = "meterline.points.accepted";
    public static final String POINTS_REJECTED = "meterline.points.rejected";
    public static final String POINTS_DROPPED = "meterline.points.dropped";
    public static final String POINTS_LATE = "meterline.points.late";
    public static final String WINDOWS_FLUSHED = "meterline.windows.flushed";
    public static final String FLUSH_FAILURES = "meterline.flush.failures";
    public static final String FLUSH_TICKS_SKIPPED = "meterline.flush.ticks.skipped";
    public static final String FLUSH_DURATION = "meterline.flush.duration";
    public static final String FLUSH_LAG = "meterline.flush.lag";
    /** Time flushes waited between their slices, and the flushes written in paced slices. */
    public static final String FLUSH_PACED = "meterline.flush.paced";
    public static final String FLUSHES_PACED = "meterline.flushes.paced";
    public static final String REPLIES_DROPPED = "meterline.replies.dropped";
    public static final String CONNECTIONS_REFUSED = "meterline.connections.refused";
    public static final String CONNECTIONS_CLOSED = "meterline.connections.closed";
    public static final String CONNECTIONS_ACTIVE = "meterline.connections.active";
    public static final String AUTH_FAILURES = "meterline.auth.failures";
    public static final String ERRORS = "meterline.errors";
    public static final String AGGREGATE_GROUPS = "meterline.aggregate.groups";
    public static final String WINDOWS_OPEN = "meterline.windows.open";
    public static final String WINDOWS_PENDING = "meterline.windows.pending";
    public static final String WINDOWS_PENDING_LIMIT = "meterline.windows.pending.limit";
    /** The scheduling priority (Linux nice) the threads that take in and store points run at; 0 is the default. */
    public static final String INGEST_NICE = "meterline.ingest.nice";
    public static final String SERIES_ACTIVE = "meterline.series.active";
    public static final String SERIES_LIMIT = "meterline.series.limit";
    /** Series whose last window closed lately, keeping their number in their shard for their next point. */
    public static final String SERIES_LINGERING = "meterline.series.lingering";
    /** Query shapes whose open windows are published, and the series they hold. */
    public static final String QUERY_VIEWS = "meterline.query.views";
    public static final String QUERY_VIEW_SERIES = "meterline.query.view.series";
    /** Query views not kept, or dropped, at their bounds. */
    public static final String QUERY_VIEWS_REFUSED = "meterline.query.views.refused";
    /** Queries answered from a view without a shard, and queries of a view that asked the shards instead. */
    public static final String QUERY_VIEW_READS = "meterline.query.view.reads";
    public static final String QUERY_VIEW_MISSES = "meterline.query.view.misses";
    /**
     * Pending flushes prepared for queries by {@code outcome} (on the prepare thread, or called off by a query that came
     * first and grouped the flush itself), and queries that waited for a preparation under way.
     */
    public static final String PENDING_PREPARATIONS = "meterline.pending.preparations";
    public static final String PENDING_PREPARATION_WAITS = "meterline.pending.preparation.waits";
    /** Prometheus listings refused for reading more series than their bound. */
    public static final String PROMETHEUS_LISTINGS_REFUSED = "meterline.prometheus.listings.refused";
    public static final String BUFFER_POINTS = "meterline.buffer.points";
    public static final String BUFFER_POINTS_PEAK = "meterline.buffer.points.peak";
    public static final String BUFFER_WAITING = "meterline.buffer.waiting";
    public static final String BUFFER_CAPACITY = "meterline.buffer.capacity";
    public static final String SPOOL_WINDOWS = "meterline.spool.windows";
    public static final String SPOOL_BYTES = "meterline.spool.bytes";
    public static final String SPOOL_LIMIT_BYTES = "meterline.spool.limit.bytes";
    /** The store's transactions of windows, and the SQLite store's log checkpoints and log size in pages. */
    public static final String STORE_WRITE_DURATION = "meterline.store.write.duration";
    public static final String STORE_CHECKPOINTS = "meterline.store.checkpoints";
    public static final String STORE_CHECKPOINT_FAILURES = "meterline.store.checkpoint.failures";
    public static final String STORE_CHECKPOINT_DURATION = "meterline.store.checkpoint.duration";
    /** The time of a query's read of one metric's stored windows, by how its rows were found. */
    public static final String STORE_READ_DURATION = "meterline.store.read.duration";
    public static final String STORE_LOG_PAGES = "meterline.store.log.pages";
    public static final String STORE_LOG_LEFT_PAGES = "meterline.store.log.left.pages";
    /** Series whose stored texts and ids the store keeps, and the writes that found that table full. */
    public static final String STORE_SERIES_KEPT = "meterline.store.series.kept";
    public static final String STORE_SERIES_KEPT_FULL = "meterline.store.series.kept.full";
    /**
     * The stored series that queries' and listings' named tag values selected, kept: look-ups by {@code result}, the
     * rows held and the selections evicted past the bound.
     */
    public static final String STORE_SELECTIONS_LOOKUPS = "meterline.store.selections.lookups";
    public static final String STORE_SELECTIONS_ROWS = "meterline.store.selections.rows";
    public static final String STORE_SELECTIONS_EVICTIONS = "meterline.store.selections.evictions";
    /** The embedded store's open read-only connections for queries, at most one per store thread. */
    public static final String STORE_READ_CONNECTIONS = "meterline.store.read.connections";
    public static final String INGEST_PAUSED = "meterline.ingest.paused";
    /** The decoders' series key caches: keys held, slots, each thread's bound, and look-ups by {@code result}. */
    public static final String KEYCACHE_SIZE = "meterline.keycache.size";
    public static final String KEYCACHE_CAPACITY = "meterline.keycache.capacity";
    public static final String KEYCACHE_MAX = "meterline.keycache.max";
    public static final String KEYCACHE_LOOKUPS = "meterline.keycache.lookups";
    /** Netty's pooled allocator, by {@code type} direct or heap, in bytes. */
    public static final String NETTY_ALLOCATOR_USED = "netty.allocator.memory.used";
    /** CPU time of the process, in seconds. */
    public static final String PROCESS_CPU = "process.cpu";
    /** Cores the JVM sees (Micrometer's {@code system.cpu.count}, renamed). */
    public static final String SYSTEM_CPU_CORES = "system.cpu.cores";

    private MeterNames() {
    }
}
