package dev.meterline.bench;

import java.util.List;
import java.util.Map;

/** Prints scaling tables as Markdown, ready for docs/performance.md. */
final class Tables {

    private Tables() {
    }

    static void print(String first, Map<String, List<Result>> rows) {
        String[] h = Result.header(first);
        System.out.println("| " + String.join(" | ", h) + " |");
        System.out.println("|" + "---|".repeat(h.length));
        rows.forEach((label, rs) -> System.out.println("| " + String.join(" | ", Result.row(label, rs)) + " |"));
    }
}
