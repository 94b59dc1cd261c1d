package dev.meterline.telemetry;

import java.util.Locale;

/** Why a new TCP ingest connection was refused at once (an error line, then close). */
public enum ConnectionRefusal {
    /** {@code max-connections} connections were already open. */
    TOTAL_LIMIT("too many connections"),
    /** {@code max-connections-per-client} connections from the same address were already open. */
    PER_CLIENT_LIMIT("too many connections from this address"),
    /** The server is draining. */
    SHUTTING_DOWN("shutting down");

    private final String message;
    private final String tag = name().toLowerCase(Locale.ROOT);

    ConnectionRefusal(String message) {
        this.message = message;
    }

    /** The error the client is sent. */
    public String message() {
        return message;
    }

    public String tag() {
        return tag;
    }
}
