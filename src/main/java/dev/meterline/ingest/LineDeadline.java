package dev.meterline.ingest;

/**
 * When the line in progress on one connection started, so that a line that never ends (a slowloris sender, or a
 * stalled one) can be cut after the line timeout. Time is a parameter; reading paused by the server does not count.
 */
final class LineDeadline {

    private final long timeoutMs;
    private long startedAt = -1;

    LineDeadline(long timeoutMs) {
        this.timeoutMs = timeoutMs;
    }

    /** After one read: whether it completed at least one line, and whether a line is now in progress. */
    synchronized void afterRead(boolean completedLine, boolean midLine, long now) {
        if (!midLine) {
            startedAt = -1;
        } else if (completedLine || startedAt < 0) {
            startedAt = now;
        }
    }

    /** Reading resumes after the server paused it (buffer full, replies unread): the line's clock restarts. */
    synchronized void resumed(long now) {
        if (startedAt >= 0) {
            startedAt = now;
        }
    }

    /** True when a line has been in progress for the whole timeout. */
    synchronized boolean expired(long now) {
        return startedAt >= 0 && now - startedAt >= timeoutMs;
    }
}
