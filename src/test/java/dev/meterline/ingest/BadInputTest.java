package dev.meterline.ingest;

import com.fasterxml.jackson.databind.JsonNode;
import dev.meterline.LineClient;
import dev.meterline.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Every bad input of the wire protocol, over a real TCP connection: each gets one error line with the right line
 * number, and the good lines around it are all counted.
 */
class BadInputTest {

    @TempDir
    static Path dir;
    private static TestServer server;

    @BeforeAll
    static void start() {
        server = TestServer.start(dir, Map.of("max-line-bytes", "1024", "max-tags", "4"));
    }

    @AfterAll
    static void stop() {
        server.stop();
    }

    static Stream<Arguments> badLines() {
        long now = System.currentTimeMillis();
        String tooManyTags = "{\"metric\":\"m\",\"value\":1,\"tags\":{\"a\":\"1\",\"b\":\"2\",\"c\":\"3\",\"d\":\"4\",\"e\":\"5\"}}";
        return Stream.of(
                Arguments.of("missing metric", "{\"value\":1}", "metric is required"),
                Arguments.of("empty metric", "{\"metric\":\"\",\"value\":1}", "metric must not be empty"),
                Arguments.of("metric not a string", "{\"metric\":5,\"value\":1}", "metric must be a string"),
                Arguments.of("metric too long", "{\"metric\":\"" + "x".repeat(257) + "\",\"value\":1}",
                        "metric must be at most 256 bytes"),
                Arguments.of("metric with control char", "{\"metric\":\"a\\u0001b\",\"value\":1}",
                        "metric must not contain control characters"),
                Arguments.of("missing value", "{\"metric\":\"m\"}", "value is required"),
                Arguments.of("NaN", "{\"metric\":\"m\",\"value\":NaN}", "value must be a finite number"),
                Arguments.of("Infinity", "{\"metric\":\"m\",\"value\":Infinity}", "value must be a finite number"),
                Arguments.of("overflowing number", "{\"metric\":\"m\",\"value\":1e999}", "value must be a finite number"),
                Arguments.of("string value", "{\"metric\":\"m\",\"value\":\"42\"}", "value must be a finite number"),
                Arguments.of("null value", "{\"metric\":\"m\",\"value\":null}", "value must be a finite number"),
                Arguments.of("bad timestamp string", "{\"metric\":\"m\",\"value\":1,\"timestamp\":\"yesterday\"}",
                        "timestamp must be epoch milliseconds or an RFC 3339 string"),
                Arguments.of("fractional timestamp", "{\"metric\":\"m\",\"value\":1,\"timestamp\":1.5}",
                        "timestamp must be epoch milliseconds or an RFC 3339 string"),
                Arguments.of("future timestamp", "{\"metric\":\"m\",\"value\":1,\"timestamp\":" + (now + 3_600_000) + "}",
                        "timestamp is too far in the future"),
                Arguments.of("timestamp past retention", "{\"metric\":\"m\",\"value\":1,\"timestamp\":1000}",
                        "timestamp is older than the retention"),
                Arguments.of("too many tags", tooManyTags, "too many tags"),
                Arguments.of("non-string tag value", "{\"metric\":\"m\",\"value\":1,\"tags\":{\"a\":1}}",
                        "tag values must be strings"),
                Arguments.of("tags not an object", "{\"metric\":\"m\",\"value\":1,\"tags\":[\"a\"]}",
                        "tags must be an object"),
                Arguments.of("empty tag key", "{\"metric\":\"m\",\"value\":1,\"tags\":{\"\":\"v\"}}",
                        "tag keys must be 1 to 128 bytes"),
                Arguments.of("long tag value", "{\"metric\":\"m\",\"value\":1,\"tags\":{\"k\":\"" + "v".repeat(257) + "\"}}",
                        "tag values must be at most 256 bytes"),
                Arguments.of("duplicate field", "{\"metric\":\"m\",\"value\":1,\"value\":2}", "duplicate field 'value'"),
                Arguments.of("invalid JSON", "{\"metric\":\"m\",", "invalid JSON"),
                Arguments.of("not an object", "[1,2]", "line must be a JSON object"),
                Arguments.of("two objects on a line", "{\"metric\":\"m\",\"value\":1}{\"metric\":\"m\",\"value\":2}",
                        "invalid JSON: one object per line"),
                Arguments.of("oversized line", "{\"metric\":\"m\",\"value\":1,\"pad\":\"" + "p".repeat(2000) + "\"}",
                        "line exceeds 1024 bytes"),
                Arguments.of("sync id not a string", "{\"sync\":5}", "sync must be a string"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badLines")
    void badLineGetsOneErrorWithItsLineNumberAndNeighboursAreCounted(String name, String bad, String message)
            throws Exception {
        try (LineClient client = server.connect()) {
            client.send("{\"metric\":\"good\",\"value\":1}\n\n" + bad + "\n{\"metric\":\"good\",\"value\":2}\n");
            JsonNode ack = client.sync(name.replace(' ', '-'));
            assertEquals(1, client.errors().size(), client.errors().toString());
            JsonNode error = client.errors().get(0);
            assertEquals(message, error.get("error").asText());
            assertEquals(3, error.get("line").asInt(), "line numbers count the blank line too");
            assertEquals(2, ack.get("accepted").asLong());
            assertEquals(1, ack.get("rejected").asLong());
        }
    }

    @Test
    void invalidUtf8IsRejectedAndTheConnectionGoesOn() throws Exception {
        try (LineClient client = server.connect()) {
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            b.writeBytes("{\"metric\":\"m".getBytes(StandardCharsets.UTF_8));
            b.write(0xC3);
            b.write(0x28);
            b.writeBytes("\",\"value\":1}\n{\"metric\":\"ok\",\"value\":1}\n".getBytes(StandardCharsets.UTF_8));
            client.send(b.toByteArray());
            JsonNode ack = client.sync("utf8");
            assertEquals("invalid UTF-8", client.errors().get(0).get("error").asText());
            assertEquals(1, client.errors().get(0).get("line").asInt());
            assertEquals(1, ack.get("accepted").asLong());
        }
    }

    @Test
    void oversizedLineSpanningManyReadsIsSkippedToTheNextNewline() throws Exception {
        try (LineClient client = server.connect()) {
            client.send("{\"metric\":\"m\",\"value\":1}\r\n");
            client.send("{\"metric\":\"m\",\"value\":1,\"pad\":\"");
            for (int i = 0; i < 200; i++) {
                client.send("p".repeat(1000));
            }
            client.send("\"}\n{\"metric\":\"m\",\"value\":3}\n");
            JsonNode ack = client.sync("big");
            assertEquals(1, client.errors().size());
            assertEquals(2, client.errors().get(0).get("line").asInt());
            assertEquals(2, ack.get("accepted").asLong());
            assertEquals(1, ack.get("rejected").asLong());
        }
    }

    @Test
    void countsAreSinceConnectionStartAndBlankLinesAreSilent() throws Exception {
        try (LineClient client = server.connect()) {
            client.send("   \n\t\n{\"metric\":\"m\",\"value\":1}\n");
            JsonNode first = client.sync("a");
            client.send("{\"metric\":\"m\",\"value\":\"x\"}\n{\"metric\":\"m\",\"value\":2,\"unknown\":{\"x\":[1]}}\n");
            JsonNode second = client.sync("b");
            assertEquals(1, first.get("accepted").asLong());
            assertEquals(0, first.get("rejected").asLong());
            assertEquals(2, second.get("accepted").asLong());
            assertEquals(1, second.get("rejected").asLong());
            assertEquals(5, client.errors().get(0).get("line").asInt(), "sync lines count too");
        }
    }
}
