package dev.meterline.aggregate;

import dev.meterline.model.SeriesKey;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TagIndexesTest {

    /** Values whose strings share a hash ("Aa" and "BB" do), so that a probe meets values it must tell apart. */
    private static final String[] SAME_HASH = {"Aa", "BB", "AaAa", "BBBB", "AaBB", "BBAa"};

    /**
     * While series come, leave, linger and come back, a query's candidates are exactly the series with a window that
     * have one of its values, each once: values of one series and of many, values with the same hash, series without
     * the tag, indexes built while series linger, and tables that grow and lose entries as queries find series that
     * left the shard's table. So with the values of a tag among all the live series.
     */
    @Test
    void candidatesAreTheLiveSeriesWithTheValuesWhateverTheChurn() {
        SplittableRandom rnd = new SplittableRandom(7);
        TagIndexes indexes = new TagIndexes();
        List<SeriesState> live = new ArrayList<>();
        List<SeriesState> lingering = new ArrayList<>();
        Map<SeriesState, Integer> heldThrough = new IdentityHashMap<>();
        int number = 0;
        int cameBack = 0;
        for (int step = 0; step < 20_000; step++) {
            int op = rnd.nextInt(12);
            if (op < 5 || live.isEmpty() && lingering.isEmpty()) {
                Map<String, String> tags = rnd.nextInt(20) == 0 ? Map.of("region", "r1")
                        : Map.of("host", host(rnd), "region", "r" + rnd.nextInt(3));
                SeriesState s = new SeriesState(SeriesKey.of("m", tags), number++);
                s.open(0, new SpareWindows());
                live.add(s);
                indexes.added(s, live.size());
            } else if (op < 6 && !live.isEmpty()) {
                live.remove(rnd.nextInt(live.size())).number = -1;
            } else if (op < 8 && !live.isEmpty()) {
                SeriesState s = live.remove(rnd.nextInt(live.size()));
                s.remove(0);
                new ClosedWindows(1, 10, 1).take(s.key, 0, true, s);
                heldThrough.put(s, indexes.builds());
                lingering.add(s);
            } else if (op < 9 && !lingering.isEmpty()) {
                SeriesState s = lingering.remove(rnd.nextInt(lingering.size()));
                s.open(0, new SpareWindows());
                live.add(s);
                indexes.cameBack(s, live.size(), heldThrough.remove(s));
                cameBack++;
            } else if (op < 10 && !lingering.isEmpty()) {
                SeriesState s = lingering.remove(rnd.nextInt(lingering.size()));
                heldThrough.remove(s);
                s.number = -1;
            } else if (op < 11) {
                String key = rnd.nextBoolean() ? "host" : "region";
                Set<String> expected = new HashSet<>();
                for (SeriesState s : live) {
                    if (s.key.tag(key) != null) {
                        expected.add(s.key.tag(key));
                    }
                }
                assertEquals(expected, indexes.values("m", key, live), "step " + step + ", values of " + key);
            } else {
                List<String> values = new ArrayList<>();
                for (int n = 1 + rnd.nextInt(3); n > 0; n--) {
                    values.add(host(rnd));
                }
                List<SeriesState> got = indexes.candidates("m", Map.of("host", values), live);
                Set<SeriesState> expected = Collections.newSetFromMap(new IdentityHashMap<>());
                for (SeriesState s : live) {
                    if (values.contains(s.key.tag("host"))) {
                        expected.add(s);
                    }
                }
                Set<SeriesState> gotSet = Collections.newSetFromMap(new IdentityHashMap<>());
                gotSet.addAll(got);
                assertEquals(expected, gotSet, "step " + step + ", values " + values);
                assertEquals(expected.size(), got.size(), "step " + step + ": no series twice");
            }
        }
        assertEquals(2, indexes.size());
        assertTrue(cameBack > 1_000, "came back " + cameBack);
    }

    private static String host(SplittableRandom rnd) {
        return rnd.nextInt(4) == 0 ? SAME_HASH[rnd.nextInt(SAME_HASH.length)] : "h" + rnd.nextInt(3_000);
    }
}
