package dev.meterline.config;

import java.time.Duration;

import static java.util.Objects.requireNonNull;

/**
 * The write-ahead log: when it is fsynced ({@link WalFsync}), how large one segment file grows before the next one
 * starts, the bound on all segments together (at the bound ingest pauses until flushes let segments go), and how
 * often it is fsynced under {@link WalFsync#INTERVAL}.
 */
public record WalConfig(WalFsync fsync, long maxBytes, long segmentBytes, Duration fsyncInterval) {

    /**
     * The default of {@code wal-max-bytes}: 256 MiB, about 24 million points, whose replay at start fits the
     * manifests' startup probe on a slow machine.
     */
    public static final long DEFAULT_MAX_BYTES = 256L << 20;
    /**
     * Segments within the bound when {@code wal-segment-bytes} is {@code auto}: a segment that ended is held until its
     * windows are stored, so the log carries up to about a segment beyond the windows it needs; an eighth of the
     * bound leaves the rest of it for a storage outage.
     */
    public static final int AUTO_SEGMENTS = 8;
    /**
     * The largest {@code auto} segment, 128 MiB: at a million series reporting every 10 s it already holds about
     * three reports of each (a series record once, then samples of about 11 bytes), and a series that left its shard
     * after a flush is written again anyway, so larger ones would mostly hold stored points longer.
     */
    public static final long AUTO_MAX_SEGMENT_BYTES = 128L << 20;
    /** The smallest segment: a segment holds at least its header and a few records. */
    public static final long MIN_SEGMENT_BYTES = 4096;
    /**
     * The fewest segments the bound must hold: with one, the log reached its bound each time a segment filled and
     * ingest paused until that segment's windows were stored.
     */
    public static final int MIN_SEGMENTS = 2;

    public WalConfig {
        requireNonNull(fsync, "fsync");
        requireNonNull(fsyncInterval, "fsyncInterval");
        if (segmentBytes < MIN_SEGMENT_BYTES) {
            throw new IllegalArgumentException("segmentBytes: " + segmentBytes + " (expected: >= " + MIN_SEGMENT_BYTES
                    + ")");
        }
        if (maxBytes / MIN_SEGMENTS < segmentBytes) {
            throw new IllegalArgumentException("maxBytes: " + maxBytes + " (expected: >= " + MIN_SEGMENTS
                    + " segments of " + segmentBytes + " bytes)");
        }
        if (fsyncInterval.isNegative() || fsyncInterval.isZero()) {
            throw new IllegalArgumentException("fsyncInterval: " + fsyncInterval + " (expected: > 0)");
        }
    }

    /** The defaults with the given fsync setting. */
    public static WalConfig of(WalFsync fsync) {
        return new WalConfig(fsync, DEFAULT_MAX_BYTES, autoSegmentBytes(DEFAULT_MAX_BYTES), Duration.ofSeconds(1));
    }

    /**
     * The {@code auto} segment size for the bound {@code maxBytes}: an {@link #AUTO_SEGMENTS}th of it, from
     * {@link #MIN_SEGMENT_BYTES} to {@link #AUTO_MAX_SEGMENT_BYTES}; 32 MiB at the default bound.
     */
    public static long autoSegmentBytes(long maxBytes) {
        return Math.max(MIN_SEGMENT_BYTES, Math.min(AUTO_MAX_SEGMENT_BYTES, maxBytes / AUTO_SEGMENTS));
    }

    public boolean enabled() {
        return fsync != WalFsync.OFF;
    }
}
