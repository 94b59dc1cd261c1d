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
import java.util.List;
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
                Arguments.of("sync id not a string", "{\"sync\":5}", "sync must be a string"),
                // Hardening: hostile encodings and shapes, each with one defined answer.
                Arguments.of("lone high surrogate escape", "{\"metric\":\"a\\ud800b\",\"value\":1}",
                        "invalid UTF-8: unpaired surrogate escape"),
                Arguments.of("lone low surrogate escape in a tag", "{\"metric\":\"m\",\"value\":1,\"tags\":{\"k\":\"\\udc00\"}}",
                        "invalid UTF-8: unpaired surrogate escape"),
                Arguments.of("reversed surrogate pair in a sync id", "{\"sync\":\"\\ude00\\ud83d\"}",
                        "invalid UTF-8: unpaired surrogate escape"),
                Arguments.of("overlong 2-byte UTF-8", raw("{\"metric\":\"m", 0xC0, 0xAF, "\",\"value\":1}"), "invalid UTF-8"),
                Arguments.of("overlong 3-byte UTF-8", raw("{\"metric\":\"m", 0xE0, 0x80, 0xAF, "\",\"value\":1}"),
                        "invalid UTF-8"),
                Arguments.of("UTF-8 encoded surrogate", raw("{\"metric\":\"m", 0xED, 0xA0, 0x80, "\",\"value\":1}"),
                        "invalid UTF-8"),
                Arguments.of("code point past U+10FFFF", raw("{\"metric\":\"m", 0xF4, 0x90, 0x80, 0x80, "\",\"value\":1}"),
                        "invalid UTF-8"),
                Arguments.of("truncated UTF-8 sequence", raw("{\"metric\":\"m", 0xE2, 0x82, "\",\"value\":1}"),
                        "invalid UTF-8"),
                Arguments.of("UTF-16 byte order mark", raw("", 0xFE, 0xFF, "{\"metric\":\"m\",\"value\":1}"), "invalid UTF-8"),
                Arguments.of("NUL at line start", raw("", 0x00, "{\"metric\":\"m\",\"value\":1}"),
                        LineDecoder.CONTROL_CHARACTER),
                Arguments.of("UTF-16LE-looking line", raw("{", 0x00, "\"", 0x00, "}"), LineDecoder.CONTROL_CHARACTER),
                Arguments.of("raw NUL in a string", raw("{\"metric\":\"a", 0x00, "b\",\"value\":1}"),
                        LineDecoder.CONTROL_CHARACTER),
                Arguments.of("raw control character in a string", "{\"metric\":\"a\u0001b\",\"value\":1}",
                        LineDecoder.CONTROL_CHARACTER),
                Arguments.of("NUL after the object", raw("{\"metric\":\"m\",\"value\":1}", 0x00), LineDecoder.CONTROL_CHARACTER),
                Arguments.of("escaped NUL in the metric", "{\"metric\":\"a\\u0000b\",\"value\":1}",
                        "metric must not contain control characters"),
                Arguments.of("1 MB of whitespace", " ".repeat(1 << 20), "line exceeds 1024 bytes"),
                Arguments.of("1 MB of whitespace inside an object", "{\"metric\":\"m\"," + " ".repeat(1 << 20) + "\"value\":1}",
                        "line exceeds 1024 bytes"),
                Arguments.of("nesting past 32 levels", "{\"metric\":\"m\",\"value\":1,\"x\":" + "[".repeat(40) + "]".repeat(40) + "}",
                        LineDecoder.TOO_DEEP),
                Arguments.of("value longer than 32 characters", "{\"metric\":\"m\",\"value\":" + "9".repeat(40) + "}",
                        "value must be a finite number"),
                Arguments.of("timestamp longer than 32 characters", "{\"metric\":\"m\",\"value\":1,\"timestamp\":" + "1".repeat(40) + "}",
                        "timestamp must be epoch milliseconds or an RFC 3339 string"),
                Arguments.of("long number in an unknown field", "{\"metric\":\"m\",\"value\":1,\"x\":" + "1".repeat(40) + "}",
                        LineDecoder.NUMBER_TOO_LONG),
                Arguments.of("duplicate tag key", "{\"metric\":\"m\",\"value\":1,\"tags\":{\"a\":\"1\",\"a\":\"2\"}}",
                        "duplicate tag key"),
                Arguments.of("duplicate key in an unknown field", "{\"metric\":\"m\",\"value\":1,\"x\":{\"a\":1,\"a\":2}}",
                        "duplicate field 'a'"),
                Arguments.of("duplicate unknown field", "{\"metric\":\"m\",\"value\":1,\"x\":1,\"x\":1}",
                        "duplicate field 'x'"),
                Arguments.of("negative infinity", "{\"metric\":\"m\",\"value\":-Infinity}", "value must be a finite number"),
                Arguments.of("leading zero", "{\"metric\":\"m\",\"value\":01}", "invalid JSON"),
                Arguments.of("leading plus", "{\"metric\":\"m\",\"value\":+1}", "invalid JSON"),
                Arguments.of("single quotes", "{'metric':\"m\",\"value\":1}", "invalid JSON"),
                Arguments.of("trailing comma", "{\"metric\":\"m\",\"value\":1,}", "invalid JSON"),
                Arguments.of("comment", "{\"metric\":\"m\",\"value\":1} // note", "invalid JSON"),
                Arguments.of("object then a number", "{\"metric\":\"m\",\"value\":1} 2", LineDecoder.ONE_OBJECT),
                Arguments.of("bare string", "\"metric\"", "line must be a JSON object"));
    }

    /** A line of text and raw bytes: strings are UTF-8, integers are single bytes. */
    private static byte[] raw(Object... parts) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        for (Object part : parts) {
            if (part instanceof String text) {
                b.writeBytes(text.getBytes(StandardCharsets.UTF_8));
            } else if (part instanceof byte[] bytes) {
                b.writeBytes(bytes);
            } else {
                b.write((Integer) part);
            }
        }
        return b.toByteArray();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badLines")
    void badLineGetsOneErrorWithItsLineNumberAndNeighboursAreCounted(String name, Object bad, String message)
            throws Exception {
        try (LineClient client = server.connect()) {
            client.send(raw("{\"metric\":\"good\",\"value\":1}\n\n",
                    bad,
                    "\n{\"metric\":\"good\",\"value\":2}\n"));
            JsonNode ack = client.sync(name.replace(' ', '-'));
            assertEquals(1, client.errors().size(), client.errors().toString());
            JsonNode error = client.errors().get(0);
            assertEquals(message, error.get("error").asText());
            assertEquals(3, error.get("line").asInt(), "line numbers count the blank line too");
            assertEquals(2, ack.get("accepted").asLong());
            assertEquals(1, ack.get("rejected").asLong());
        }
    }

    static Stream<Arguments> toleratedLines() {
        return Stream.of(
                Arguments.of("UTF-8 byte order mark at line start", raw(0xEF, 0xBB, 0xBF, "{\"metric\":\"bom\",\"value\":1}")),
                Arguments.of("escaped surrogate pair", raw("{\"metric\":\"m\\ud83d\\ude00\",\"value\":1}")),
                Arguments.of("raw 4-byte UTF-8", raw("{\"metric\":\"m\",\"value\":1,\"tags\":{\"k\":\"", 0xF0, 0x9F, 0x98, 0x80, "\"}}")),
                Arguments.of("tabs and CR around tokens", raw("\t{ \"metric\" :\t\"m\" , \"value\": 1 }\t\r")));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("toleratedLines")
    void toleratedLineIsAccepted(String name, byte[] line) throws Exception {
        try (LineClient client = server.connect()) {
            client.send(raw(line, "\n{\"metric\":\"good\",\"value\":2}\n"));
            JsonNode ack = client.sync(name.replace(' ', '-'));
            assertEquals(List.of(), client.errors());
            assertEquals(2, ack.get("accepted").asLong());
        }
    }

    @Test
    void aMegabyteOfBlankLinesIsSkippedSilentlyButCounted() throws Exception {
        try (LineClient client = server.connect()) {
            client.send("\n".repeat(1 << 20) + "{\"metric\":\"m\",\"value\":\"x\"}\n");
            JsonNode ack = client.sync("blank");
            assertEquals(1, client.errors().size());
            assertEquals((1 << 20) + 1, client.errors().get(0).get("line").asInt());
            assertEquals(0, ack.get("accepted").asLong());
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
