package dev.meterline.aggregate;

import dev.meterline.model.SeriesKey;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A start's series come back in the order they were added, from chunks that grow to a bound and then stay there. */
class StartSeriesTest {

    @Test
    void listsEverySeriesInOrderAcrossChunks() {
        for (int count : new int[] {0, 1, 8, 9, 24, 1000, 5000}) {
            StartSeries list = new StartSeries();
            List<SeriesState> added = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                SeriesState s = new SeriesState(SeriesKey.of("m", Map.of("i", Integer.toString(i))));
                list.add(s);
                added.add(s);
            }
            List<SeriesState> listed = new ArrayList<>();
            for (int c = 0; c < list.chunkCount(); c++) {
                SeriesState[] chunk = list.chunk(c);
                for (int i = 0; i < list.chunkSize(c); i++) {
                    listed.add(chunk[i]);
                }
            }
            assertEquals(count, list.size());
            assertEquals(added.size(), listed.size(), count + " series");
            for (int i = 0; i < count; i++) {
                assertSame(added.get(i), listed.get(i), count + " series, entry " + i);
            }
        }
    }

    @Test
    void chunksDoubleFromASmallFirstOneUpToTheBound() {
        StartSeries list = new StartSeries();
        list.add(new SeriesState(SeriesKey.of("m", Map.of())));
        assertEquals(1, list.chunkCount());
        assertEquals(StartSeries.FIRST_CHUNK, list.chunk(0).length, "a start with one series costs a small array");
        int total = 200_000;
        for (int i = 1; i < total; i++) {
            list.add(new SeriesState(SeriesKey.of("m", Map.of())));
        }
        int expected = StartSeries.FIRST_CHUNK;
        int held = 0;
        for (int c = 0; c < list.chunkCount(); c++) {
            assertEquals(expected, list.chunk(c).length, "chunk " + c);
            held += list.chunkSize(c);
            if (c < list.chunkCount() - 1) {
                assertEquals(list.chunk(c).length, list.chunkSize(c), "every chunk but the last is full");
            }
            expected = Math.min(StartSeries.MAX_CHUNK, 2 * expected);
        }
        assertEquals(total, held);
        assertTrue(list.chunk(list.chunkCount() - 1).length == StartSeries.MAX_CHUNK);
    }
}
