package dev.meterline.ingest;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.meterline.Poll;
import dev.meterline.TestServer;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;
import reactor.netty.Connection;
import reactor.netty.tcp.TcpClient;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * TLS on both ports with a self-signed certificate made by the JDK's keytool: TLS clients ingest and query, a plain
 * text client is refused, a handshake that never completes is closed at the handshake timeout, a connection the
 * server cuts ends with a close_notify, and a client's broken TLS record ends its connection without a server error.
 */
class TlsTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final char[] PASSWORD = "changeit".toCharArray();
    private static final String TOKEN = "a-token-of-more-than-16-characters";

    @TempDir
    static Path dir;
    private static TestServer server;
    /** TLS with authentication, so that a wrong token gets the connection cut. */
    private static TestServer guarded;
    private static X509Certificate certificate;
    private static SSLContext clientContext;

    @BeforeAll
    static void start() throws Exception {
        Path store = dir.resolve("server.p12");
        String keytool = Path.of(System.getProperty("java.home"), "bin", "keytool").toString();
        Process p = new ProcessBuilder(keytool, "-genkeypair", "-alias", "meterline", "-keyalg", "EC",
                "-groupname", "secp256r1", "-dname", "CN=localhost", "-ext", "SAN=ip:127.0.0.1,dns:localhost",
                "-validity", "2", "-storetype", "PKCS12", "-keystore", store.toString(),
                "-storepass", "changeit", "-keypass", "changeit")
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0, "keytool: " + out);
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(store)) {
            ks.load(in, PASSWORD);
        }
        Certificate cert = ks.getCertificate("meterline");
        certificate = (X509Certificate) cert;
        PrivateKey key = (PrivateKey) ks.getKey("meterline", PASSWORD);
        Path certPem = Files.writeString(dir.resolve("cert.pem"), pem("CERTIFICATE", cert.getEncoded()));
        Path keyPem = Files.writeString(dir.resolve("key.pem"), pem("PRIVATE KEY", key.getEncoded()));

        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        trust.setCertificateEntry("meterline", cert);
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        clientContext = SSLContext.getInstance("TLS");
        clientContext.init(null, tmf.getTrustManagers(), null);

        server = TestServer.start(dir.resolve("data"), Map.of("tls-cert-file", certPem.toString(),
                "tls-key-file", keyPem.toString(), "tls-handshake-timeout", "3s"));
        Path tokens = Files.writeString(dir.resolve("tokens"), TOKEN + "\n");
        guarded = TestServer.start(dir.resolve("guarded"), Map.of("tls-cert-file", certPem.toString(),
                "tls-key-file", keyPem.toString(), "auth-tokens-file", tokens.toString()));
    }

    @AfterAll
    static void stop() {
        server.stop();
        guarded.stop();
    }

    private static String pem(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
                .encodeToString(der) + "\n-----END " + type + "-----\n";
    }

    @Test
    void tcpOverTlsIngests() throws Exception {
        try (SSLSocket s = (SSLSocket) clientContext.getSocketFactory().createSocket("127.0.0.1", server.tcpPort())) {
            s.setSoTimeout(30_000);
            SSLParameters params = s.getSSLParameters();
            params.setProtocols(new String[] {"TLSv1.2"});
            s.setSSLParameters(params);
            s.getOutputStream().write("{\"metric\":\"tls\",\"value\":1}\n{\"metric\":\"tls\"}\n{\"sync\":\"t\"}\n"
                    .getBytes(StandardCharsets.UTF_8));
            BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
            assertEquals("{\"error\":\"value is required\",\"line\":2}", in.readLine());
            JsonNode ack = JSON.readTree(in.readLine());
            assertEquals(1, ack.get("accepted").asLong());
            assertEquals("TLSv1.2", s.getSession().getProtocol());
        }
    }

    @Test
    void httpsServesIngestAndQueries() throws Exception {
        HttpClient client = HttpClient.newBuilder().sslContext(clientContext).connectTimeout(Duration.ofSeconds(5))
                .build();
        String base = "https://127.0.0.1:" + server.pipeline().httpPort();
        HttpResponse<String> post = client.send(HttpRequest.newBuilder(URI.create(base + "/api/v1/points"))
                .POST(HttpRequest.BodyPublishers.ofString("{\"metric\":\"tls.http\",\"value\":2}\n")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, post.statusCode(), post.body());
        assertEquals(1, JSON.readTree(post.body()).get("accepted").asLong());
        HttpResponse<String> health = client.send(HttpRequest.newBuilder(URI.create(base + "/healthz")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, health.statusCode());
    }

    @Test
    void plainTextOnTheTlsPortIsClosed() throws Exception {
        try (Socket s = new Socket("127.0.0.1", server.tcpPort())) {
            s.setSoTimeout(30_000);
            s.getOutputStream().write("{\"metric\":\"plain\",\"value\":1}\n".getBytes(StandardCharsets.UTF_8));
            byte[] any = s.getInputStream().readAllBytes();
            assertTrue(new String(any, StandardCharsets.ISO_8859_1).indexOf("accepted") < 0);
        } catch (java.net.SocketException reset) {
            // closed with a reset: refused as well
        }
        tcpOverTlsIngests();
    }

    @Test
    void handshakeThatNeverCompletesIsClosedAtTheTimeout() throws Exception {
        for (int port : new int[] {server.tcpPort(), server.pipeline().httpPort()}) {
            try (Socket s = new Socket("127.0.0.1", port)) {
                s.setSoTimeout(30_000);
                s.getOutputStream().write(new byte[] {0x16, 0x03, 0x01}); // the start of a ClientHello, then silence
                int read;
                try {
                    read = s.getInputStream().read();
                } catch (java.net.SocketException reset) {
                    read = -1;
                }
                assertEquals(-1, read, "the server closed the connection (within 30 s; the timeout is 3 s)");
            }
        }
        tcpOverTlsIngests();
    }

    @Test
    void aConnectionCutForItsTokenEndsWithCloseNotify() throws Exception {
        SslContext context = SslContextBuilder.forClient().trustManager(certificate).build();
        Connection c = TcpClient.create().host("127.0.0.1").port(guarded.tcpPort())
                .secure(spec -> spec.sslContext(context))
                .connectNow(Duration.ofSeconds(30));
        try {
            SslHandler tls = c.channel().pipeline().get(SslHandler.class);
            String replies = c.outbound().sendString(Mono.just("{\"auth\":\"not the token at all\"}\n")).then()
                    .thenMany(c.inbound().receive().asString(StandardCharsets.UTF_8))
                    .reduce("", String::concat)
                    .block(Duration.ofSeconds(30));
            assertEquals("{\"error\":\"authentication failed: the first line must be {\\\"auth\\\":"
                    + "\\\"<token>\\\"}\"}\n", replies);
            assertTrue(tls.sslCloseFuture().await(30, TimeUnit.SECONDS));
            assertTrue(tls.sslCloseFuture().isSuccess(),
                    () -> "the server ended TLS with a close_notify before its FIN: " + tls.sslCloseFuture().cause());
        } finally {
            c.disposeNow(Duration.ofSeconds(10));
        }
    }

    @Test
    void aBrokenTlsRecordEndsItsConnectionWithoutAServerError() throws Exception {
        Logger log = (Logger) LoggerFactory.getLogger(TcpIngest.class);
        ListAppender<ILoggingEvent> logged = new ListAppender<>();
        logged.start();
        log.addAppender(logged);
        try {
            try (Socket raw = new Socket("127.0.0.1", server.tcpPort());
                 SSLSocket s = (SSLSocket) clientContext.getSocketFactory()
                         .createSocket(raw, "127.0.0.1", server.tcpPort(), false)) {
                raw.setSoTimeout(30_000);
                s.startHandshake();
                byte[] record = new byte[5 + 32]; // application data no key of this session encrypted
                record[0] = 0x17;
                record[1] = 0x03;
                record[2] = 0x03;
                record[4] = 32;
                raw.getOutputStream().write(record);
                try {
                    while (raw.getInputStream().read() >= 0) {
                        // the server's alert, then its close
                    }
                } catch (java.net.SocketException reset) {
                    // closed with a reset: ended as well
                }
            }
            Object open = Poll.until(() -> server.pipeline().stats().get("connections"),
                    n -> ((Number) n).intValue() == 0, Duration.ofSeconds(30));
            assertEquals(0, ((Number) open).intValue());
        } finally {
            log.detachAppender(logged);
        }
        assertEquals(List.of(), logged.list.stream().filter(e -> e.getLevel().isGreaterOrEqual(Level.WARN))
                .map(ILoggingEvent::getFormattedMessage).toList());
        tcpOverTlsIngests();
    }
}
