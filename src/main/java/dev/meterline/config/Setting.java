package dev.meterline.config;

import java.util.Locale;

/** One configuration setting: its kebab-case name, default, and one line of help; env var and flag derive from the name. */
public record Setting(String name, String defaultValue, String help) {

    /** {@code METERLINE_TCP_PORT} for {@code tcp-port}. */
    public String envVar() {
        return "METERLINE_" + name.toUpperCase(Locale.ROOT).replace('-', '_');
    }

    /** {@code --tcp-port} for {@code tcp-port}. */
    public String flag() {
        return "--" + name;
    }
}
