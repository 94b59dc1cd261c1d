package dev.meterline.aggregate;

import dev.meterline.model.Batch;
import dev.meterline.model.Part;
import dev.meterline.model.Point;
import dev.meterline.model.SeriesKey;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A metric's live series counted by their sets of tag keys as they join and leave, up to the bound. */
class MetricSeriesTest {

    private static SeriesKey key(String... pairs) {
        Map<String, String> tags = new LinkedHashMap<>();
        for (int i = 0; i < pairs.length; i += 2) {
            tags.put(pairs[i], pairs[i + 1]);
        }
        return SeriesKey.of("cpu", tags);
    }

    /** The sets as sorted key names, each once. */
    private static Set<String> sets(MetricSeries series) {
        List<SeriesKey> out = new ArrayList<>();
        assertTrue(series.addKeySets(out));
        Set<String> sets = new HashSet<>();
        for (SeriesKey k : out) {
            assertTrue(sets.add(k.tags().keySet().toString()), "each set once: " + out);
        }
        return sets;
    }

    @Test
    void theSetsOfTheLiveSeriesFollowJoinsAndLeaves() {
        MetricSeries series = new MetricSeries();
        SeriesState a1 = new SeriesState(key("host", "a", "dc", "eu"));
        SeriesState a2 = new SeriesState(key("dc", "us", "host", "b"));
        SeriesState b = new SeriesState(key("host", "c", "rack", "r1"));
        SeriesState none = new SeriesState(key());
        series.join(a1);
        series.join(b);
        series.join(a2);
        series.join(none);
        assertEquals(Set.of("[dc, host]", "[host, rack]", "[]"), sets(series));
        series.leave(a1);
        assertEquals(Set.of("[dc, host]", "[host, rack]", "[]"), sets(series), "a2 still has dc and host");
        series.leave(a2);
        assertEquals(Set.of("[host, rack]", "[]"), sets(series));
        series.leave(none);
        series.join(a1);
        assertEquals(Set.of("[dc, host]", "[host, rack]"), sets(series));
    }

    @Test
    void pastTheBoundTheSetsAreNotCounted() {
        MetricSeries series = new MetricSeries();
        for (int i = 0; i < MetricSeries.MAX_KEY_SETS; i++) {
            series.join(new SeriesState(key("k" + i, "v")));
            series.join(new SeriesState(key("k" + i, "w")));
        }
        assertEquals(MetricSeries.MAX_KEY_SETS, sets(series).size(), "at the bound");
        series.join(new SeriesState(key("one", "more")));
        assertFalse(series.addKeySets(new ArrayList<>()), "past the bound");
    }

    @Test
    void aShardPastTheBoundWalksItsSeries() {
        Shard shard = new Shard(10_000, 5_000, new SeriesBudget(1_000));
        for (int i = 0; i <= MetricSeries.MAX_KEY_SETS; i++) {
            List<Point> points = List.of(new Point(key("k" + i, "v"), 1, 1_000, 1));
            Batch b = new Batch(batch -> { }, points, new ArrayList<>(), null);
            b.validated(List.of(), 1);
            shard.record(new Part(0, b, points));
        }
        Set<String> sets = new HashSet<>();
        for (SeriesKey k : shard.tagKeySets("cpu")) {
            assertTrue(sets.add(k.tags().keySet().toString()));
        }
        assertEquals(MetricSeries.MAX_KEY_SETS + 1, sets.size());
        assertEquals(MetricSeries.MAX_KEY_SETS + 1, shard.tagKeySets(null).size());
    }
}
