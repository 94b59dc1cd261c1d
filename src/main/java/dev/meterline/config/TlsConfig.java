package dev.meterline.config;

import java.nio.file.Path;
import java.time.Duration;

/**
 * TLS for TCP ingest and HTTP: a PEM certificate chain and its PKCS#8 PEM private key (both null: TLS is off), and
 * how long a handshake may take before the connection is closed.
 */
public record TlsConfig(Path certFile, Path keyFile, Duration handshakeTimeout) {

    public boolean enabled() {
        return certFile != null;
    }
}
