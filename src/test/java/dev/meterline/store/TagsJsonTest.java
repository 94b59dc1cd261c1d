package dev.meterline.store;

import dev.meterline.model.SeriesKey;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The stored tag text: the encoder with kept buffers writes what the string way writes, and it decodes back. */
class TagsJsonTest {

    private static final String ALPHABET = "abcXYZ019_.-/ \"\\\n\r\t\u0000\u0001\u001f\u007f{}:,";

    @Test
    void asciiKeysEncodeAsTheStringWayWithEscapes() {
        TagsJson.Encoder encoder = new TagsJson.Encoder();
        SeriesKey key = SeriesKey.of("cpu", Map.of("host", "a\"b\\c", "line", "x\ny\rz\t", "ctl", "\u0001\u001f\u007f"));
        String text = encoded(encoder, key);
        assertEquals("{\"ctl\":\"\\u0001\\u001f\u007f\",\"host\":\"a\\\"b\\\\c\",\"line\":\"x\\ny\\rz\\t\"}", text);
        assertEquals(TagsJson.encode(key), text);
        assertEquals(key.tags(), TagsJson.decode(text));
    }

    @Test
    void keysWithoutTagsAndWithEmptyStringsEncodeAsTheStringWay() {
        TagsJson.Encoder encoder = new TagsJson.Encoder();
        for (SeriesKey key : new SeriesKey[] {SeriesKey.of("m", Map.of()), SeriesKey.of("", Map.of("", "")),
                SeriesKey.of("m", Map.of("k", ""))}) {
            assertEquals(TagsJson.encode(key), encoded(encoder, key));
        }
    }

    /** Random keys, one encoder for all (its buffers grow), among them non-ASCII and 127 and 128 characters long. */
    @Test
    void randomKeysEncodeAsTheStringWay() {
        TagsJson.Encoder encoder = new TagsJson.Encoder();
        Random random = new Random(7);
        for (int k = 0; k < 5_000; k++) {
            Map<String, String> tags = new HashMap<>();
            int count = random.nextInt(8);
            for (int t = 0; t < count; t++) {
                tags.put(string(random), string(random));
            }
            SeriesKey key = SeriesKey.of(string(random), tags);
            String expected = TagsJson.encode(key);
            assertEquals(expected, encoded(encoder, key), () -> "tags " + tags);
            assertEquals(key.tags(), TagsJson.decode(expected));
        }
    }

    private static String encoded(TagsJson.Encoder encoder, SeriesKey key) {
        int length = encoder.encode(key);
        return new String(encoder.bytes(), 0, length, StandardCharsets.UTF_8);
    }

    private static String string(Random random) {
        int length = switch (random.nextInt(10)) {
            case 0 -> 127;
            case 1 -> 128 + random.nextInt(400);
            default -> random.nextInt(12);
        };
        StringBuilder sb = new StringBuilder(length);
        boolean wide = random.nextInt(10) == 0;
        for (int i = 0; i < length; i++) {
            sb.append(wide && random.nextInt(4) == 0 ? (char) (0x80 + random.nextInt(0xD000))
                    : ALPHABET.charAt(random.nextInt(ALPHABET.length())));
        }
        return sb.toString();
    }
}
