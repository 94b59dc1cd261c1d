package dev.meterline.model;

import java.util.Locale;

/** Why accepted input was dropped rather than aggregated or rejected. */
public enum DropReason {
    /** The ingest buffer was full under the {@code drop} overflow policy. */
    OVERLOADED,
    /** The connection was cut at the drain deadline while its batch waited for buffer room. */
    SHUTDOWN;

    private final String tag = name().toLowerCase(Locale.ROOT);

    public String tag() {
        return tag;
    }
}
