package dev.meterline.wal;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.function.Consumer;

/** The log's size bound: tells the pause listener when the segments reach it and again when they fall below it. */
final class WalBound {

    private static final Logger log = LoggerFactory.getLogger(Wal.class);

    private final long maxBytes;
    private final Consumer<Boolean> pauseListener;
    private final Counter pauses;
    private volatile boolean paused;

    WalBound(long maxBytes, MeterRegistry registry, Consumer<Boolean> pauseListener) {
        this.maxBytes = maxBytes;
        this.pauseListener = pauseListener;
        this.pauses = Counter.builder("meterline.wal.pauses")
                .description("times ingest paused because the write-ahead log reached its bound").register(registry);
    }

    /** True while ingest is paused at the bound. */
    boolean paused() {
        return paused;
    }

    /** Pauses or resumes ingest when the log, now {@code bytes} long, crossed its bound; run on the writer thread. */
    void check(long bytes) {
        boolean full = bytes >= maxBytes;
        if (full == paused) {
            return;
        }
        paused = full;
        if (full) {
            pauses.increment();
            log.warn("ingest paused: the write-ahead log holds {} bytes, at its bound of {} (METERLINE_WAL_MAX_BYTES); "
                    + "it resumes once flushed windows let segments go", bytes, maxBytes);
        } else {
            log.info("ingest resumed: the write-ahead log holds {} bytes (bound {})", bytes, maxBytes);
        }
        Completions.run(() -> pauseListener.accept(full));
    }
}
