package dev.meterline.ingest;

import dev.meterline.model.Point;
import dev.meterline.model.Reject;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Lines Jackson cannot read, each with the reject clients are told, on both the per-line and the fast paths: the
 * answers are named from the parser's state and the line's bytes, so a Jackson upgrade that changed its own
 * messages or stopping points shows up here.
 */
class JsonFailureTest {

    private static final String JSON = "invalid JSON";
    private static final String UTF8 = "invalid UTF-8";
    private static final String VALUE = "value must be a finite number";
    private static final String CONTROL = LineDecoder.CONTROL_CHARACTER;

    static Stream<Arguments> lines() {
        return Stream.of(
                Arguments.of(raw("{\"metric\":\"m\",\"value\":NaN}"), VALUE),
                Arguments.of(raw("{\"metric\":\"m\",\"value\":-Infinity}"), VALUE),
                Arguments.of(raw("{\"metric\":\"m\",\"value\":+Infinity}"), VALUE),
                Arguments.of(raw("{\"metric\":\"m\",\"value\" : tru}"), VALUE),
                Arguments.of(raw("{\"metric\":\"m\",\"value\":\u00e9}"), VALUE),
                Arguments.of(raw("{\"metric\":\"m\",\"value\":-Inf}"), VALUE),
                Arguments.of(raw("{\"metric\":\"m\",\"value\":-I}"), JSON),
                Arguments.of(raw("{\"metric\":\"m\",\"value\":-x}"), JSON),
                Arguments.of(raw("{\"metric\":\"m\",\"value\":+1}"), JSON),
                Arguments.of(raw("{\"metric\":\"m\",\"value\":'1'}"), JSON),
                Arguments.of(raw("{\"metric\":\"m\",\"value\":01}"), JSON),
                Arguments.of(raw("{\"metric\":\"m\",\"value\":1x}"), JSON),
                Arguments.of(raw("{\"metric\":\"m\",\"value\":\u00d7}"), JSON),
                Arguments.of(raw("{\"metric\":\"m\",\"value\":", 0xEF, 0xBB, 0xBF, "1}"), JSON),
                Arguments.of(raw("{\"metric\":\"m\",\"value\":[tru]}"), JSON),
                Arguments.of(raw("{\"metric\":\"m\",\"value\":1 tru}"), JSON),
                Arguments.of(raw("{\"metric\":\"m\",\"metric\""), "duplicate field 'metric'"),
                Arguments.of(raw("{\"metric\":\"m\",\"value\":1,\"metric\"x"), "duplicate field 'metric'"),
                Arguments.of(raw("{\"metric\":\"m\",\"value\":1,\"tags\":{\"a\":\"1\",\"a\"}}"), "duplicate tag key"),
                Arguments.of(raw("{\"sync\":\"s\"", 0x01, "null}"), CONTROL),
                Arguments.of(raw("{\"metric\":\"m\",", 0x1F, "\"value\":1}"), CONTROL),
                Arguments.of(raw("{\"metric\":\"m\",\"value\":1.", 0x09, "5}"), CONTROL),
                Arguments.of(raw("{\"metric\":\"m\",\"value\":-", 0x09, "5}"), CONTROL),
                Arguments.of(raw("{\"metric\":\"m\",\"value\":1 ", 0x09), JSON),
                Arguments.of(raw("{\"metric\":\"m\",\"value\":true", 0x00, "}"), CONTROL),
                Arguments.of(raw("{\"metric\":\"m\",\"value\":tru", 0x01, "}"), VALUE),
                Arguments.of(raw(0xEF, 0xBB, 0xBF, 0x01, "{}"), CONTROL),
                Arguments.of(raw("{\"metric\":\"m\",\"va", 0xBF, 0x09, "\":1}"), CONTROL),
                Arguments.of(raw("{\"metric\":\"m\",\"va", 0xBF, "\":1}"), UTF8),
                Arguments.of(raw("{\"metric\":\"m", 0xC3, 0x28, "\",\"value\":1}"), UTF8),
                Arguments.of(raw("{\"metric\":\"m", 0xE2, 0x82), JSON),
                Arguments.of(raw("{\"metric\":\"m\",\"value\":", 0xFF, "}"), UTF8),
                Arguments.of(raw("{\"metric\":\"m\",\"value\":1", 0xE2, 0x82, "}"), JSON),
                Arguments.of(raw("{\"metric\":\"m\",\"x\":" + "[".repeat(40) + "]".repeat(40) + "}"), LineDecoder.TOO_DEEP),
                Arguments.of(raw("{\"metric\":\"m\",\"value\":1,\"x\":[" + "1".repeat(40) + "]}"),
                        LineDecoder.NUMBER_TOO_LONG),
                Arguments.of(raw("{\"metric\":\"m\",\"timestamp\":" + "1".repeat(40) + "}"),
                        "timestamp must be epoch milliseconds or an RFC 3339 string"));
    }

    @ParameterizedTest
    @MethodSource("lines")
    void eachUnreadableLineGetsItsReject(byte[] line, String message) {
        for (boolean share : new boolean[] {false, true}) {
            List<String> seen = new ArrayList<>();
            LineDecoder d = new IngestCodec(256, 8).decoder(new LineDecoder.Output() {
                @Override
                public void point(Point p) {
                    seen.add("point");
                }

                @Override
                public void reject(Reject r) {
                    seen.add(r.message());
                }

                @Override
                public void sync(String id, int line) {
                    seen.add("sync");
                }
            }).shareParser(share);
            d.decode(line, 0, line.length, 0);
            d.finish(0);
            assertEquals(List.of(message), seen, "shareParser " + share);
        }
    }

    private static byte[] raw(Object... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (Object part : parts) {
            if (part instanceof String s) {
                out.writeBytes(s.getBytes(StandardCharsets.UTF_8));
            } else {
                out.write((Integer) part);
            }
        }
        return out.toByteArray();
    }
}
