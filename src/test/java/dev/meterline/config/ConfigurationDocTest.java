package dev.meterline.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

/**
 * Holds the settings table of {@code docs/configuration.md} equal to {@link Config#SETTINGS}: every setting has one
 * row with its environment variable, flag and default, in the table's order, and no row names a setting the code
 * does not have.
 */
final class ConfigurationDocTest {

    private static final Path DOC = Path.of(System.getProperty("basedir", ".")).toAbsolutePath().normalize()
            .resolve("docs").resolve("configuration.md");
    private static final String CORES = String.valueOf(Runtime.getRuntime().availableProcessors());

    @Test
    void theDocumentedTableIsTheSettingsTable() throws IOException {
        List<String> problems = problems(Config.SETTINGS, Files.readAllLines(DOC, StandardCharsets.UTF_8));
        assertEquals(List.of(), problems, DOC + " differs from Config.SETTINGS");
    }

    @Test
    void aSettingWithoutItsRowIsReported() throws IOException {
        List<Setting> more = new ArrayList<>(Config.SETTINGS);
        more.add(new Setting("flush-jitter", "0s", "a setting the table does not list"));
        List<String> problems = problems(more, Files.readAllLines(DOC, StandardCharsets.UTF_8));
        assertEquals(List.of("METERLINE_FLUSH_JITTER: no row"), problems);
    }

    @Test
    void aRowWithoutItsSettingIsReported() {
        List<String> doc = List.of(
                "| env var | flag | default | meaning |",
                "|---|---|---|---|",
                "| `METERLINE_TCP_PORT` | `--tcp-port` | `7070` | TCP ingest port |",
                "| `METERLINE_UDP_PORT` | `--udp-port` | `7071` | not a setting |");
        List<String> problems = problems(List.of(new Setting("tcp-port", "7070", "")), doc);
        assertEquals(List.of("line 4: METERLINE_UDP_PORT is no setting's environment variable"), problems);
    }

    @Test
    void aWrongFlagDefaultOrOrderIsReported() {
        List<Setting> settings = List.of(new Setting("window", "10s", ""), new Setting("lateness", "5s", ""),
                new Setting("storage-url", "", ""), new Setting("workers", CORES, ""));
        List<String> doc = List.of(
                "| `METERLINE_LATENESS` | `--late` | `5s` | … |",
                "| `METERLINE_WINDOW` | `--window` | `1m` | … |",
                "| `METERLINE_STORAGE_URL` | `--storage-url` | `` | … |",
                "| `METERLINE_WORKERS` | `--workers` | number of cores | … |");
        List<String> problems = problems(settings, doc);
        assertTrue(problems.contains("line 1: METERLINE_LATENESS has flag `--late` (expected: `--lateness`)"), problems::toString);
        assertTrue(problems.contains("line 2: METERLINE_WINDOW has default `1m` (expected: `10s`)"), problems::toString);
        assertTrue(problems.contains("line 3: METERLINE_STORAGE_URL has default `` (expected: (none))"), problems::toString);
        assertTrue(problems.contains("rows out of order: [METERLINE_LATENESS, METERLINE_WINDOW, METERLINE_STORAGE_URL, "
                + "METERLINE_WORKERS] (expected: [METERLINE_WINDOW, METERLINE_LATENESS, METERLINE_STORAGE_URL, METERLINE_WORKERS])"),
                problems::toString);
        assertEquals(4, problems.size(), problems::toString);
    }

    /** Every difference between the settings and the table rows (lines starting with {@code | `METERLINE_}). */
    static List<String> problems(List<Setting> settings, List<String> doc) {
        Map<String, Setting> byEnv = new LinkedHashMap<>();
        settings.forEach(s -> byEnv.put(s.envVar(), s));
        List<String> problems = new ArrayList<>();
        List<String> order = new ArrayList<>();
        for (int i = 0; i < doc.size(); i++) {
            String line = doc.get(i).strip();
            if (!line.startsWith("| `METERLINE_")) {
                continue;
            }
            String[] cells = line.split("\\|");
            String where = "line " + (i + 1) + ": ";
            if (cells.length < 5) {
                problems.add(where + "a row of " + (cells.length - 1) + " cells (expected: env var, flag, default, meaning)");
                continue;
            }
            String env = unquote(cells[1].strip());
            Setting s = byEnv.get(env);
            if (s == null) {
                problems.add(where + env + " is no setting's environment variable");
                continue;
            }
            if (order.contains(env)) {
                problems.add(where + env + " has a second row");
                continue;
            }
            order.add(env);
            String flag = cells[2].strip();
            if (!flag.equals("`" + s.flag() + "`")) {
                problems.add(where + env + " has flag " + flag + " (expected: `" + s.flag() + "`)");
            }
            String dflt = cells[3].strip();
            if (!documents(dflt, s.defaultValue())) {
                problems.add(where + env + " has default " + dflt + " (expected: "
                        + (s.defaultValue().isEmpty() ? "(none)" : "`" + s.defaultValue() + "`") + ")");
            }
        }
        for (String env : byEnv.keySet()) {
            if (!order.contains(env)) {
                problems.add(env + ": no row");
            }
        }
        List<String> expected = new ArrayList<>(byEnv.keySet());
        expected.retainAll(order);
        if (!expected.equals(order)) {
            problems.add("rows out of order: " + order + " (expected: " + expected + ")");
        }
        return problems;
    }

    /** The default cell: the value in backquotes, {@code (none)} for an empty one, or the core count in words. */
    private static boolean documents(String cell, String defaultValue) {
        if (defaultValue.isEmpty()) {
            return cell.equals("(none)");
        }
        return cell.equals("`" + defaultValue + "`") || (cell.equals("number of cores") && defaultValue.equals(CORES));
    }

    private static String unquote(String cell) {
        return cell.length() >= 2 && cell.startsWith("`") && cell.endsWith("`") ? cell.substring(1, cell.length() - 1) : cell;
    }
}
