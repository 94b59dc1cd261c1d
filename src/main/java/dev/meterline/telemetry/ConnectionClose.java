package dev.meterline.telemetry;

import java.util.Locale;

/** Why the server closed an open TCP ingest connection on its own. */
public enum ConnectionClose {
    /** Nothing was read for {@code idle-timeout}. */
    IDLE,
    /** A line was started but not completed within {@code line-timeout} (a slow or stalled sender). */
    LINE_TIMEOUT,
    /** The first line was not {@code {"auth":"…"}} with a valid token while authentication is on. */
    AUTH_FAILED,
    /** The client did not read its replies for {@code write-timeout} while its send buffer was full. */
    WRITE_TIMEOUT;

    private final String tag = name().toLowerCase(Locale.ROOT);

    public String tag() {
        return tag;
    }
}
