package dev.meterline.telemetry;

import java.util.Locale;

/** Why a checkpoint of the embedded store's SQLite log copied nothing. */
public enum CheckpointFailure {
    /** Another connection held the log's checkpoint lock (its own checkpoint, or a process outside the server). */
    BUSY,
    /** SQLite or the file system failed the checkpoint (a full disk, an I/O error, a closed connection). */
    ERROR;

    private final String tag = name().toLowerCase(Locale.ROOT);

    public String tag() {
        return tag;
    }
}
