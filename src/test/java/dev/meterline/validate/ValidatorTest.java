package dev.meterline.validate;

import dev.meterline.config.ValidationConfig;
import dev.meterline.model.Point;
import dev.meterline.model.SeriesKey;
import dev.meterline.model.RejectReason;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

class ValidatorTest {

    private static final long NOW = 1_764_086_400_000L;
    private static final Validator RULES = new Validator(new ValidationConfig(32, Duration.ofMinutes(10),
            Duration.ofHours(24), List.of("pod", "web-1", "zone", "a"), 2));

    /** The series rules, then the point's time, in the order a line meets them (decoder, then rail). */
    private static RejectReason check(String metric, Map<String, String> tags, long timestamp) {
        SeriesKey key = SeriesKey.of(metric, tags);
        RejectReason why = RULES.checkSeries(key);
        return why != null ? why : RULES.check(new Point(RULES.enrich(key), 1.0, timestamp, 1), NOW);
    }

    @Test
    void aPointWithinTheRulesPasses() {
        assertNull(check("cpu.usage", Map.of("host", "web-1"), NOW));
        assertNull(check("m".repeat(256), Map.of("k".repeat(128), "v".repeat(256)), NOW));
        assertNull(check("cpu", Map.of("empty", ""), NOW), "a tag value may be empty");
    }

    @Test
    void sizesCountUtf8BytesNotCharacters() {
        assertNull(check("é".repeat(128), Map.of(), NOW), "256 bytes");
        assertEquals(RejectReason.METRIC_TOO_LONG, check("é".repeat(128) + "x", Map.of(), NOW));
        assertEquals(RejectReason.METRIC_TOO_LONG, check("m".repeat(257), Map.of(), NOW));
        assertEquals(RejectReason.TAG_KEY_LENGTH, check("m", Map.of("\uD83D\uDE00".repeat(33), "v"), NOW),
                "132 bytes of four-byte characters");
        assertEquals(RejectReason.TAG_KEY_LENGTH, check("m", Map.of("", "v"), NOW));
        assertEquals(RejectReason.TAG_VALUE_LENGTH, check("m", Map.of("k", "v".repeat(257)), NOW));
    }

    @Test
    void theMetricHasNoControlCharacters() {
        assertEquals(RejectReason.METRIC_CONTROL_CHARS, check("cpu\tusage", Map.of(), NOW));
        assertEquals(RejectReason.METRIC_CONTROL_CHARS, check("cpu\u0085", Map.of(), NOW));
        assertEquals(RejectReason.METRIC_EMPTY, check("", Map.of(), NOW));
    }

    @Test
    void theEventTimeStaysWithinTheSkewAndTheRetention() {
        assertNull(check("m", Map.of(), NOW + Duration.ofMinutes(10).toMillis()));
        assertEquals(RejectReason.TIMESTAMP_IN_FUTURE, check("m", Map.of(), NOW + Duration.ofMinutes(10).toMillis() + 1));
        assertNull(check("m", Map.of(), NOW - Duration.ofHours(24).toMillis()));
        assertEquals(RejectReason.TIMESTAMP_EXPIRED, check("m", Map.of(), NOW - Duration.ofHours(24).toMillis() - 1));
    }

    @Test
    void theRailChecksOnlyTheTimeOfAPointWhoseSeriesWasChecked() {
        Point badSeriesGoodTime = new Point(SeriesKey.of("", Map.of()), 1.0, NOW, 1);
        assertNull(RULES.check(badSeriesGoodTime, NOW), "the series rules belong to the decoder");
        assertEquals(RejectReason.METRIC_EMPTY, RULES.checkSeries(badSeriesGoodTime.series()));
        assertEquals(RejectReason.TIMESTAMP_EXPIRED, check("m", Map.of(), 0));
    }

    @Test
    void staticTagsAreAddedAndAPointsOwnTagWins() {
        SeriesKey own = SeriesKey.of("m", Map.of("pod", "mine"));
        assertEquals(SeriesKey.of("m", Map.of("pod", "mine", "zone", "a")), RULES.enrich(own));
        SeriesKey none = SeriesKey.of("m", Map.of());
        assertEquals(SeriesKey.of("m", Map.of("pod", "web-1", "zone", "a")), RULES.enrich(none));
        SeriesKey both = SeriesKey.of("m", Map.of("pod", "p", "zone", "z"));
        assertSame(both, RULES.enrich(both), "nothing to add: the same key");
    }
}
