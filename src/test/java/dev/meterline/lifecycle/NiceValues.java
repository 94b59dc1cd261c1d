package dev.meterline.lifecycle;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The nice values the kernel holds for this process's threads, read from {@code /proc} (Linux only): what a thread
 * really runs at, whatever the code that set it believes.
 */
public final class NiceValues {

    private static final Path TASKS = Path.of("/proc/self/task");

    private NiceValues() {
    }

    /** True where {@code /proc} shows threads' nice values. */
    public static boolean readable() {
        return Files.isReadable(Path.of("/proc/thread-self/stat"));
    }

    /** The calling thread's nice value. */
    public static int ofCurrentThread() throws IOException {
        return niceIn(Files.readString(Path.of("/proc/thread-self/stat")));
    }

    /**
     * The nice values of the process's threads by the kernel's name for them (the Java name cut to 15 bytes, e.g.
     * {@code meterline-shard} for {@code meterline-shard-1}).
     */
    public static Map<String, List<Integer>> byThreadName() throws IOException {
        Map<String, List<Integer>> out = new TreeMap<>();
        try (DirectoryStream<Path> tasks = Files.newDirectoryStream(TASKS)) {
            for (Path task : tasks) {
                try {
                    String name = Files.readString(task.resolve("comm")).strip();
                    out.computeIfAbsent(name, n -> new ArrayList<>()).add(niceIn(Files.readString(task.resolve("stat"))));
                } catch (NoSuchFileException ended) {
                    // the thread ended while the directory was read
                }
            }
        }
        return out;
    }

    /** Field 19 of a {@code stat} line; the name, field 2, is in parentheses and may hold spaces. */
    private static int niceIn(String stat) {
        String[] after = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Integer.parseInt(after[19 - 3]);
    }
}
