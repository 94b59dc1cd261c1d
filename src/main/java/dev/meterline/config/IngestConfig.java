package dev.meterline.config;

import java.time.Duration;

/**
 * TCP and HTTP ingest: ports, framing and body limits, connection limits, the bounded buffer and its policy, and the
 * event loops of the TCP port.
 */
public record IngestConfig(String bind, int tcpPort, int httpPort, int maxLineBytes, long maxBodyBytes,
                           int maxConnections, Duration idleTimeout, int bufferSize, Overflow overflow,
                           int replyQueue, int maxConnectionsPerClient, Duration lineTimeout, Duration writeTimeout,
                           Duration requestTimeout, int ioThreads) {
}
