package dev.meterline.ingest;

import dev.meterline.config.TlsConfig;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;

import javax.net.ssl.SSLException;

/** Builds the server's TLS context from the configured PEM files: TLS 1.3 and 1.2 only. */
public final class Tls {

    private Tls() {
    }

    /** The server context, or null when TLS is off; fails with the file names when the PEM files are unusable. */
    public static SslContext serverContext(TlsConfig config) {
        if (!config.enabled()) {
            return null;
        }
        try {
            return SslContextBuilder.forServer(config.certFile().toFile(), config.keyFile().toFile())
                    .protocols("TLSv1.3", "TLSv1.2")
                    .build();
        } catch (SSLException | IllegalArgumentException e) {
            throw new IllegalStateException("cannot use TLS certificate " + config.certFile() + " with key "
                    + config.keyFile() + " (expected: PEM certificate chain and PKCS#8 PEM key): " + e.getMessage(), e);
        }
    }
}
