package dev.meterline.config;

import java.util.List;
import java.util.Set;

/**
 * Client authentication: the SHA-256 digests of the accepted bearer tokens (empty: authentication is off) and the
 * HTTP paths that stay open without a token. Only digests are kept, so the tokens cannot leak through a log line.
 */
public record AuthConfig(List<byte[]> tokenDigests, Set<String> openPaths) {

    public boolean enabled() {
        return !tokenDigests.isEmpty();
    }

    @Override
    public String toString() {
        return "AuthConfig[tokens=" + tokenDigests.size() + ", openPaths=" + openPaths + "]";
    }
}
