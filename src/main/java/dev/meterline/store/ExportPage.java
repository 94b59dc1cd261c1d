package dev.meterline.store;

import java.util.List;

/**
 * Written partials of some series of one export slice, every partial of each of those series (across replicas and
 * late corrections), in series order; {@code next} is the cursor after the last of them, and {@code more} tells
 * whether the slice may hold further series.
 */
public record ExportPage(List<ExportRow> rows, ExportCursor next, boolean more) {

    public ExportPage {
        rows = List.copyOf(rows);
    }
}
