package dev.meterline.model;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
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

    @Test
    void aTagsHashIsItsValuesStringHashWhateverTheCharacters() {
        SplittableRandom random = new SplittableRandom(29);
        String[] alphabet = {"a", "Z", "0", "\u0000", "\u00e9", "\u0100", "\ud83d\ude00", "\ud800", "\uffff", " "};
        for (int k = 0; k < 2_000; k++) {
            Map<String, String> tags = new LinkedHashMap<>();
            for (int t = random.nextInt(4); t >= 0; t--) {
                StringBuilder value = new StringBuilder();
                for (int n = random.nextInt(140); n > 0; n--) {
                    value.append(alphabet[random.nextInt(alphabet.length)]);
                }
                tags.put("k" + t, value.toString());
            }
            SeriesKey key = SeriesKey.of("m", tags);
            for (Map.Entry<String, String> e : tags.entrySet()) {
                assertEquals(e.getValue().hashCode(), key.tagHash(e.getKey()), e.getValue());
            }
            assertEquals(SeriesKey.NO_TAG, key.tagHash("absent"));
            assertFalse(key.hasTag("absent"));
        }
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

    /**
     * The tags are decoded from the content: every accessor answers as the sorted strings would, for random keys of
     * ASCII, accents, surrogates (paired and not), NUL and lengths around the length code's steps.
     */
    @Test
    void tagsReadFromTheContentAnswerAsTheSortedStrings() {
        SplittableRandom rnd = new SplittableRandom(11);
        List<SeriesKey> keys = new ArrayList<>();
        List<String[]> sorted = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            Map<String, String> tags = new LinkedHashMap<>();
            // Half the keys all ASCII (their tags compared byte by byte), half of any characters.
            boolean ascii = rnd.nextBoolean();
            for (int t = rnd.nextInt(5); t > 0; t--) {
                tags.put(anyText(rnd, ascii), anyText(rnd, ascii));
            }
            String metric = rnd.nextInt(4) != 0 ? "m" : anyText(rnd, ascii);
            SeriesKey key = SeriesKey.of(metric, tags);
            String[] pairs = tags.entrySet().stream().sorted(Map.Entry.comparingByKey())
                    .flatMap(e -> java.util.stream.Stream.of(e.getKey(), e.getValue())).toArray(String[]::new);
            assertEquals(tags.size(), key.tagCount());
            for (int t = 0; t < key.tagCount(); t++) {
                assertEquals(pairs[2 * t], key.tagKey(t));
                assertEquals(pairs[2 * t + 1], key.tagValue(t));
                assertEquals(pairs[2 * t + 1], key.tag(pairs[2 * t]));
                assertTrue(key.hasTag(pairs[2 * t]));
                assertTrue(key.hasTag(pairs[2 * t], pairs[2 * t + 1]));
                assertFalse(key.hasTag(pairs[2 * t], pairs[2 * t + 1] + "x"));
                assertTrue(key.tagIn(pairs[2 * t], java.util.Arrays.asList("zz", null, pairs[2 * t + 1])));
                assertFalse(key.tagIn(pairs[2 * t], List.of(pairs[2 * t + 1] + "x", pairs[2 * t + 1] + "\u00e9")));
                assertFalse(key.tagIn(pairs[2 * t], List.of()));
                assertEquals(tags.containsKey(pairs[2 * t] + "\u00e9"), key.hasTag(pairs[2 * t] + "\u00e9"));
            }
            assertNull(key.tag("absent"));
            assertEquals(tags.containsKey("absent"), key.tagIn("absent", List.of("", "a")));
            assertEquals(new ArrayList<>(tags.keySet().stream().sorted().toList()),
                    new ArrayList<>(key.tags().keySet()));
            assertEquals(tags, key.tags());
            assertEquals(metric + key.tags(), key.toString());
            assertThrows(IndexOutOfBoundsException.class, () -> key.tagKey(key.tagCount()));
            keys.add(key);
            sorted.add(pairs);
        }
        for (int i = 0; i < keys.size(); i++) {
            for (int j = 0; j < keys.size(); j++) {
                SeriesKey a = keys.get(i);
                SeriesKey b = keys.get(j);
                int c = a.metric().compareTo(b.metric());
                int expected = c != 0 ? c : Arrays.compare(sorted.get(i), sorted.get(j));
                assertEquals(expected, a.compareTo(b), a + " vs " + b);
            }
        }
    }

    private static String anyText(SplittableRandom rnd, boolean asciiKey) {
        String[] chars = {"a", "b", "A", "\u007f", "\u00e9", "\u0800", "\u07ff", "\u0000", "\ud83d\ude00", "\ud83d",
            "\ude00", "\uffff", "\u4e2d"};
        int len = rnd.nextInt(10) == 0 ? 126 + rnd.nextInt(4) : rnd.nextInt(6);
        boolean ascii = asciiKey || rnd.nextBoolean();
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < len; i++) {
            sb.append(chars[rnd.nextInt(ascii ? 3 : chars.length)]);
        }
        return sb.toString();
    }

    /**
     * The hash is {@code 31 * h + b} over the content's bytes from 1, then Murmur3's finalizer, whatever the
     * content's length: "Aa" and "BB" hash alike, as in {@link String}.
     */
    @Test
    void theHashIsThePolynomialOfTheContentFinalized() {
        SplittableRandom rnd = new SplittableRandom(17);
        for (int n = 0; n < 2_000; n++) {
            Map<String, String> tags = new LinkedHashMap<>();
            for (int t = rnd.nextInt(4); t > 0; t--) {
                tags.put(anyText(rnd, true), anyText(rnd, false));
            }
            SeriesKey key = SeriesKey.of(anyText(rnd, false), tags);
            byte[] content = new byte[key.contentLength()];
            key.copyContent(content, 0);
            int h = 1;
            for (byte b : content) {
                h = 31 * h + b;
            }
            h ^= h >>> 16;
            h *= 0x85ebca6b;
            h ^= h >>> 13;
            h *= 0xc2b2ae35;
            assertEquals(h ^ (h >>> 16), key.hashCode(), key.toString());
        }
        assertEquals(SeriesKey.of("Aa", Map.of()).hashCode(), SeriesKey.of("BB", Map.of()).hashCode());
    }

    /** A key from its content is the key of the same metric and tags: equal, same hash, same strings. */
    @Test
    void aKeyFromItsContentIsTheSameKey() {
        SeriesKey built = SeriesKey.of("cpu", Map.of("host", "web-1", "dc", "eu", "az", ""));
        byte[] content = new byte[built.contentLength()];
        built.copyContent(content, 0);
        SeriesKey read = SeriesKey.ofContent("cpu", content, 3);
        assertEquals(built, read);
        assertEquals(built.hashCode(), read.hashCode());
        assertEquals(0, built.compareTo(read));
        assertEquals(built.tags(), read.tags());
        byte[] ascii = "\u0003cpu\u0002az\u0000\u0002dc\u0002eu\u0004host\u0005web-1".getBytes(StandardCharsets.ISO_8859_1);
        assertTrue(Arrays.equals(ascii, content), "ASCII strings are a length byte and their bytes");
    }

    @Test
    void theTagStringsLengthsAreCheckedInUtf8BytesWithoutDecoding() {
        assertEquals(-1, SeriesKey.of("m", Map.of("k", "")).firstTagStringOutside(3, 3));
        assertEquals(0, SeriesKey.of("m", Map.of("", "v")).firstTagStringOutside(3, 3), "an empty key");
        assertEquals(2, SeriesKey.of("m", Map.of("a", "v", "bbbb", "v")).firstTagStringOutside(3, 3));
        assertEquals(3, SeriesKey.of("m", Map.of("a", "v", "b", "vvvv")).firstTagStringOutside(3, 3));
        assertEquals(-1, SeriesKey.of("m", Map.of("\u00e9", "\u4e2d")).firstTagStringOutside(2, 3));
        assertEquals(0, SeriesKey.of("m", Map.of("\u00e9", "\u4e2d")).firstTagStringOutside(1, 3));
        assertEquals(1, SeriesKey.of("m", Map.of("\u00e9", "\u4e2d")).firstTagStringOutside(2, 2));
        assertEquals(-1, SeriesKey.of("m", Map.of("k", "\ud83d\ude00")).firstTagStringOutside(1, 4), "a pair is 4 bytes");
        assertEquals(1, SeriesKey.of("m", Map.of("k", "\ude00\ud83d")).firstTagStringOutside(1, 5),
                "two lone halves are 3 bytes each");
        assertEquals(-1, SeriesKey.of("m", Map.of("k", "x".repeat(300))).firstTagStringOutside(1, 300));
        assertEquals(1, SeriesKey.of("m", Map.of("k", "x".repeat(300))).firstTagStringOutside(1, 299));
    }

    @Test
    void defaultsAddOnlyTheMissingTags() {
        SeriesKey key = SeriesKey.of("m", Map.of("pod", "p", "\u00e9t\u00e9", "x".repeat(130)));
        assertSame(key, key.withDefaults(new String[0]));
        assertSame(key, key.withDefaults(new String[] {"pod", "other"}));
        assertEquals(SeriesKey.of("m", Map.of("pod", "p", "\u00e9t\u00e9", "x".repeat(130), "zone", "a")),
                key.withDefaults(new String[] {"zone", "a", "pod", "other"}));
    }
}
