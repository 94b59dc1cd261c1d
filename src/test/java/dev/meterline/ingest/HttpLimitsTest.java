package dev.meterline.ingest;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.meterline.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.zip.Deflater;
import java.util.zip.GZIPOutputStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Hostile HTTP over real sockets: request smuggling shapes, bad chunk framing, oversized request lines and headers,
 * a request that never finishes, unsupported encodings and a gzip bomb. Each gets a defined status, and the server
 * keeps serving other requests.
 */
class HttpLimitsTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int MAX_BODY = 1 << 20;

    @TempDir
    static Path dir;
    private static TestServer server;

    @BeforeAll
    static void start() {
        server = TestServer.start(dir, Map.of("max-body-bytes", String.valueOf(MAX_BODY), "request-timeout", "1s"));
    }

    @AfterAll
    static void stop() {
        server.stop();
    }

    /** Sends raw bytes, half-closes, and returns everything the server answers until it closes (or 30 s pass). */
    private static String raw(String request) throws IOException {
        try (Socket s = new Socket("127.0.0.1", server.pipeline().httpPort())) {
            s.setSoTimeout(30_000);
            OutputStream out = s.getOutputStream();
            out.write(request.getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            return readAll(s.getInputStream());
        }
    }

    private static String readAll(InputStream in) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        try {
            in.transferTo(b);
        } catch (IOException reset) {
            // what was read so far is the answer
        }
        return b.toString(StandardCharsets.ISO_8859_1);
    }

    private static int count(String text, String part) {
        int n = 0;
        for (int i = text.indexOf(part); i >= 0; i = text.indexOf(part, i + 1)) {
            n++;
        }
        return n;
    }

    private static void assertServerServes() throws Exception {
        HttpResponse<String> r = server.post("/api/v1/points",
                "{\"metric\":\"ok\",\"value\":1}\n".getBytes(StandardCharsets.UTF_8));
        assertEquals(200, r.statusCode(), r.body());
        assertEquals(1, JSON.readTree(r.body()).get("accepted").asLong());
    }

    @Test
    void contentLengthWithChunkedEncodingDoesNotSmuggleASecondRequest() throws Exception {
        String smuggled = "GET /api/v1/stats HTTP/1.1\r\nHost: x\r\n\r\n";
        String body = "0\r\n\r\n" + smuggled;
        String answer = raw("POST /api/v1/points HTTP/1.1\r\nHost: x\r\nContent-Length: " + body.length()
                + "\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n" + body);
        assertEquals(1, count(answer, "HTTP/1.1 "), "exactly one response: " + answer);
        assertFalse(answer.contains("\"received\""), "the smuggled request was not served: " + answer);
        assertServerServes();
    }

    @Test
    void badChunkSizeLineIsRefused() throws Exception {
        String answer = raw("POST /api/v1/points HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "zz\r\n{\"metric\":\"m\",\"value\":1}\n\r\n0\r\n\r\n");
        assertTrue(answer.startsWith("HTTP/1.1 400"), answer);
        assertServerServes();
    }

    @Test
    void oversizedUriIsRefused() throws Exception {
        String answer = raw("GET /api/v1/aggregates?metric=" + "m".repeat(20_000) + " HTTP/1.1\r\nHost: x\r\n\r\n");
        assertTrue(answer.startsWith("HTTP/1.1 414"), answer);
        assertServerServes();
    }

    @Test
    void oversizedHeadersAreRefused() throws Exception {
        String answer = raw("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + "h".repeat(40_000) + "\r\n\r\n");
        assertTrue(answer.startsWith("HTTP/1.1 431"), answer);
        assertServerServes();
    }

    @Test
    void requestThatNeverFinishesIsCutAtTheRequestTimeout() throws Exception {
        try (Socket s = new Socket("127.0.0.1", server.pipeline().httpPort())) {
            s.setSoTimeout(30_000);
            s.getOutputStream().write(("POST /api/v1/points HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n"
                    + "{\"metric\":\"whole\",\"value\":1}\n{\"metric\"").getBytes(StandardCharsets.ISO_8859_1));
            String answer = readAll(s.getInputStream());
            assertTrue(answer.startsWith("HTTP/1.1 408"), answer);
            // The line the timeout cut was never sent whole: dropped, as on TCP, not answered as invalid.
            assertTrue(answer.contains("{\"error\":\"body not received within 1s; lines before were processed\","
                    + "\"accepted\":1,\"rejected\":0,"), answer);
        }
        assertServerServes();
    }

    @Test
    void aLineTheBodyLimitCutsIsNeitherCountedNorAnswered() throws Exception {
        String line = "{\"metric\":\"cut\",\"value\":1}\n";
        int whole = (MAX_BODY - 200) / line.length();
        String first = line.repeat(whole) + line.substring(0, 12);
        String second = line.substring(12) + line.repeat(10);
        String answer = raw("POST /api/v1/points HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                + "Connection: close\r\n\r\n" + chunk(first) + chunk(second) + "0\r\n\r\n");
        assertTrue(answer.startsWith("HTTP/1.1 413"), answer);
        assertTrue(answer.endsWith("{\"error\":\"body exceeds " + MAX_BODY + " bytes; lines before the limit were "
                + "processed\",\"accepted\":" + whole + ",\"rejected\":0,\"errors\":[]}"), answer);
        assertServerServes();
    }

    private static String chunk(String data) {
        return Integer.toHexString(data.length()) + "\r\n" + data + "\r\n";
    }

    @Test
    void noMeterCarriesClientStrings() throws Exception {
        String line = "{\"metric\":\"client.metric.zq\",\"value\":1,\"tags\":{\"tagkeyzq\":\"tagvaluezq\"}}\n";
        assertEquals(200, server.post("/api/v1/points", line.getBytes(StandardCharsets.UTF_8)).statusCode());
        raw("GET /pathzq HTTP/1.1\r\nHost: hostzq\r\nUser-Agent: agentzq\r\nConnection: close\r\n\r\n");
        String metrics = server.get("/metrics").body();
        assertFalse(metrics.contains("zq"), "client strings never become meter names or tags");
    }

    @Test
    void unsupportedEncodingIs415() throws Exception {
        HttpResponse<String> r = server.post("/api/v1/points", new byte[] {1, 2, 3}, "Content-Encoding", "br");
        assertEquals(415, r.statusCode());
        assertEquals("Content-Encoding: br (expected: identity or gzip)", JSON.readTree(r.body()).get("error").asText());
    }

    @Test
    void gzipBombIsRefusedWith413WithoutInflatingItAll() throws Exception {
        long inflated = 256L << 20;
        ByteArrayOutputStream compressed = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(compressed, 1 << 16) {
            {
                def.setLevel(Deflater.BEST_COMPRESSION);
            }
        }) {
            byte[] zeros = new byte[1 << 20];
            for (long n = 0; n < inflated; n += zeros.length) {
                gz.write(zeros);
            }
        }
        byte[] bomb = compressed.toByteArray();
        assertTrue(bomb.length < MAX_BODY, "the compressed body alone is within the limit: " + bomb.length);
        HttpResponse<String> r = server.post("/api/v1/points", bomb, "Content-Encoding", "gzip");
        assertEquals(413, r.statusCode(), r.body());
        JsonNode body = JSON.readTree(r.body());
        assertEquals("body exceeds " + MAX_BODY + " bytes; lines before the limit were processed",
                body.get("error").asText());
        assertServerServes();
    }
}
