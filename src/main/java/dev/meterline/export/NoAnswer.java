package dev.meterline.export;

import io.netty.channel.ConnectTimeoutException;
import io.netty.handler.codec.dns.DnsResponseCode;
import io.netty.handler.timeout.ReadTimeoutException;
import io.netty.resolver.dns.DnsErrorCauseException;
import io.netty.resolver.dns.DnsNameResolverTimeoutException;
import reactor.netty.http.client.PrematureCloseException;

import javax.net.ssl.SSLException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.URI;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.concurrent.TimeoutException;

/**
 * Says why a request to the receiver got no answer, in an operator's words and naming the receiver's host and port:
 * a refused connection, a host name that does not resolve, a DNS server or a receiver that did not answer in time.
 * The exceptions of Netty and Reactor Netty name none of these plainly (a refused connection is a native
 * {@code finishConnect(..) failed with error(-111)}, a response timeout has no message at all).
 */
final class NoAnswer {

    private final String host;
    private final String endpoint;
    private final long timeoutMillis;

    /** For requests to {@code uri} that may take {@code timeout}. */
    NoAnswer(URI uri, Duration timeout) {
        this.host = uri.getHost();
        int port = uri.getPort() != -1 ? uri.getPort() : "https".equals(uri.getScheme()) ? 443 : 80;
        this.endpoint = host + ":" + port;
        this.timeoutMillis = timeout.toMillis();
    }

    /** Why {@code error} ended the request, e.g. {@code connection refused by 127.0.0.1:9}. */
    String describe(Throwable error) {
        for (Throwable e = error; e != null; e = e.getCause()) {
            String known = known(e);
            if (known != null) {
                return known;
            }
        }
        String m = error.getMessage();
        return endpoint + ": " + error.getClass().getSimpleName() + (m == null ? "" : ": " + m);
    }

    private String known(Throwable e) {
        if (e instanceof UnknownHostException) {
            return unresolved(e.getCause());
        }
        if (e instanceof ConnectTimeoutException) {
            return "connect timed out: " + endpoint + " did not accept the connection within " + timeoutMillis
                    + " ms";
        }
        if (e instanceof ConnectException && e.getMessage() != null && e.getMessage().contains("Connection refused")) {
            return "connection refused by " + endpoint;
        }
        if (e instanceof ConnectException || e instanceof NoRouteToHostException) {
            return "cannot connect to " + endpoint + ": " + innermostMessage(e);
        }
        if (e instanceof ReadTimeoutException || e instanceof TimeoutException) {
            return "timed out: no answer from " + endpoint + " within " + timeoutMillis + " ms";
        }
        if (e instanceof PrematureCloseException) {
            return "connection closed by " + endpoint + " before it answered";
        }
        if (e instanceof SSLException) {
            return "TLS with " + endpoint + " failed: " + innermostMessage(e);
        }
        return null;
    }

    /** A host name that did not resolve: not found, or the DNS server did not answer or answered with an error. */
    private String unresolved(Throwable cause) {
        if (cause instanceof DnsNameResolverTimeoutException t) {
            return "host name lookup timed out: " + host + " (the DNS server " + t.remoteAddress() + " did not answer)";
        }
        if (cause instanceof DnsErrorCauseException d && !DnsResponseCode.NXDOMAIN.equals(d.getCode())) {
            return "host name lookup failed: " + host + " (the DNS server answered " + d.getCode() + ")";
        }
        return "host name not found: " + host;
    }

    private static String innermostMessage(Throwable e) {
        Throwable last = e;
        while (last.getCause() != null) {
            last = last.getCause();
        }
        String m = last.getMessage();
        return m == null ? last.getClass().getSimpleName() : m;
    }
}
