package dev.meterline.aggregate;

/**
 * Whether writes to storage are failing, the last failure's message, and whether ingest is paused because the
 * windows waiting for storage are at their bound; for readiness and stats.
 */
public final class StorageHealth {

    private volatile String lastFailure;
    private volatile boolean ingestPaused;

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
