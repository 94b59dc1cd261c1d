package dev.meterline.ingest;

import dev.meterline.config.AuthConfig;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.List;

/**
 * Checks bearer tokens against the configured ones in constant time: the presented token is hashed and compared
 * with every stored digest by {@link MessageDigest#isEqual}, without stopping at the first match.
 */
public final class Authenticator {

    private final List<byte[]> digests;

    public Authenticator(AuthConfig config) {
        this.digests = List.copyOf(config.tokenDigests());
    }

    public boolean enabled() {
        return !digests.isEmpty();
    }

    /** True when authentication is off or {@code token} is one of the configured tokens. */
    public boolean accepts(String token) {
        if (!enabled()) {
            return true;
        }
        if (token == null) {
            return false;
        }
        byte[] presented = sha256(token);
        boolean match = false;
        for (byte[] d : digests) {
            match |= MessageDigest.isEqual(d, presented);
        }
        return match;
    }

    /** SHA-256 of the token's UTF-8 bytes; how tokens are stored and compared. */
    public static byte[] sha256(String token) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required of every JVM", e);
        }
    }
}
