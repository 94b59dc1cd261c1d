package dev.meterline.lifecycle;

/**
 * What {@code /readyz} answers, computed from the lifecycle state and the health of the flush path: ready while
 * ready, also while storage writes fail and windows wait ("degraded"); not ready while starting, draining, or while
 * ingest is paused because the windows waiting for storage, or the write-ahead log, are at their bound.
 *
 * @param state             the lifecycle state
 * @param storageFailing    whether the last storage write failed
 * @param lastFailure       the message of the last storage failure
 * @param spooledWindows    windows waiting in the on-disk spool
 * @param spoolFull         whether the spool is at its bound
 * @param ingestPaused      whether ingest is paused for storage
 * @param pendingWindows    closed windows waiting for storage
 * @param maxPendingWindows the bound of pending windows
 * @param flushFailures     failed flush attempts so far
 * @param walPaused         whether ingest is paused at the write-ahead log's bound
 * @param walBytes          bytes the write-ahead log holds
 * @param walMaxBytes       the bound of the write-ahead log
 * @param remoteWriteProblem why remote write is failing, or null while it works (or is off)
 * @param remoteWriteOn     whether remote write is on
 */
public record ReadinessCheck(Readiness.State state, boolean storageFailing, String lastFailure, long spooledWindows,
                             boolean spoolFull, boolean ingestPaused, long pendingWindows, int maxPendingWindows,
                             long flushFailures, boolean walPaused, long walBytes, long walMaxBytes,
                             String remoteWriteProblem, boolean remoteWriteOn) {

    /** Without a write-ahead log. */
    public ReadinessCheck(Readiness.State state, boolean storageFailing, String lastFailure, long spooledWindows,
                          boolean spoolFull, boolean ingestPaused, long pendingWindows, int maxPendingWindows,
                          long flushFailures) {
        this(state, storageFailing, lastFailure, spooledWindows, spoolFull, ingestPaused, pendingWindows,
                maxPendingWindows, flushFailures, false, 0, 0, null, false);
    }

    /** Whether new traffic should come here (HTTP 200 rather than 503). */
    public boolean ready() {
        // No room left for more windows: readiness sends new traffic to replicas that still have room.
        return state == Readiness.State.READY && !ingestPaused && !walPaused;
    }

    /** {@code starting}, {@code ready}, {@code degraded}, {@code draining} or {@code stopped}. */
    public String status() {
        return state == Readiness.State.READY && (storageFailing || ingestPaused || walPaused)
                ? "degraded" : state.label();
    }

    /** Why the status is degraded, or null when it is not. */
    public String reason() {
        String reason = null;
        if (state == Readiness.State.READY && storageFailing) {
            reason = "storage unreachable: " + lastFailure;
            if (spooledWindows > 0) {
                reason += "; " + spooledWindows + " windows spooled to disk" + (spoolFull ? " (spool full)" : "");
            }
        }
        if (state == Readiness.State.READY && ingestPaused) {
            reason = (reason == null ? "" : reason + "; ") + "ingest paused: " + pendingWindows
                    + " windows wait for storage (max-pending-windows " + maxPendingWindows + ")";
        }
        if (state == Readiness.State.READY && walPaused) {
            reason = (reason == null ? "" : reason + "; ") + "ingest paused: the write-ahead log holds " + walBytes
                    + " bytes, at its bound (METERLINE_WAL_MAX_BYTES " + walMaxBytes + ")";
        }
        return reason;
    }
}
