package dev.meterline.config;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Settings from the environment and flags: defaults, precedence, and errors that name the value and the bound. */
class ConfigTest {

    private static Config load(Map<String, String> env, String... args) {
        return Config.load(env, args);
    }

    private static String error(Map<String, String> env, String... args) {
        return assertThrows(ConfigException.class, () -> load(env, args)).getMessage();
    }

    @Test
    void defaultsComeFromTheSettingsTable() {
        Config c = load(Map.of("METERLINE_REPLICA_ID", "r1"));
        assertEquals(7070, c.ingest().tcpPort());
        assertEquals(8080, c.ingest().httpPort());
        assertEquals(Duration.ofSeconds(10), c.aggregation().window());
        assertEquals(Duration.ofMillis(100), c.aggregation().flushBackoff());
        assertEquals(Duration.ofSeconds(10), c.aggregation().flushBackoffMax());
        assertEquals(StoreConfig.DEFAULT_THREADS, c.store().threads());
        assertEquals(StoreConfig.DEFAULT_MAX_SERIES, c.aggregation().maxSeries());
        assertEquals(StoreConfig.DEFAULT_MAX_SERIES, c.store().maxSeries());
        assertEquals(StoreConfig.DEFAULT_SELECTION_ROWS, c.store().selectionRows());
        assertEquals(Overflow.BLOCK, c.ingest().overflow());
        assertEquals("r1", c.store().replicaId());
        assertEquals(List.of(), c.validation().staticTags());
    }

    @Test
    void flagsWinOverTheEnvironmentInBothSpellings() {
        Config c = load(Map.of("METERLINE_TCP_PORT", "7001", "METERLINE_HTTP_PORT", "8001"),
                "--tcp-port=7002", "--store-threads", "4", "--flush-backoff", "250ms");
        assertEquals(7002, c.ingest().tcpPort());
        assertEquals(8001, c.ingest().httpPort());
        assertEquals(4, c.store().threads());
        assertEquals(Duration.ofMillis(250), c.aggregation().flushBackoff());
    }

    @Test
    void theStoreKeepsTheTextsOfAsManySeriesAsTheSeriesBudget() {
        Config c = load(Map.of(), "--max-series", "2500000");
        assertEquals(2_500_000, c.store().maxSeries());
    }

    @Test
    void theStoresKeptSelectionsAreBoundedOrTurnedOff() {
        assertEquals(0, load(Map.of("METERLINE_STORE_SELECTION_ROWS", "0")).store().selectionRows());
        assertEquals(16_777_216, load(Map.of(), "--store-selection-rows=16777216").store().selectionRows());
        assertEquals("METERLINE_STORE_SELECTION_ROWS / --store-selection-rows: '-1' (expected: a whole number from 0"
                + " to 16777216)", error(Map.of(), "--store-selection-rows=-1"));
    }

