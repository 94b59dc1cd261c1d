package dev.meterline.aggregate;

import dev.meterline.model.Batch;
import dev.meterline.model.Part;
import dev.meterline.model.Point;
import dev.meterline.model.SeriesKey;
import dev.meterline.model.Window;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A shard finds a series' state through the key instance it last saw (the decoder hands out the same instance for
 * the same wire bytes); these cases show that the shortcut never changes what is aggregated.
 */
class ShardTest {

    private static final long WINDOW = 10_000;
    private static final long LATENESS = 5_000;

    private static Part part(SeriesKey key, double value, long timestamp) {
        Batch b = new Batch(batch -> { }, List.of(), new ArrayList<>(), null);
        b.validated(List.of(), 1);
        return new Part(0, b, List.of(new Point(key, value, timestamp, 1)));
    }

    @Test
    void aSeriesComingBackAfterItsLastWindowClosedStartsAfresh() {
        SeriesBudget budget = new SeriesBudget(10);
        Shard shard = new Shard(WINDOW, LATENESS, budget);
        SeriesKey key = SeriesKey.of("cpu", Map.of("host", "a"));

        shard.record(part(key, 1, 1_000));
        shard.record(part(key, 2, 2_000));
        List<Window> first = shard.close(WINDOW + LATENESS, 1);
        assertEquals(1, first.size());
        assertEquals(2, first.get(0).aggregate().count());
        assertEquals(0, budget.active(), "the series left with its last window");

        shard.record(part(key, 5, 21_000));
        assertEquals(1, budget.active(), "the series counts against the budget again");
        List<Window> second = shard.closeAll(100_000, 2);
        assertEquals(1, second.size());
        assertEquals(1, second.get(0).aggregate().count());
        assertEquals(5, second.get(0).aggregate().sum());
        assertEquals(List.of(), shard.series(null));
    }

    @Test
    void pointsAlternatingBetweenTwoOpenWindowsLandInTheirOwn() {
        Shard shard = new Shard(WINDOW, LATENESS, new SeriesBudget(10));
        SeriesKey key = SeriesKey.of("cpu", Map.of("host", "a"));
        for (int i = 0; i < 10; i++) {
            shard.record(part(key, 1, 9_000));
            shard.record(part(key, 100, 11_000));
        }
        List<Window> older = shard.close(WINDOW + LATENESS, 1);
        assertEquals(1, older.size());
        assertEquals(10, older.get(0).aggregate().sum());
        shard.record(part(key, 100, 12_000));
        shard.record(part(key, 1, 9_500));
        List<Window> rest = shard.closeAll(100_000, 2);
        assertEquals(2, rest.size(), "the late point reopened its window");
        double newer = rest.stream().filter(w -> w.start() == WINDOW).mapToDouble(w -> w.aggregate().sum()).sum();
        double reopened = rest.stream().filter(w -> w.start() == 0).mapToDouble(w -> w.aggregate().sum()).sum();
        assertEquals(1_100, newer);
        assertEquals(1, reopened);
    }

    @Test
    void equalKeysOfDifferentInstancesAreOneSeries() {
        Shard shard = new Shard(WINDOW, LATENESS, new SeriesBudget(10));
        SeriesKey one = SeriesKey.of("cpu", Map.of("host", "a", "dc", "x"));
        SeriesKey other = SeriesKey.of("cpu", Map.of("dc", "x", "host", "a"));

        shard.record(part(one, 1, 1_000));
        shard.record(part(other, 2, 1_000));
        shard.record(part(one, 3, 1_000));

        List<Window> windows = shard.closeAll(100_000, 1);
        assertEquals(1, windows.size());
        assertEquals(3, windows.get(0).aggregate().count());
        assertEquals(6, windows.get(0).aggregate().sum());
    }

    @Test
    void oneKeyInstanceInTwoShardsKeepsTheirStatesApart() {
        Shard a = new Shard(WINDOW, LATENESS, new SeriesBudget(10));
        Shard b = new Shard(WINDOW, LATENESS, new SeriesBudget(10));
        SeriesKey key = SeriesKey.of("cpu", Map.of("host", "a"));

        a.record(part(key, 1, 1_000));
        b.record(part(key, 10, 1_000));
        a.record(part(key, 2, 1_000));
        b.record(part(key, 20, 1_000));
        b.record(part(key, 30, 1_000));

        assertEquals(3, a.closeAll(100_000, 1).get(0).aggregate().sum());
        assertEquals(60, b.closeAll(100_000, 1).get(0).aggregate().sum());
    }
}
