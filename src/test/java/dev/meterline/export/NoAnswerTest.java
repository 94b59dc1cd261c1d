package dev.meterline.export;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.meterline.LineClient;
import dev.meterline.Poll;
import dev.meterline.TestServer;
import dev.meterline.export.RemoteWriteFixture.Sent;
import io.netty.channel.ConnectTimeoutException;
import io.netty.handler.codec.dns.DefaultDnsQuestion;
import io.netty.handler.codec.dns.DnsRecordType;
import io.netty.resolver.dns.DnsNameResolverTimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import static dev.meterline.export.RemoteWriteFixture.meter;
import static dev.meterline.export.RemoteWriteFixture.points;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * What {@code /readyz} and the failure meters say when the receiver never answers: nothing listens on its port, its
 * host name does not resolve, or it takes the connection and stays silent. Each on a real socket on loopback or a
 * name that never resolves ({@code .invalid}).
 */
final class NoAnswerTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String FAILED = "meterline_remote_write_samples_failed_total";
    private static final Duration WAIT = Duration.ofSeconds(60);

    @TempDir
    Path tmp;

    @Test
    void aPortWithNothingListeningIsAConnectionRefused() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        String problem = problemOf("http://127.0.0.1:" + port + "/api/v1/write", Map.of());
        assertTrue(problem.matches("receiver unreachable: connection refused by 127\\.0\\.0\\.1:" + port
                + "; retrying in \\d+ ms"), problem);
    }

    @Test
    void aOneDigitPortIsAPortNotPartOfTheHostName() throws Exception {
        assumeTrue(refused(9), "something listens on 127.0.0.1:9");
        String problem = problemOf("http://127.0.0.1:9/api/v1/write", Map.of());
        assertTrue(problem.matches("receiver unreachable: connection refused by 127\\.0\\.0\\.1:9; retrying in \\d+ ms"),
                problem);
    }

    @Test
    void aHostNameThatDoesNotResolveIsNamedWithoutItsPort() throws Exception {
        // The lookup goes to the system's DNS server: it says the name does not exist, or, without one, times out.
        String problem = problemOf("http://meterline-nowhere.invalid:9/api/v1/write",
                Map.of("remote-write-timeout", "30s"));
        assertTrue(problem.matches("receiver unreachable: (host name not found: meterline-nowhere\\.invalid"
                + "|host name lookup timed out: meterline-nowhere\\.invalid \\(the DNS server .+ did not answer\\))"
                + "; retrying in \\d+ ms"), problem);
    }

    @Test
    void aReceiverThatTakesTheConnectionAndNeverAnswersTimesOut() throws Exception {
        try (ServerSocket silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            int port = silent.getLocalPort();
            String problem = problemOf("http://127.0.0.1:" + port + "/api/v1/write",
                    Map.of("remote-write-timeout", "300ms"));
            assertTrue(problem.matches("receiver unreachable: timed out: no answer from 127\\.0\\.0\\.1:" + port
                    + " within 300 ms; retrying in \\d+ ms"), problem);
        }
    }

    @Test
    void aDnsServerThatDoesNotAnswerIsNamed() {
        NoAnswer noAnswer = new NoAnswer(URI.create("https://receiver.example/api/v1/push"), Duration.ofSeconds(30));
        InetSocketAddress dns = new InetSocketAddress(InetAddress.getLoopbackAddress(), 53);
        UnknownHostException e = new UnknownHostException("Failed to resolve 'receiver.example' after 2 queries");
        e.initCause(new DnsNameResolverTimeoutException(dns,
                new DefaultDnsQuestion("receiver.example.", DnsRecordType.A), "query via UDP timed out"));
        assertEquals("host name lookup timed out: receiver.example (the DNS server " + dns + " did not answer)",
                noAnswer.describe(e));
    }

    @Test
    void aConnectTimeoutNamesTheReceiverAndTheTimeout() {
        NoAnswer noAnswer = new NoAnswer(URI.create("https://receiver.example/api/v1/push"), Duration.ofSeconds(30));
        assertEquals("connect timed out: receiver.example:443 did not accept the connection within 30000 ms",
                noAnswer.describe(new ConnectTimeoutException("connection timed out after 30000 ms")));
    }

    /**
     * Starts a Meterline exporting to {@code url}, sends a window, and returns {@code /readyz}'s {@code remoteWrite}
     * once a request has failed; the failed samples are counted as unreachable and under no other reason.
     */
    private String problemOf(String url, Map<String, String> extra) throws Exception {
        Map<String, String> settings = RemoteWriteFixture.settings(url);
        settings.putAll(extra);
        try (TestServer m = RemoteWriteFixture.start(tmp.resolve("m"), settings); LineClient c = m.connect()) {
            points(c, new Sent(), "hits", "h", RemoteWriteFixture.futureWindow(), 3);
            String problem = Poll.until(() -> JSON.readTree(m.get("/readyz").body()).get("remoteWrite").asText(),
                    p -> !p.equals("ok"), WAIT);
            assertTrue(meter(m, FAILED, "reason=\"unreachable\"") > 0, "failed samples counted as unreachable");
            assertEquals(0, meter(m, FAILED, "reason=\"server_error\""));
            assertEquals(0, meter(m, FAILED, "reason=\"too_many_requests\""));
            return problem;
        }
    }

    private static boolean refused(int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 5000);
            return false;
        } catch (ConnectException e) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
