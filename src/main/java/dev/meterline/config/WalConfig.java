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
    /** The default of {@code wal-segment-bytes}: 16 MiB. */
    public static final long DEFAULT_SEGMENT_BYTES = 16L << 20;
    /** The smallest segment: a segment holds at least its header and a few records. */
    public static final long MIN_SEGMENT_BYTES = 4096;

    public WalConfig {
        requireNonNull(fsync, "fsync");
        requireNonNull(fsyncInterval, "fsyncInterval");
        if (segmentBytes < MIN_SEGMENT_BYTES) {
            throw new IllegalArgumentException("segmentBytes: " + segmentBytes + " (expected: >= " + MIN_SEGMENT_BYTES
                    + ")");
        }
        if (maxBytes < segmentBytes) {
            throw new IllegalArgumentException("maxBytes: " + maxBytes + " (expected: >= segmentBytes " + segmentBytes
                    + ")");
        }
        if (fsyncInterval.isNegative() || fsyncInterval.isZero()) {
            throw new IllegalArgumentException("fsyncInterval: " + fsyncInterval + " (expected: > 0)");
        }
    }

    /** The defaults with the given fsync setting. */
    public static WalConfig of(WalFsync fsync) {
        return new WalConfig(fsync, DEFAULT_MAX_BYTES, DEFAULT_SEGMENT_BYTES, Duration.ofSeconds(1));
    }

    public boolean enabled() {
        return fsync != WalFsync.OFF;
    }
}
