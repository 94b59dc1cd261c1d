package dev.meterline.ingest;

import dev.meterline.model.SeriesRules;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;

/** The built keys' shared tag values: repeated values share one string, values seen once are never held. */
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
}
