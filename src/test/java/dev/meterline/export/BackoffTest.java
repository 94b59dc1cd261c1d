package dev.meterline.export;

import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/** Reading {@code Retry-After}: seconds or an HTTP date, bounded; anything else is ignored. */
final class BackoffTest {

    private static final long NOW = 1_700_000_000_000L;

    @Test
    void retryAfterInSecondsOrAsADate() {
        assertEquals(Duration.ofSeconds(120), RemoteWriteExporter.retryAfter("120", NOW));
        assertEquals(Duration.ofSeconds(30), RemoteWriteExporter.retryAfter("Tue, 14 Nov 2023 22:13:50 GMT", NOW));
        assertEquals(Duration.ZERO, RemoteWriteExporter.retryAfter("Tue, 14 Nov 2023 22:00:00 GMT", NOW));
        assertEquals(Duration.ofMinutes(10), RemoteWriteExporter.retryAfter("86400", NOW), "bounded");
        assertNull(RemoteWriteExporter.retryAfter(null, NOW));
        assertNull(RemoteWriteExporter.retryAfter("-1", NOW));
        assertNull(RemoteWriteExporter.retryAfter("soon", NOW));
    }
}
