package dev.meterline.aggregate;

import dev.meterline.model.Aggregate;
import dev.meterline.model.SeriesKey;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The shard's series table answers like a map through growth, removal from the middle of runs, and shrinking. */
class SeriesTableTest {

    private static SeriesKey key(int i) {
        return SeriesKey.of("m" + (i % 7), Map.of("host", "h" + i));
    }

    @Test
    void findsEachSeriesByItsInstanceOrAnEqualOne() {
        SeriesTable table = new SeriesTable();
        SeriesState s = new SeriesState(key(1));
        table.add(s);
        assertSame(s, table.get(s.key));
        assertSame(s, table.get(key(1)), "another instance of the same series");
        assertNull(table.get(key(2)));
        table.remove(s);
        assertNull(table.get(s.key));
        assertEquals(0, table.size());
    }

    @Test
    void onThePointPathAnotherInstanceACacheHoldsTakesTheStoredOnesPlace() {
        SeriesTable table = new SeriesTable();
        SeriesKey first = key(1);
        SeriesState s = new SeriesState(first);
        table.add(s);
        SeriesKey query = key(1);
        query.markHeld();
        assertSame(s, table.get(query));
        assertSame(first, s.key, "a look-up by get leaves the stored instance");
        SeriesKey oneLine = key(1);
        assertSame(s, table.find(oneLine));
        assertSame(first, s.key, "an instance no cache holds is found by content and not kept");
        SeriesKey rebuilt = key(1);
        rebuilt.markHeld();
        assertSame(s, table.find(rebuilt));
        assertSame(rebuilt, s.key, "the instance a point came with, which a cache holds, is the state's key now");
        assertSame(s, table.find(first), "the old instance still finds it, by content");
        assertSame(rebuilt, s.key, "and does not take the held one's place");
        table.remove(s);
        assertEquals(0, table.size());
        assertNull(table.get(rebuilt));
    }

    @Test
    void readingAheadChangesNothing() {
        SeriesTable table = new SeriesTable();
        SeriesKey first = key(1);
        SeriesState s = new SeriesState(first);
        table.add(s);
        s.open(20_000, new SpareWindows());
        s.aggregate(0).accept(1.5, 20_001);
        s.aggregate(0).accept(2.5, 20_002);
        assertEquals(1, table.touchHome(first.hashCode()));
        assertEquals(1, table.touchEntry(first.hashCode()));
        assertEquals(0, table.touchEntry(key(2).hashCode()), "no series of that hash");
        assertEquals(20_002, table.touchState(first, first.hashCode()), "the newest window's start plus its count");
        SeriesKey other = key(1);
        assertEquals(20_002L + first.hashCode(), table.touchState(other, other.hashCode()),
                "another instance finds the state by hash, and reads the stored key");
        assertSame(first, s.key, "nor does it take the stored one's place");
        assertEquals(0, table.touchState(key(2), key(2).hashCode()));
        SeriesState empty = new SeriesState(key(3));
        table.add(empty);
        assertEquals(0, table.touchState(empty.key, empty.key.hashCode()), "a state with no window yet");
        assertEquals(2, table.size());
    }

    /** Random adds and removes against a HashMap, with look-ups by the stored instance and by a fresh equal one. */
    @Test
    void agreesWithAMapThroughGrowingAndShrinking() {
        SplittableRandom rnd = new SplittableRandom(5);
        SeriesTable table = new SeriesTable();
        Map<SeriesKey, SeriesState> model = new HashMap<>();
        List<SeriesState> live = new ArrayList<>();
        int maxCapacity = 0;
        for (int round = 0; round < 6; round++) {
            int target = round % 2 == 0 ? 3_000 : 10;
            while (live.size() != target) {
                if (live.size() < target && rnd.nextInt(4) != 0) {
                    SeriesKey k = key(rnd.nextInt(20_000));
                    if (!model.containsKey(k)) {
                        SeriesState s = new SeriesState(k);
                        table.add(s);
                        model.put(k, s);
                        live.add(s);
                    }
                } else if (!live.isEmpty()) {
                    SeriesState s = live.remove(rnd.nextInt(live.size()));
                    if (rnd.nextBoolean()) {
                        assertSame(s, table.find(key(Integer.parseInt(s.key.tag("host").substring(1)))));
                    }
                    table.remove(s);
                    model.remove(s.key);
                }
            }
            maxCapacity = Math.max(maxCapacity, table.capacity());
            assertEquals(model.size(), table.size());
            for (int i = 0; i < 20_000; i++) {
                SeriesKey probe = key(i);
                SeriesState expected = model.get(probe);
                assertSame(expected, table.get(probe), "round " + round + " key " + probe);
                if (expected != null) {
                    assertSame(expected, table.get(expected.key));
                }
            }
        }
        assertTrue(maxCapacity >= 4_096, "grew: " + maxCapacity);
        assertTrue(table.capacity() <= 128, "shrank with ten series left: " + table.capacity());
    }

