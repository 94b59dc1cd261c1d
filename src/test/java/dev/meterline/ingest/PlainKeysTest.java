package dev.meterline.ingest;

import dev.meterline.config.ValidationConfig;
import dev.meterline.model.RejectReason;
import dev.meterline.model.SeriesKey;
import dev.meterline.model.SeriesRules;
import dev.meterline.validate.Validator;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;

/**
 * Keys built from a line's bytes are the keys of its strings, whatever the tag order and lengths; the keys built
 * through strings share repeated tag values: repeated values share one string, values seen once are never held.
 */
class PlainKeysTest {

    private final PlainKeys keys = new PlainKeys(SeriesRules.NONE);

    /** Takes {@code value} from the middle of a longer line, as the reader's offsets give it. */
    private String value(String value) {
        byte[] line = ("{\"x\":\"" + value + "\"}").getBytes(StandardCharsets.ISO_8859_1);
        return keys.value(line, 6, 6 + value.length());
    }

    @Test
    void aValueIsHeldAfterItsSecondLineAndSharedFromItsThird() {
        String first = value("api");
        String second = value("api");
        assertEquals("api", first);
        assertEquals("api", second);
        assertNotSame(first, second, "one line is not enough to hold a value");
        assertSame(second, value("api"), "the second line's string is held and given out again");
        assertSame(second, value("api"));
    }

    @Test
    void valuesSeenOnceAPassNeverDisplaceRepeatedOnes() {
        String region = value("r3");
        region = value("r3");
        String empty = value("");
        empty = value("");
        assertSame(empty, value(""), "the empty value too");
        // Far more distinct values than slots, each once, between the repeated ones' lines.
        for (int i = 0; i < 100 * PlainKeys.VALUE_SLOTS; i++) {
            String host = value("h" + i);
            assertEquals("h" + i, host);
            if (i % 10 == 0) {
                assertSame(region, value("r3"), "after " + i + " distinct values");
            }
        }
        assertSame(empty, value(""));
        assertNotSame(value("h5"), value("h5"), "a value seen once a pass is never held");
    }

    @Test
    void everyValueComesBackWithItsOwnBytesWhateverTheSlots() {
        // Each twice in a row, so each is held until another takes its slot: collisions replace, never confuse.
        for (int round = 0; round < 3; round++) {
            for (int i = 0; i < 4 * PlainKeys.VALUE_SLOTS; i++) {
                assertEquals("v" + i, value("v" + i));
                assertEquals("v" + i, value("v" + i));
                assertEquals("v" + i, value("v" + i));
            }
        }
    }

    @Test
    void longValuesAreNeverShared() {
        String longValue = "x".repeat(PlainKeys.MAX_VALUE_BYTES + 1);
        String a = value(longValue);
        String b = value(longValue);
        String c = value(longValue);
        assertEquals(longValue, c);
        assertNotSame(a, b);
        assertNotSame(b, c);
        String atBound = "y".repeat(PlainKeys.MAX_VALUE_BYTES);
        value(atBound);
        String held = value(atBound);
        assertSame(held, value(atBound), "a value of exactly the bound is shared");
    }

    /** The key of {@code line} as the plain reader and the key builder take it, without a cache or with one. */
    private static SeriesKey built(String line, SeriesRules rules, boolean cached) {
        byte[] b = line.getBytes(StandardCharsets.UTF_8);
        PlainLine l = new PlainLine(64);
        assertTrue(l.read(b, 0, b.length), line);
        SeriesKeyCache cache = cached ? new SeriesKeyCache(64) : null;
        PlainKeys keys = new PlainKeys(rules);
        SeriesKey key = keys.key(b, l, cache);
        if (cached && key != null) {
            // The series' second line: from the cache when it holds tags objects this long, else built again.
            PlainLine again = new PlainLine(64);
            assertTrue(again.read(b, 0, b.length, cache));
            SeriesKey second = keys.key(b, again, cache);
            assertEquals(key, second);
            if (l.tagsTo - l.tagsFrom < SeriesKeyCache.MAX_BYTES / 2) {
                assertSame(key, second);
            }
        }
        return key;
    }

    private static String line(String metric, List<String[]> tags) {
        StringBuilder sb = new StringBuilder("{\"metric\":\"").append(metric).append("\",\"value\":1");
        if (tags != null) {
            sb.append(",\"tags\":{");
            for (int i = 0; i < tags.size(); i++) {
                sb.append(i == 0 ? "" : ",").append('"').append(tags.get(i)[0]).append("\":\"")
                        .append(tags.get(i)[1]).append('"');
            }
            sb.append('}');
        }
        return sb.append('}').toString();
    }

    private static void assertSameKey(SeriesKey expected, SeriesKey actual) {
        assertEquals(expected, actual);
        assertEquals(expected.hashCode(), actual.hashCode());
        assertEquals(0, expected.compareTo(actual));
        assertEquals(expected.tags(), actual.tags());
        byte[] a = new byte[expected.contentLength()];
        expected.copyContent(a, 0);
        byte[] b = new byte[actual.contentLength()];
        actual.copyContent(b, 0);
        assertTrue(java.util.Arrays.equals(a, b), "the same content, byte for byte");
    }

