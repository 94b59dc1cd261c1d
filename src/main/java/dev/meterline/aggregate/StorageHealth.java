package dev.meterline.aggregate;

import dev.meterline.telemetry.MeterNames;
import dev.meterline.telemetry.PipelineMetrics;

/**
 * Whether writes to storage are failing, the last failure's message, and whether ingest is paused because the
 * windows waiting for storage are at their bound; for readiness and stats.
 */
public final class StorageHealth {

    private volatile String lastFailure;
    private volatile boolean ingestPaused;

    /** Registers whether ingest is paused as a level (1 or 0). */
    public void bindTo(PipelineMetrics metrics) {
        metrics.level("ingestPaused", MeterNames.INGEST_PAUSED, "1 while ingest is paused for storage, else 0",
                () -> ingestPaused ? 1 : 0);
    }

    void ingestPaused(boolean paused) {
        ingestPaused = paused;
    }

    /** True while ingest is paused because the windows waiting for storage are at their bound. */
    public boolean ingestPaused() {
        return ingestPaused;
    }

    void failed(Throwable e) {
        String m = e.getMessage();
        lastFailure = (m == null ? e.getClass().getSimpleName() : m).replaceAll("\\s*\\R\\s*", " ").strip();
    }

    void recovered() {
        lastFailure = null;
    }

    /** True from a failed write until the next write succeeds. */
    public boolean failing() {
        return lastFailure != null;
    }

    /** The last failure's one-line message, or null while storage is healthy. */
    public String lastFailure() {
        return lastFailure;
    }
}
