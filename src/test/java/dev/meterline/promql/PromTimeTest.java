package dev.meterline.promql;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Request times and durations, and how sample times and values are written. */
class PromTimeTest {

    @Test
    void requestTimes() {
        assertEquals(4000, PromTime.time("time", "4"));
        assertEquals(1_700_000_000_500L, PromTime.time("time", "1700000000.5"));
        assertEquals(1_700_000_000_123L, PromTime.time("time", "1700000000.123"));
        assertEquals(1_764_442_800_000L, PromTime.time("time", "2025-11-29T19:00:00Z"));
        assertEquals(1_764_442_800_250L, PromTime.time("time", "2025-11-29T20:00:00.25+01:00"));
        PromException e = assertThrows(PromException.class, () -> PromTime.time("start", "yesterday"));
        assertEquals("invalid parameter \"start\": cannot parse \"yesterday\" to a valid timestamp", e.getMessage());
    }

    @Test
    void durations() {
        assertEquals(15_000, PromTime.requestDuration("step", "15"));
        assertEquals(500, PromTime.requestDuration("step", "0.5"));
        assertEquals(5_400_000, PromTime.requestDuration("step", "1h30m"));
        assertEquals(90_061_001, PromTime.duration("1d1h1m1s1ms"));
        assertEquals(7 * 86_400_000L, PromTime.duration("1w"));
        assertThrows(IllegalArgumentException.class, () -> PromTime.duration("1m1h"));
        assertThrows(PromException.class, () -> PromTime.requestDuration("step", "often"));
    }

    @Test
    void writtenAsPrometheusWritesThem() {
        assertEquals("4", PromTime.seconds(4000));
        assertEquals("1700000000.781", PromTime.seconds(1_700_000_000_781L));
        assertEquals("1700000000.5", PromTime.seconds(1_700_000_000_500L));
        assertEquals("2", PromTime.value(2));
        assertEquals("0.25", PromTime.value(0.25));
        assertEquals("-3.5", PromTime.value(-3.5));
        assertEquals("NaN", PromTime.value(Double.NaN));
        assertEquals("+Inf", PromTime.value(Double.POSITIVE_INFINITY));
        assertEquals("-Inf", PromTime.value(Double.NEGATIVE_INFINITY));
        assertEquals("1000000000000000000000", PromTime.value(1e21));
        assertEquals("0.0000001", PromTime.value(1e-7));
        assertEquals("0.1", PromTime.value(0.1));
    }
}
