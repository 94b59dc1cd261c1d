package dev.meterline.config;

import java.time.Duration;

/**
 * TCP and HTTP ingest: ports, framing and body limits, connection limits, the bounded buffer and its policy, the
 * event loops of the TCP port, and the bound of each decoding thread's series key cache.
 */
public record IngestConfig(String bind, int tcpPort, int httpPort, int maxLineBytes, long maxBodyBytes,
                           int maxConnections, Duration idleTimeout, int bufferSize, Overflow overflow,
                           int replyQueue, int maxConnectionsPerClient, Duration lineTimeout, Duration writeTimeout,
                           Duration requestTimeout, int ioThreads, int keyCacheMax) {

    /** Bounds of {@code keyCacheMax}, in slots: one four-way set, and 2^30. */
    public static final int MIN_KEY_CACHE = 4;
    public static final int MAX_KEY_CACHE = 1 << 30;

    public IngestConfig {
        if (keyCacheMax < MIN_KEY_CACHE || keyCacheMax > MAX_KEY_CACHE) {
            throw new IllegalArgumentException("keyCacheMax: " + keyCacheMax + " (expected: from " + MIN_KEY_CACHE
                    + " to " + MAX_KEY_CACHE + ")");
        }
    }
}