    /**
     * Random plain lines, tags in any order, keys that are prefixes of each other, strings of lengths either side
     * of 128 bytes (which take the path through strings), empty values, no tags or an empty tags object, up to 40
     * tags: each builds the key that its strings build.
     */
    @Test
    void aKeyBuiltFromTheBytesIsTheKeyOfTheStrings() {
        SplittableRandom rnd = new SplittableRandom(21);
        String alphabet = "ab0_-.:/ ~!Z";
        for (int n = 0; n < 2000; n++) {
            Map<String, String> tags = new LinkedHashMap<>();
            int count = rnd.nextInt(8) == 0 ? rnd.nextInt(41) : rnd.nextInt(6);
            for (int t = 0; t < count; t++) {
                tags.put("k" + text(rnd, alphabet), text(rnd, alphabet));
            }
            List<String[]> order = new ArrayList<>();
            tags.forEach((k, v) -> order.add(new String[] {k, v}));
            Collections.shuffle(order, new java.util.Random(rnd.nextLong()));
            String metric = "m" + text(rnd, alphabet);
            String line = line(metric, order.isEmpty() && rnd.nextBoolean() ? null : order);
            SeriesKey expected = SeriesKey.of(metric, tags);
            assertSameKey(expected, built(line, SeriesRules.NONE, false));
            assertSameKey(expected, built(line, SeriesRules.NONE, true));
        }
    }

    private static String text(SplittableRandom rnd, String alphabet) {
        int len = switch (rnd.nextInt(6)) {
            case 0 -> 125 + rnd.nextInt(5);
            case 1 -> 0;
            default -> rnd.nextInt(4);
        };
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < len; i++) {
            sb.append(alphabet.charAt(rnd.nextInt(len > 4 ? 2 : alphabet.length())));
        }
        return sb.toString();
    }

    @Test
    void theSeriesRulesHoldOnKeysBuiltFromTheBytes() {
        Validator rules = new Validator(new ValidationConfig(32, Duration.ofMinutes(10), Duration.ofHours(24),
                List.of("zone", "a"), 2));
        SeriesKey ok = built(line("cpu", List.of(new String[] {"host", "h"}, new String[] {"a", ""})), rules, true);
        assertSameKey(SeriesKey.of("cpu", Map.of("host", "h", "a", "", "zone", "a")), ok);
        for (String[] refused : new String[][] {
            {line("", null), "METRIC_EMPTY"},
            {line("cpu", List.of(new String[] {"host", "h"}, new String[] {"", "v"})), "TAG_KEY_LENGTH"},
            {line("cpu", List.<String[]>of(new String[] {"k".repeat(129), "v"})), "TAG_KEY_LENGTH"},
            {line("cpu", List.<String[]>of(new String[] {"k", "v".repeat(257)})), "TAG_VALUE_LENGTH"},
            {line("m".repeat(257), null), "METRIC_TOO_LONG"},
        }) {
            byte[] b = refused[0].getBytes(StandardCharsets.UTF_8);
            PlainLine l = new PlainLine(32);
            assertTrue(l.read(b, 0, b.length));
            PlainKeys keys = new PlainKeys(rules);
            SeriesKeyCache cache = new SeriesKeyCache(64);
            assertNull(keys.key(b, l, cache), refused[0]);
            assertEquals(RejectReason.valueOf(refused[1]), keys.refused(), refused[0]);
            assertNull(cache.find(PlainKeys.hash(b, l), b, l.metricFrom, l.metricTo, l.tagsFrom, l.tagsTo),
                    "a refused key is not cached");
        }
        assertSameKey(SeriesKey.of("cpu", Map.of("k".repeat(128), "v".repeat(256), "zone", "a")),
                built(line("cpu", List.<String[]>of(new String[] {"k".repeat(128), "v".repeat(256)})), rules, false));
        assertSameKey(SeriesKey.of("cpu", Map.of("k".repeat(127), "v".repeat(127), "zone", "a")),
                built(line("cpu", List.<String[]>of(new String[] {"k".repeat(127), "v".repeat(127)})), rules, false));
    }

    /** Escapes, other bytes than printable ASCII and repeated tag keys are not the plain reader's: Jackson's. */
    @Test
    void linesOutsideThePlainShapeAreNotBuiltFromTheBytes() {
        for (String line : new String[] {
            "{\"metric\":\"caf\u00e9\",\"value\":1}",
            "{\"metric\":\"m\",\"value\":1,\"tags\":{\"k\":\"\u4e2d\"}}",
            "{\"metric\":\"m\",\"value\":1,\"tags\":{\"k\":\"a\\\"b\"}}",
            "{\"metric\":\"m\",\"value\":1,\"tags\":{\"k\":\"a\",\"k\":\"b\"}}",
            "{\"metric\":\"m\\u0041\",\"value\":1}",
        }) {
            byte[] b = line.getBytes(StandardCharsets.UTF_8);
            assertFalse(new PlainLine(32).read(b, 0, b.length), line);
        }
    }
}
