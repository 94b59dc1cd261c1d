package dev.meterline.config;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The query views' bounds: defaults, flags, and errors that name the value and the expectation. */
class QueryViewConfigTest {

    @Test
    void defaultsAndFlags() {
        assertEquals(QueryViewConfig.DEFAULTS, Config.load(Map.of("METERLINE_REPLICA_ID", "r1"), new String[0])
                .queryViews());
        QueryViewConfig c = Config.load(Map.of("METERLINE_QUERY_VIEWS", "8"),
                new String[]{"--query-view-series=0", "--query-view-idle", "30s"}).queryViews();
        assertEquals(new QueryViewConfig(8, 0, Duration.ofSeconds(30)), c);
    }

    @Test
    void badValuesAreRefusedWithTheValueAndTheExpectation() {
        assertEquals("METERLINE_QUERY_VIEWS / --query-views: '-1' (expected: a whole number from 0 to 65536)",
                assertThrows(ConfigException.class, () -> Config.load(Map.of(), new String[]{"--query-views=-1"}))
                        .getMessage());
        assertEquals("METERLINE_QUERY_VIEW_IDLE / --query-view-idle: '0s' (expected: more than 0)",
                assertThrows(ConfigException.class, () -> Config.load(Map.of(), new String[]{"--query-view-idle=0s"}))
                        .getMessage());
        assertEquals("maxSeries: -2 (expected: >= 0)", assertThrows(IllegalArgumentException.class,
                () -> new QueryViewConfig(1, -2, Duration.ofMinutes(1))).getMessage());
    }
}
