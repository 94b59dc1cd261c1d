package dev.meterline.config;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Function;

/** Raw setting values, read with their defaults; parse failures become one-line errors naming the setting. */
final class SettingValues {
    private final Map<String, String> raw;
    private final Map<String, Setting> settings = new HashMap<>();

    SettingValues(Map<String, String> raw) {
        this.raw = raw;
        for (Setting s : Config.SETTINGS) {
            settings.put(s.name(), s);
        }
        for (String name : raw.keySet()) {
            if (!settings.containsKey(name)) {
                throw new ConfigException(name + ": unknown setting");
            }
        }
    }

    String string(String name) {
        String v = raw.get(name);
        return v == null ? settings.get(name).defaultValue() : v.trim();
    }

    <T> T get(String name, Function<String, T> parser) {
        String v = string(name);
        try {
            return parser.apply(v);
        } catch (IllegalArgumentException e) {
            String msg = e.getMessage();
            throw error(name, msg != null && msg.startsWith("'") ? msg : "'" + v + "' (" + msg + ")");
        }
    }

    Duration positiveDuration(String name) {
        Duration d = get(name, Durations::parse);
        if (d.isZero()) {
            throw error(name, "'" + string(name) + "' (expected: more than 0)");
        }
        return d;
    }

    int intIn(String name, int min, int max) {
        return (int) longIn(name, min, max);
    }

    long longIn(String name, long min, long max) {
        String v = string(name);
        long n;
        try {
            n = Long.parseLong(v);
        } catch (NumberFormatException e) {
            throw error(name, "'" + v + "' (expected: a whole number from " + min + " to " + max + ")");
        }
        if (n < min || n > max) {
            throw error(name, "'" + v + "' (expected: a whole number from " + min + " to " + max + ")");
        }
        return n;
    }

    ConfigException error(String name, String detail) {
        Setting s = settings.get(name);
        return new ConfigException(s.envVar() + " / " + s.flag() + ": " + detail);
    }
}
