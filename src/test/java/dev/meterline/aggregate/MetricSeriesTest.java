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
import java.util.Random;
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
        MetricSeries series = new MetricSeries("cpu");
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
    void aSeriesLeavesByItsPlaceWithoutItsKeyBeingRead() {
        MetricSeries series = new MetricSeries("cpu");
        SeriesState a = new SeriesState(key("host", "a"));
        SeriesState b = new SeriesState(key("host", "b", "dc", "eu"));
        series.join(a);
        series.join(b);
        // A close of a million leaving series reads their states only: a key read there is a cache miss each.
        a.key = null;
        series.leave(a);
        assertEquals(List.of(b), series);
        assertEquals(Set.of("[dc, host]"), sets(series));
    }

    @Test
    void randomJoinsAndLeavesKeepPlacesAndSetsThoseOfTheLiveSeries() {
        Random random = new Random(7);
        MetricSeries series = new MetricSeries("cpu");
        List<SeriesState> live = new ArrayList<>();
        List<SeriesState> away = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            // Five sets of tag keys, so that sets empty and come back and their slots are taken again.
            away.add(new SeriesState(key("host", "h" + i, "k" + i % 5, "v")));
        }
        for (int step = 0; step < 5_000; step++) {
            // Mostly joins for 500 steps, then mostly leaves.
            boolean growing = step % 1_000 < 500;
            boolean join = live.isEmpty() || !away.isEmpty() && (random.nextInt(3) > 0) == growing;
            List<SeriesState> from = join ? away : live;
            SeriesState s = from.remove(random.nextInt(from.size()));
            if (join) {
                series.join(s);
                live.add(s);
            } else {
                series.leave(s);
                away.add(s);
            }
            Set<String> expected = new HashSet<>();
            for (SeriesState l : live) {
                expected.add(l.key.tags().keySet().toString());
                assertEquals(l, series.get(l.place), "each series at its place");
            }
            assertEquals(live.size(), series.size());
            assertEquals(expected, sets(series), "after step " + step);
        }
    }

    @Test
    void pastTheBoundTheSetsAreNotCounted() {
        MetricSeries series = new MetricSeries("cpu");
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
