package dev.meterline.ingest;

import dev.meterline.model.Point;
import dev.meterline.model.Reject;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The parser shared by the lines of one read gives exactly what one parser per line gives. */
class LineDecoderTest {

    private static final String[] LINES = {
            "{\"metric\":\"a\",\"value\":1,\"timestamp\":1000,\"tags\":{\"h\":\"x\",\"b\":\"y\"}}",
            "{\"metric\":\"a\",",
            "\"value\":2}",
            "{\"metric\":\"a\",\"value\":3} {\"metric\":\"b\",\"value\":4}",
            "   {\"metric\":\"c\",\"value\":5}   \r",
            "",
            "  \t ",
            "{\"metric\":\"d\",\"value\":NaN}",
            "{\"metric\":\"e\",\"value\":6}",
            "[1,2]",
            "{\"sync\":\"s1\"}",
            "\uFEFF{\"metric\":\"f\",\"value\":7}",
            "{\"metric\":\"g\",\"value\":8,\"value\":9}",
            "{\"metric\":\"h\",\"value\":10",
            "}",
            "{\"metric\":\"i\",\"value\":11,\"tags\":{\"k\":\"v\",\"k\":\"w\"}}",
            "{\"metric\":\"j\",\"value\":12}x",
            "{\"metric\":\"k\",\"value\":13,\"tags\":{\"q\":\"v\"}}",
            "x".repeat(200),
            "{\"metric\":\"l\",\"value\":14}",
            "{\"metric\":\"a\",\"value\":15,\"timestamp\":1000,\"tags\":{\"h\":\"x\",\"b\":\"y\"}}",
            "{\"metric\":\"b\",\"value\":16,\"timestamp\":1000,\"tags\":{\"h\":\"x\",\"b\":\"y\"}}",
            "{\"metric\":\"a\",\"value\":17,\"tags\":{\"h\":\"x\",\"b\":\"y\",\"b\":\"z\"}}",
            "{\"metric\":\"a\",\"value\":18,\"tags\":{\"b\":\"y\",\"h\":\"x\"}}",
    };

    @Test
    void oneReadOfManyLinesDecodesLikeOneReadPerLine() {
        StringBuilder all = new StringBuilder();
        for (String l : LINES) {
            all.append(l).append('\n');
        }
        List<String> together = decode(List.of(all.toString()));
        List<String> apart = new ArrayList<>();
        for (String l : LINES) {
            apart.add(l + "\n");
        }
        List<String> separately = decode(apart);
        assertEquals(separately, together);
        assertEquals("point a{b=y, h=x} 1.0 @1000 line 1", together.get(0));
        assertEquals("reject 2 invalid_json", together.get(1));
        assertEquals("reject 3 not_an_object", together.get(2));
        assertEquals("reject 4 invalid_json", together.get(3));
        assertEquals("point c{} 5.0 @999 line 5", together.get(4));
        int n = together.size();
        assertEquals("point a{b=y, h=x} 15.0 @1000 line 21", together.get(n - 4));
        assertEquals("point b{b=y, h=x} 16.0 @1000 line 22", together.get(n - 3));
        assertEquals("reject 23 tag_duplicate", together.get(n - 2));
        assertEquals("point a{b=y, h=x} 18.0 @999 line 24", together.get(n - 1));
    }

    private static List<String> decode(List<String> reads) {
        List<String> seen = new ArrayList<>();
        LineDecoder d = new IngestCodec(100, 32).decoder(new LineDecoder.Output() {
            @Override
            public void point(Point p) {
                seen.add("point " + p.series() + " " + p.value() + " @" + p.timestamp() + " line " + p.line());
            }

            @Override
            public void reject(Reject r) {
                seen.add("reject " + r.line() + " " + r.reason().name().toLowerCase());
            }

            @Override
            public void sync(String id, int line) {
                seen.add("sync " + id + " line " + line);
            }
        });
        for (String r : reads) {
            byte[] b = r.getBytes(StandardCharsets.UTF_8);
            d.decode(b, 0, b.length, 999);
        }
        d.finish(999);
        return seen;
    }
}
