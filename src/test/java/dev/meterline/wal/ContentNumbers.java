package dev.meterline.wal;

import dev.meterline.model.Point;
import dev.meterline.model.SeriesKey;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Series numbers for points handed to the log in tests, as a shard would give them: one per distinct key by content,
 * never given to another series. Safe to share between threads.
 */
final class ContentNumbers {

    private final Map<SeriesKey, Integer> numbers = new HashMap<>();

    /** The numbers of {@code points}' series, in the points' order. */
    synchronized int[] of(List<Point> points) {
        int[] out = new int[points.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = numbers.computeIfAbsent(points.get(i).series(), k -> numbers.size());
        }
        return out;
    }
}
