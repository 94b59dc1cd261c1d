package dev.meterline.bench;

import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedObject;
import jdk.jfr.consumer.RecordingFile;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;

/**
 * What each young collection of a flight recording copied: its pause and the bytes G1 evacuated into survivor and
 * old regions (what its copying threads used of their buffers there, and what they copied outside them). The bytes
 * depend on what lived through the collection, not on the machine's load, so two builds compare across sittings;
 * the pauses do not. Record a server with the settings {@code src/bench/young-copy.jfc}, e.g. as a jar word of
 * {@code LoadGen --compare}: {@code jar=OLD -XX:StartFlightRecording=filename=/tmp/old.jfr,settings=SETTINGS}; then
 * {@code java -cp target/test-classes dev.meterline.bench.YoungCopy /tmp/old.jfr /tmp/new.jfr} prints one line per
 * collection (seconds into the recording, pause, MiB copied) and one line of totals per file.
 */
public final class YoungCopy {

    private YoungCopy() {
    }

    /** One young collection: when it started, its pause and the bytes it copied. */
    private static final class Collection {
        long startMillis = -1;
        double pauseMillis;
        long copied;
    }

    public static void main(String[] args) throws IOException {
        if (args.length == 0) {
            System.err.println("usage: YoungCopy RECORDING.jfr [RECORDING.jfr ...]");
            System.exit(2);
        }
        for (String file : args) {
            print(file, read(Path.of(file)));
        }
    }

    private static Map<Long, Collection> read(Path file) throws IOException {
        Map<Long, Collection> byId = new TreeMap<>();
        for (RecordedEvent e : RecordingFile.readAllEvents(file)) {
            switch (e.getEventType().getName()) {
                case "jdk.YoungGarbageCollection" -> {
                    Collection c = byId.computeIfAbsent(e.getLong("gcId"), id -> new Collection());
                    c.startMillis = e.getStartTime().toEpochMilli();
                    c.pauseMillis = e.getDuration().toNanos() / 1e6;
                }
                case "jdk.G1EvacuationYoungStatistics", "jdk.G1EvacuationOldStatistics" -> {
                    RecordedObject s = e.getValue("statistics");
                    Collection c = byId.computeIfAbsent(s.getLong("gcId"), id -> new Collection());
                    c.copied += s.getLong("used") + s.getLong("directAllocated");
                }
                default -> {
                }
            }
        }
        // Statistics of a mixed or full collection have no young collection's event: not counted.
        byId.values().removeIf(c -> c.startMillis < 0);
        return byId;
    }

    private static void print(String file, Map<Long, Collection> byId) {
        System.out.println(file);
        long first = byId.values().stream().mapToLong(c -> c.startMillis).min().orElse(0);
        double total = 0;
        double longest = 0;
        long copied = 0;
        for (Map.Entry<Long, Collection> e : byId.entrySet()) {
            Collection c = e.getValue();
            System.out.printf("  GC(%d) at %.2f s: pause %.0f ms, copied %.1f MiB%n", e.getKey(),
                    (c.startMillis - first) / 1e3, c.pauseMillis, c.copied / 1048576.0);
            total += c.pauseMillis;
            longest = Math.max(longest, c.pauseMillis);
            copied += c.copied;
        }
        System.out.printf("  %d young collections: pauses %.0f ms in all, longest %.0f ms; copied %.1f MiB%n",
                byId.size(), total, longest, copied / 1048576.0);
    }
}
