package dev.meterline.config;

import java.net.URI;
import java.time.Duration;
import java.util.Map;

import static java.util.Objects.requireNonNull;

/**
 * Prometheus remote write: the receiver's URL (empty: off), the bearer token and extra headers sent with every
 * request, how long one request may take, how many series windows go in one request, the export resolution (a
 * multiple of the window; each sample merges the windows inside it), how long after a window closes it is held back
 * before it is sent, the longest wait between retries, and how many requests (pages of one slice) may be in flight
 * at once.
 */
public record RemoteWriteConfig(String url, String bearerToken, Map<String, String> headers, Duration timeout,
                                int batchSize, Duration resolution, Duration delay, Duration maxBackoff,
                                int concurrency) {

    /** The most requests in flight at once. */
    public static final int MAX_CONCURRENCY = 64;

    /** Remote write turned off. */
    public static final RemoteWriteConfig OFF = new RemoteWriteConfig("", "", Map.of(), Duration.ofSeconds(30),
            1000, Duration.ZERO, Duration.ofSeconds(5), Duration.ofSeconds(30), 1);

    /** Headers the exporter sets itself, which {@code headers} may not replace. */
    private static final java.util.Set<String> PROTOCOL_HEADERS = java.util.Set.of("content-type",
            "content-encoding", "content-length", "x-prometheus-remote-write-version", "host", "authorization");

    public RemoteWriteConfig {
        requireNonNull(url, "url");
        requireNonNull(bearerToken, "bearerToken");
        headers = Map.copyOf(requireNonNull(headers, "headers"));
        requireNonNull(timeout, "timeout");
        requireNonNull(resolution, "resolution");
        requireNonNull(delay, "delay");
        requireNonNull(maxBackoff, "maxBackoff");
        if (!url.isEmpty()) {
            URI uri;
            try {
                uri = URI.create(url);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("url: '" + url + "' (expected: an http:// or https:// URL)");
            }
            if (!"http".equals(uri.getScheme()) && !"https".equals(uri.getScheme()) || uri.getHost() == null) {
                throw new IllegalArgumentException("url: '" + url + "' (expected: an http:// or https:// URL)");
            }
        }
        for (String name : headers.keySet()) {
            if (PROTOCOL_HEADERS.contains(name.toLowerCase(java.util.Locale.ROOT))) {
                throw new IllegalArgumentException("headers: '" + name
                        + "' (expected: a header other than those the protocol sets)");
            }
            if (name.isEmpty() || !name.chars().allMatch(c -> c > 32 && c < 127 && c != ':')) {
                throw new IllegalArgumentException("headers: '" + name + "' (expected: an HTTP header name)");
            }
        }
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("timeout: " + timeout + " (expected: > 0)");
        }
        if (batchSize < 1) {
            throw new IllegalArgumentException("batchSize: " + batchSize + " (expected: > 0)");
        }
        if (concurrency < 1 || concurrency > MAX_CONCURRENCY) {
            throw new IllegalArgumentException("concurrency: " + concurrency + " (expected: 1 to " + MAX_CONCURRENCY
                    + ")");
        }
        if (resolution.isNegative()) {
            throw new IllegalArgumentException("resolution: " + resolution + " (expected: >= 0, 0 for the window)");
        }
        if (delay.isNegative()) {
            throw new IllegalArgumentException("delay: " + delay + " (expected: >= 0)");
        }
        if (maxBackoff.toMillis() < 1) {
            throw new IllegalArgumentException("maxBackoff: " + maxBackoff + " (expected: >= 1ms)");
        }
    }

    /** True when a receiver is configured. */
    public boolean enabled() {
        return !url.isEmpty();
    }

    /** The export resolution in milliseconds: the configured one, or {@code window} when none is. */
    public long resolutionMillis(Duration window) {
        return resolution.isZero() ? window.toMillis() : resolution.toMillis();
    }

    @Override
    public String toString() {
        return "RemoteWriteConfig[url=" + url + ", bearerToken=" + (bearerToken.isEmpty() ? "" : "***")
                + ", headers=" + headers.keySet() + ", timeout=" + timeout + ", batchSize=" + batchSize
                + ", resolution=" + resolution + ", delay=" + delay + ", maxBackoff=" + maxBackoff + ", concurrency=" + concurrency + "]";
    }
}