    @Test
    void theFlushSpreadIsAPercentOfTheIntervalFromZeroToNinety() {
        assertEquals(80, load(Map.of()).aggregation().flushSpreadPercent());
        assertEquals(0, load(Map.of("METERLINE_FLUSH_SPREAD", "0")).aggregation().flushSpreadPercent());
        assertEquals(90, load(Map.of(), "--flush-spread=90").aggregation().flushSpreadPercent());
        assertEquals("METERLINE_FLUSH_SPREAD / --flush-spread: '91' (expected: a whole number from 0 to 90)",
                error(Map.of(), "--flush-spread=91"));
        assertEquals("METERLINE_FLUSH_SPREAD / --flush-spread: '50%' (expected: a whole number from 0 to 90)",
                error(Map.of("METERLINE_FLUSH_SPREAD", "50%")));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new AggregationConfig(
                Duration.ofSeconds(10), Duration.ZERO, Duration.ofSeconds(1), 1, 1, 1, Duration.ofMillis(100),
                Duration.ofSeconds(1), -1));
        assertEquals("flushSpreadPercent: -1 (expected: 0 to 90)", e.getMessage());
    }

    @Test
    void logSegmentsFollowTheBoundUnlessSet() {
        WalConfig byDefault = load(Map.of()).wal();
        assertEquals(256L << 20, byDefault.maxBytes());
        assertEquals(32L << 20, byDefault.segmentBytes());
        assertEquals(WalConfig.of(WalFsync.INTERVAL), byDefault);
        assertEquals(128L << 20, load(Map.of(), "--wal-max-bytes=1073741824").wal().segmentBytes());
        assertEquals(128L << 20, load(Map.of(), "--wal-max-bytes=17592186044416").wal().segmentBytes());
        assertEquals(8L << 20, load(Map.of("METERLINE_WAL_MAX_BYTES", "67108864")).wal().segmentBytes());
        // The smallest bound: two segments of the smallest size.
        WalConfig smallest = load(Map.of(), "--wal-max-bytes=8192").wal();
        assertEquals(List.of(8192L, 4096L), List.of(smallest.maxBytes(), smallest.segmentBytes()));
        assertEquals(4096L, load(Map.of(), "--wal-max-bytes=20000").wal().segmentBytes());
        WalConfig set = load(Map.of("METERLINE_WAL_SEGMENT_BYTES", "16777216")).wal();
        assertEquals(List.of(256L << 20, 16L << 20), List.of(set.maxBytes(), set.segmentBytes()));
        assertEquals(1L << 30, load(Map.of(), "--wal-max-bytes=2147483648", "--wal-segment-bytes=1073741824").wal()
                .segmentBytes());
        assertEquals(64L << 20, load(Map.of(), "--wal-segment-bytes=AUTO", "--wal-max-bytes=536870912").wal()
                .segmentBytes());
    }

    @Test
    void theLogBoundHoldsAtLeastTwoSegments() {
        assertEquals("METERLINE_WAL_MAX_BYTES / --wal-max-bytes: '268435456' (expected: at least 2 segments of"
                + " wal-segment-bytes 134217729, 268435458; or leave wal-segment-bytes at auto)",
                error(Map.of(), "--wal-segment-bytes=134217729"));
        assertEquals("METERLINE_WAL_MAX_BYTES / --wal-max-bytes: '16777216' (expected: at least 2 segments of"
                + " wal-segment-bytes 16777216, 33554432; or leave wal-segment-bytes at auto)",
                error(Map.of("METERLINE_WAL_MAX_BYTES", "16777216", "METERLINE_WAL_SEGMENT_BYTES", "16777216")));
        assertEquals("METERLINE_WAL_MAX_BYTES / --wal-max-bytes: '4096' (expected: a whole number from 8192 to"
                + " 17592186044416)", error(Map.of(), "--wal-max-bytes=4096"));
        assertEquals("METERLINE_WAL_SEGMENT_BYTES / --wal-segment-bytes: 'half' (expected: a whole number from 4096"
                + " to 4294967296)", error(Map.of(), "--wal-segment-bytes=half"));
        assertEquals("METERLINE_WAL_SEGMENT_BYTES / --wal-segment-bytes: '1024' (expected: a whole number from 4096"
                + " to 4294967296)", error(Map.of(), "--wal-segment-bytes=1024"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new WalConfig(WalFsync.INTERVAL, 12_288, 8192, Duration.ofSeconds(1)));
        assertEquals("maxBytes: 12288 (expected: >= 2 segments of 8192 bytes)", e.getMessage());
    }

    @Test
    void staticTagsAreParsedInPairs() {
        assertEquals(List.of("pod", "web-1", "zone", "a"),
                load(Map.of(), "--static-tags=pod=web-1,zone=a").validation().staticTags());
    }

    @Test
    void errorsNameTheSettingTheValueAndTheExpectation() {
        assertEquals("METERLINE_TCP_PORT / --tcp-port: '70000' (expected: a whole number from 0 to 65535)",
                error(Map.of("METERLINE_TCP_PORT", "70000")));
        assertEquals("METERLINE_OVERFLOW / --overflow: 'shed' (expected: block or drop)",
                error(Map.of(), "--overflow=shed"));
        assertEquals("METERLINE_FLUSH_INTERVAL / --flush-interval: '0s' (expected: more than 0)",
                error(Map.of(), "--flush-interval=0s"));
        assertEquals("METERLINE_STORE_THREADS / --store-threads: '0' (expected: a whole number from 1 to 256)",
                error(Map.of(), "--store-threads=0"));
        assertEquals("METERLINE_FLUSH_BACKOFF_MAX / --flush-backoff-max: '50ms' (expected: at least flush-backoff,"
                + " 100ms)", error(Map.of(), "--flush-backoff-max=50ms"));
    }

    @Test
    void unknownFlagsAndMissingValuesAreRefused() {
        assertEquals("--no-such=1: unknown flag (expected one of the settings listed by --help)",
                error(Map.of(), "--no-such=1"));
        assertEquals("--tcp-port: missing value", error(Map.of(), "--tcp-port"));
        assertEquals("no-such: unknown setting",
                assertThrows(ConfigException.class, () -> Config.from(Map.of("no-such", "1"))).getMessage());
    }

    @Test
    void theFirstTierMustMatchTheWindow() {
        String m = error(Map.of(), "--window=30s");
        assertEquals(true, m.startsWith("METERLINE_RETENTION / --retention: '10s:24h,1m:30d,1h:1y' (expected: a first"
                + " tier at the window's resolution, 30s"), m);
    }
}
