package dev.meterline.wal;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;

/** Runs callbacks on the writer thread so that one that fails is logged and does not stop the writer. */
final class Completions {

    private static final Logger log = LoggerFactory.getLogger(Wal.class);

    private Completions() {
    }

    /** Runs every callback in {@code done}, then empties it. */
    static void runAll(List<Runnable> done) {
        for (Runnable r : done) {
            run(r);
        }
        done.clear();
    }

    static void run(Runnable r) {
        try {
            r.run();
        } catch (RuntimeException e) {
            log.warn("a write-ahead log completion failed", e);
        }
    }
}
