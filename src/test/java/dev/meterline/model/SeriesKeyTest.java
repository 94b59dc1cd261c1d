package dev.meterline.model;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Keys are equal exactly when their metric and tag sets are, whatever the characters or the tag order. */
class SeriesKeyTest {

    @Test
    void keysThatOnlyLookAlikeDiffer() {
        assertNotEquals(SeriesKey.of("a", Map.of("x", "yz")), SeriesKey.of("a", Map.of("xy", "z")));
        assertNotEquals(SeriesKey.of("ab", Map.of()), SeriesKey.of("a", Map.of("b", "")));
        assertNotEquals(SeriesKey.of("m", Map.of()), SeriesKey.of("m\u0000", Map.of()));
        assertNotEquals(SeriesKey.of("\u00e9", Map.of()), SeriesKey.of("\u00c3\u00a9", Map.of()));
        assertNotEquals(SeriesKey.of("\u0080", Map.of()), SeriesKey.of("\u0100", Map.of()));
        assertNotEquals(SeriesKey.of("x".repeat(200), Map.of()), SeriesKey.of("x".repeat(201), Map.of()));
        Map<String, String> forward = new LinkedHashMap<>();
        forward.put("b", "2");
        forward.put("a", "1");
        assertEquals(SeriesKey.of("m", Map.of("a", "1", "b", "2")), SeriesKey.of("m", forward));
    }

    /** Random keys over a small alphabet (ASCII, accents, surrogates, NUL) and lengths around the length code's steps. */
    @Test
    void equalityAgreesWithTheStringsOfRandomKeys() {
        SplittableRandom rnd = new SplittableRandom(5);
        List<SeriesKey> keys = new ArrayList<>();
        for (int i = 0; i < 400; i++) {
            Map<String, String> tags = new LinkedHashMap<>();
            for (int t = rnd.nextInt(3); t > 0; t--) {
                tags.put(text(rnd), text(rnd));
            }
            keys.add(SeriesKey.of(text(rnd), tags));
        }
        for (SeriesKey a : keys) {
            for (SeriesKey b : keys) {
                boolean same = a.metric().equals(b.metric()) && a.tags().equals(b.tags());
                assertEquals(same, a.equals(b), a + " vs " + b);
                assertEquals(same, a.compareTo(b) == 0, a + " vs " + b);
                if (same) {
                    assertEquals(a.hashCode(), b.hashCode());
                }
            }
        }
    }

    private static String text(SplittableRandom rnd) {
        String[] chars = {"a", "b", "\u00e9", "\u00c3", "\u0000", "\ud83d\ude00", "\u4e2d"};
        int len = rnd.nextInt(8) == 0 ? 126 + rnd.nextInt(4) : rnd.nextInt(3);
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < len; i++) {
            sb.append(chars[rnd.nextInt(len > 3 ? 1 : chars.length)]);
        }
        return sb.toString();
    }

    @Test
    void beingHeldByACacheChangesNeitherEqualityNorHash() {
        SeriesKey a = SeriesKey.of("cpu", Map.of("host", "a", "dc", "x"));
        SeriesKey b = SeriesKey.of("cpu", Map.of("dc", "x", "host", "a"));
        assertFalse(a.held());
        a.markHeld();
        assertTrue(a.held());
        assertFalse(b.held(), "the mark is the instance's, not the series'");
        assertEquals(a, b);
        assertEquals(b, a);
        assertEquals(a.hashCode(), b.hashCode());
        assertEquals(0, a.compareTo(b));
    }
}
