package dev.meterline.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The remote write settings: defaults, parsing, and one-line errors naming the setting. */
final class RemoteWriteConfigTest {

    @TempDir
    Path tmp;

    @Test
    void offByDefault() {
        RemoteWriteConfig rw = Config.from(Map.of()).remoteWrite();
        assertFalse(rw.enabled());
        assertEquals(1000, rw.batchSize());
        assertEquals(10_000, rw.resolutionMillis(Duration.ofSeconds(10)));
    }

    @Test
    void everySettingIsRead() throws Exception {
        Path token = Files.writeString(tmp.resolve("token"), "  abc-token \n");
        RemoteWriteConfig rw = Config.from(Map.of("remote-write-url", "https://mimir:9009/api/v1/push",
                "remote-write-bearer-token-file", token.toString(),
                "remote-write-headers", "X-Scope-OrgID=team-a, X-Other=1",
                "remote-write-timeout", "5s", "remote-write-batch-size", "250", "remote-write-resolution", "1m",
                "remote-write-delay", "0s", "remote-write-max-backoff", "2s", "remote-write-concurrency", "64"))
                .remoteWrite();
        assertTrue(rw.enabled());
        assertEquals("abc-token", rw.bearerToken());
        assertEquals(Map.of("X-Scope-OrgID", "team-a", "X-Other", "1"), rw.headers());
        assertEquals(Duration.ofSeconds(5), rw.timeout());
        assertEquals(250, rw.batchSize());
        assertEquals(60_000, rw.resolutionMillis(Duration.ofSeconds(10)));
        assertEquals(Duration.ZERO, rw.delay());
        assertEquals(Duration.ofSeconds(2), rw.maxBackoff());
        assertEquals(64, rw.concurrency(), "the most requests in flight");
        assertEquals(4, Config.from(Map.of()).remoteWrite().concurrency(), "four requests in flight by default");
        assertFalse(rw.toString().contains("abc-token"), rw.toString());
    }

    @Test
    void badValuesAreOneLineErrorsNamingTheSetting() {
        assertError(Map.of("remote-write-url", "ftp://x/"), "METERLINE_REMOTE_WRITE_URL / --remote-write-url: 'ftp://x/'");
        assertError(Map.of("remote-write-resolution", "15s"),
                "METERLINE_REMOTE_WRITE_RESOLUTION / --remote-write-resolution: '15s' (expected: a multiple of the window, 10s)");
        assertError(Map.of("remote-write-headers", "Content-Type=text/plain"),
                "METERLINE_REMOTE_WRITE_HEADERS / --remote-write-headers: 'Content-Type'");
        assertError(Map.of("remote-write-batch-size", "0"), "METERLINE_REMOTE_WRITE_BATCH_SIZE");
        assertError(Map.of("remote-write-concurrency", "0"), "METERLINE_REMOTE_WRITE_CONCURRENCY");
        assertError(Map.of("remote-write-concurrency", "65"), "METERLINE_REMOTE_WRITE_CONCURRENCY");
        assertError(Map.of("remote-write-bearer-token-file", tmp.resolve("absent").toString()),
                "METERLINE_REMOTE_WRITE_BEARER_TOKEN_FILE / --remote-write-bearer-token-file: cannot read");
    }

    private static void assertError(Map<String, String> raw, String start) {
        ConfigException e = assertThrows(ConfigException.class, () -> Config.from(raw));
        assertTrue(e.getMessage().startsWith(start), e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
    }
}
