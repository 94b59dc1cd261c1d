package dev.meterline.aggregate;

import dev.meterline.model.Batch;
import dev.meterline.model.Part;
import dev.meterline.model.Point;
import dev.meterline.model.SeriesKey;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;

/** Points gathered into shard parts of the usual size, for the benchmarks that weigh a shard's heap. */
final class BenchParts {

    private static final int PART = 2048;

    private final Batch batch = new Batch(b -> { }, List.of(), new ArrayList<>(), null);
    private final List<Part> parts = new ArrayList<>();
    private List<Point> points = new ArrayList<>(PART);

    /** Adds a point of {@code key}'s series. */
    void add(SeriesKey key, double value, long time) {
        points.add(new Point(key, value, time, points.size() + 1, key.hashCode()));
        if (points.size() == PART) {
            parts.add(new Part(0, batch, points));
            points = new ArrayList<>(PART);
        }
    }

    /** The parts of every point added. */
    List<Part> parts() {
        if (!points.isEmpty()) {
            parts.add(new Part(0, batch, points));
            points = new ArrayList<>(PART);
        }
        return parts;
    }

    /** The heap in use after a full collection. */
    static long usedAfterGc() {
        System.gc();
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }
}
