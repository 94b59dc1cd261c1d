package dev.meterline.telemetry;

import java.util.Locale;

/** The ingest transports, as a meter tag. */
public enum Transport {
    TCP,
    HTTP;

    private final String tag = name().toLowerCase(Locale.ROOT);

    public String tag() {
        return tag;
    }
}