    @Test
    void removingASeriesNotInTheTableChangesNothing() {
        SeriesTable table = new SeriesTable();
        SeriesState in = new SeriesState(key(1));
        table.add(in);
        table.remove(new SeriesState(key(1)));
        table.remove(new SeriesState(key(2)));
        assertEquals(1, table.size());
        assertSame(in, table.get(key(1)));
    }

    /**
     * Series whose hashes are equal ("Aa" and "BB" hash alike, as in {@link String}) share a run: each is found by
     * its instance and by content, and removing one from the middle of the run leaves the others found.
     */
    @Test
    void seriesWithEqualHashesAreToldApartByContent() {
        String[] hosts = {"AaAa", "AaBB", "BBAa", "BBBB"};
        SeriesTable table = new SeriesTable();
        List<SeriesState> states = new ArrayList<>();
        for (String h : hosts) {
            SeriesState s = new SeriesState(SeriesKey.of("m", Map.of("host", h)));
            assertEquals(states.isEmpty() ? s.key.hashCode() : states.get(0).key.hashCode(), s.key.hashCode());
            table.add(s);
            states.add(s);
        }
        for (SeriesState s : states) {
            assertSame(s, table.get(s.key));
            assertSame(s, table.find(SeriesKey.of("m", Map.of("host", s.key.tag("host")))));
        }
        table.remove(states.get(1));
        assertNull(table.get(SeriesKey.of("m", Map.of("host", "AaBB"))));
        for (int i : new int[] {0, 2, 3}) {
            assertSame(states.get(i), table.get(SeriesKey.of("m", Map.of("host", hosts[i]))));
        }
        assertEquals(3, table.size());
    }

    /**
     * Each series leaves the list by a swap with the last one, which keeps being found through its slot, also when
     * it shares its hash with others; the list gives back its chunks as it empties, all but one spare.
     */
    @Test
    void aSeriesLeavingMovesTheLastIntoItsPlaceAndTheListGivesBackChunks() {
        SeriesTable table = new SeriesTable();
        List<SeriesState> states = new ArrayList<>();
        int n = 3 * SeriesTable.CHUNK + 10;
        for (int i = 0; i < n; i++) {
            SeriesState s = new SeriesState(key(i));
            table.add(s);
            states.add(s);
        }
        String[] shared = {"AaAa", "AaBB", "BBAa", "BBBB"};
        for (String h : shared) {
            SeriesState s = new SeriesState(SeriesKey.of("m", Map.of("host", h)));
            table.add(s);
            states.add(s);
        }
        assertEquals(4, table.chunkCount());
        SplittableRandom rnd = new SplittableRandom(7);
        while (!states.isEmpty()) {
            SeriesState gone = states.remove(rnd.nextInt(states.size()));
            table.remove(gone);
            assertNull(table.get(SeriesKey.of(gone.key.metric(), gone.key.tags())));
            if (states.size() % 97 == 0) {
                for (SeriesState s : states) {
                    assertSame(s, table.get(SeriesKey.of(s.key.metric(), s.key.tags())));
                }
            }
            int used = (states.size() + SeriesTable.CHUNK - 1) / SeriesTable.CHUNK;
            assertTrue(table.chunkCount() <= Math.max(1, used + 1), states.size() + " live: " + table.chunkCount());
        }
        assertEquals(0, table.size());
        assertEquals(1, table.chunkCount());
    }
}
