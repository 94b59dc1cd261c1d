package dev.meterline.model;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** One number per series whichever instance of its key asks, none shared by two series, within its bounds. */
class SeriesNumbersTest {

    private static SeriesKey key(String host) {
        return SeriesKey.of("m", Map.of("host", host));
    }

    @Test
    void anInstanceIsFoundByIdentityAndAnotherByContent() {
        SeriesNumbers numbers = new SeriesNumbers(100, 3);
        SeriesKey a = key("a");
        assertEquals(-1, numbers.find(a));
        assertEquals(0, numbers.add(a));
        SeriesKey aAgain = key("a");
        assertEquals(0, numbers.find(aAgain));
        assertEquals(2, numbers.instances(), "the other instance is remembered");
        assertEquals(0, numbers.find(a), "the first instance still finds it");
        assertEquals(1, numbers.add(key("b")));
        assertEquals(2, numbers.size());
    }

    @Test
    void seriesWithEqualHashesGetTheirOwnNumbers() {
        SeriesKey first = key("Aa");
        SeriesKey second = key("BB");
        assertEquals(first.hashCode(), second.hashCode());
        assertNotEquals(first, second);
        SeriesNumbers numbers = new SeriesNumbers(100, 3);
        assertEquals(0, numbers.add(first));
        assertEquals(-1, numbers.find(second));
        assertEquals(1, numbers.add(second));
        assertEquals(0, numbers.find(key("Aa")));
        assertEquals(1, numbers.find(key("BB")));
        // Given the hash, as the log writer takes it from the point: the same answers, by instance and by content.
        assertEquals(0, numbers.find(first, first.hashCode()));
        assertEquals(1, numbers.find(second, second.hashCode()));
        assertEquals(1, numbers.find(key("BB"), second.hashCode()));
        assertEquals(-1, numbers.find(key("C#"), key("C#").hashCode()));
    }

    @Test
    void instancesPerSeriesBoundWhatIsRememberedNotWhatIsFound() {
        SeriesNumbers numbers = new SeriesNumbers(Integer.MAX_VALUE, 2);
        numbers.add(key("a"));
        for (int i = 0; i < 10; i++) {
            assertEquals(0, numbers.find(key("a")));
        }
        assertEquals(2, numbers.instances());
    }

    @Test
    void aFullTableNumbersNoMoreSeriesButStillFindsItsOwn() {
        SeriesNumbers numbers = new SeriesNumbers(2, Integer.MAX_VALUE);
        SeriesKey a = key("a");
        assertEquals(0, numbers.add(a));
        assertEquals(0, numbers.find(key("a")));
        assertTrue(numbers.full());
        assertEquals(-1, numbers.add(key("b")));
        assertEquals(0, numbers.find(key("a")), "found by content, not remembered");
        assertEquals(2, numbers.instances());
        assertEquals(1, numbers.size());
        numbers.clear();
        assertFalse(numbers.full());
        assertEquals(-1, numbers.find(a));
        assertEquals(0, numbers.add(key("b")), "numbered from 0 again");
    }

    @Test
    void growingKeepsEveryNumber() {
        SeriesNumbers numbers = new SeriesNumbers(Integer.MAX_VALUE, 1);
        SeriesKey[] keys = new SeriesKey[20_000];
        for (int i = 0; i < keys.length; i++) {
            keys[i] = key("h" + i);
            assertEquals(i, numbers.add(keys[i]));
        }
        for (int i = 0; i < keys.length; i++) {
            assertEquals(i, numbers.find(keys[i]));
            assertEquals(i, numbers.find(key("h" + i)));
        }
        assertEquals(keys.length, numbers.instances());
    }

    @Test
    void boundsAreChecked() {
        assertThrows(IllegalArgumentException.class, () -> new SeriesNumbers(0, 1));
        assertThrows(IllegalArgumentException.class, () -> new SeriesNumbers(1, 0));
    }
}
