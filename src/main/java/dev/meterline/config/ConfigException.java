package dev.meterline.config;

/** A setting with a value that cannot be used; the message names the setting, the value and what was expected. */
public final class ConfigException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public ConfigException(String message) {
        super(message);
    }
}
