package dev.meterline.ingest;

import dev.meterline.model.Point;
import dev.meterline.model.Reject;
import dev.meterline.model.RejectReason;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The parser shared by the lines of one read gives exactly what one parser per line gives (every hardening rule and
 * message included), and clean lines really take the shared path.
 */
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
            // The hardening rules, each between clean lines that the shared parser takes.
            "{\"metric\":\"a\",\"value\":19}",
            "\u0000{\"metric\":\"a\",\"value\":1}",
            "{\"metric\":\"a\",\"value\":20}",
            "{\"metric\":\"\\ud800x\",\"value\":1}",
            "{\"metric\":\"a\",\"value\":21,\"tags\":{\"k\":\"\\udc00\"}}",
            "{\"sync\":\"\\ud83d\"}",
            "{\"metric\":\"a\",\"value\":22,\"tags\":{\"k\":\"\\ud83d\\ude00\"}}",
            "{\"metric\":\"a\",\"value\":23,\"extra\":{\"z\":1,\"z\":2}}",
            "{\"x\":" + "[".repeat(35) + "]".repeat(35) + "}",
            "{\"metric\":\"a\",\"value\":1" + "0".repeat(40) + "}",
            "{\"metric\":\"a\",\"value\":25,\"extra\":1" + "0".repeat(40) + "}",
            "{\"metric\":\"a\\tb\u0001\",\"value\":26}",
            "{\"metric\":\"a\",\"value\":27,\"metric\":\"b\"}",
            "{\"metric\":\"a\",\"value\":01}",
            "{\"metric\":\"a\",\"value\":28} // comment",
            "{'metric':'a','value':29}",
            "{\"metric\":\"a\",\"value\":30,\"timestamp\":1" + "0".repeat(40) + "}",
            "{\"sync\":\"s2\"}",
            "{\"metric\":\"after\",\"value\":1}",
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
        assertEquals(decode(List.of(all.toString()), false), decode(List.of(all.toString()), true));
        together = together.stream().map(LineDecoderTest::shortForm).toList();
        assertEquals("point a{b=y, h=x} 1.0 @1000 line 1", together.get(0));
        assertEquals("reject 2 invalid_json", together.get(1));
        assertEquals("reject 3 not_an_object", together.get(2));
        assertEquals("reject 4 invalid_json", together.get(3));
        assertEquals("point c{} 5.0 @999 line 5", together.get(4));
        int n = together.size();
        assertEquals("point a{b=y, h=x} 15.0 @1000 line 21", together.get(n - 23));
        assertEquals("point b{b=y, h=x} 16.0 @1000 line 22", together.get(n - 22));
        assertEquals("reject 23 tag_duplicate", together.get(n - 21));
        assertEquals("point a{b=y, h=x} 18.0 @999 line 24", together.get(n - 20));
        List<String> hardening = decode(List.of(all.toString())).subList(n - 19, n);
        assertEquals(List.of(
                "point a{} 19.0 @999 line 25",
                "reject 26 invalid_json " + LineDecoder.CONTROL_CHARACTER,
                "point a{} 20.0 @999 line 27",
                "reject 28 invalid_utf8 " + LineDecoder.UNPAIRED_SURROGATE,
                "reject 29 invalid_utf8 " + LineDecoder.UNPAIRED_SURROGATE,
                "reject 30 invalid_utf8 " + LineDecoder.UNPAIRED_SURROGATE,
                "point a{k=\ud83d\ude00} 22.0 @999 line 31",
                "reject 32 duplicate_field duplicate field 'z'",
                "reject 33 invalid_json " + LineDecoder.TOO_DEEP,
                "reject 34 value_invalid " + Reject.of(34, RejectReason.VALUE_INVALID).message(),
                "reject 35 invalid_json " + LineDecoder.NUMBER_TOO_LONG,
                "reject 36 invalid_json " + LineDecoder.CONTROL_CHARACTER,
                "reject 37 duplicate_field duplicate field 'metric'"), hardening.subList(0, 13));
        assertTrue(hardening.get(13).startsWith("reject 38 "), hardening.get(13));
        assertTrue(hardening.get(14).startsWith("reject 39 invalid_json"), hardening.get(14));
        assertTrue(hardening.get(15).startsWith("reject 40 invalid_json"), hardening.get(15));
        assertEquals("reject 41 timestamp_invalid " + Reject.of(41, RejectReason.TIMESTAMP_INVALID).message(),
                hardening.get(16));
        assertEquals("sync s2 line 42", hardening.get(17));
        assertEquals("point after{} 1.0 @999 line 43", hardening.get(18));
    }

    @Test
    void cleanLinesTakeTheSharedParser() {
        StringBuilder all = new StringBuilder();
        for (int i = 0; i < 1000; i++) {
            all.append("{\"metric\":\"m").append(i % 7).append("\",\"value\":").append(i * 0.5)
                    .append(",\"timestamp\":").append(1000 + i).append(",\"tags\":{\"host\":\"h").append(i % 13)
                    .append("\",\"region\":\"eu\"}}\n");
            if (i % 100 == 99) {
                all.append("{\"sync\":\"s").append(i).append("\"}\n");
            }
        }
        byte[] b = all.toString().getBytes(StandardCharsets.UTF_8);
        List<String> seen = new ArrayList<>();
        LineDecoder d = decoder(seen);
        d.decode(b, 0, b.length, 999);
        d.finish(999);
        assertEquals(1010, seen.size());
        assertEquals(1000, d.plainLines(), "every point line of the plain shape is read without Jackson");
        assertEquals(10, d.sharedLines(), "the syncs go through the shared parser");
    }

    /**
     * Lines of the plain shape and lines just outside it (escapes, other bytes, every number form, whitespace,
     * repeated fields and tags, too many tags, other value types) decode exactly as a Jackson parser per line
     * decodes them: the same points (values to the bit, -0.0 included), rejects and messages, in the same order.
     */
    @Test
    void plainLinesDecodeAsJacksonDoes() {
        long plainTotal = 0;
        long lineTotal = 0;
        for (int t = 0; t < 3000; t++) {
            SplittableRandom rnd = new SplittableRandom(0x91a1 + t);
            StringBuilder in = new StringBuilder();
            int lines = 1 + rnd.nextInt(30);
            lineTotal += lines;
            for (int i = 0; i < lines; i++) {
                in.append(plainishLine(rnd)).append('\n');
            }
            byte[] input = in.toString().getBytes(StandardCharsets.UTF_8);
            int[] cuts = rnd.nextBoolean() ? new int[0] : rnd.ints(1 + rnd.nextInt(3), 0, input.length + 1)
                    .sorted().toArray();
            List<String> reference = new ArrayList<>();
            run(decoder(reference, 512, 4).shareParser(false), input, cuts);
            List<String> fast = new ArrayList<>();
            LineDecoder d = decoder(fast, 512, 4);
            run(d, input, cuts);
            plainTotal += d.plainLines();
            assertEquals(reference, fast, "try " + t + ": " + escape(input));
        }
        assertTrue(plainTotal > lineTotal / 4, "plain lines: " + plainTotal + " of " + lineTotal);
    }

    @Test
    void aPointWithManyTagsIsReadPlainUpToTheLimit() {
        StringBuilder ok = new StringBuilder("{\"metric\":\"m\",\"value\":1,\"tags\":{");
        StringBuilder over = new StringBuilder("{\"metric\":\"m\",\"value\":1,\"tags\":{");
        for (int i = 0; i < 33; i++) {
            if (i < 32) {
                ok.append(i == 0 ? "" : ",").append("\"k").append(i).append("\":\"v\"");
            }
            over.append(i == 0 ? "" : ",").append("\"k").append(i).append("\":\"v\"");
        }
        byte[] input = (ok + "}}\n" + over + "}}\n").getBytes(StandardCharsets.UTF_8);
        List<String> seen = new ArrayList<>();
        LineDecoder d = decoder(seen, 4096, 32);
        d.decode(input, 0, input.length, 999);
        assertEquals(2, seen.size(), seen.toString());
        assertTrue(seen.get(0).startsWith("point m{k0=v, k1=v, k10=v"), seen.get(0));
        assertEquals("reject 2 too_many_tags", shortForm(seen.get(1)));
        assertEquals(1, d.plainLines(), "the line over the limit goes to Jackson, which answers it");
    }

    /**
     * Plain lines one byte either side of the length limit, with and without a trailing {@code \r} and spaces, cut
     * into reads anywhere: the plain reader answers as the reference path does.
     */
    @Test
    void plainLinesAtTheLengthLimitDecodeAsJacksonDoes() {
        int max = 100;
        long plainTotal = 0;
        for (int len = max - 3; len <= max + 3; len++) {
            for (String end : new String[] {"\n", "\r\n", " \n", " \r\n", "\r\r\n"}) {
                String head = "{\"metric\":\"m\",\"value\":1.25,\"tags\":{\"k\":\"";
                String tail = "\"}}";
                String body = head + "v".repeat(len - head.length() - tail.length()) + tail;
                byte[] input = (body + end + body + end).getBytes(StandardCharsets.ISO_8859_1);
                for (int cut = 0; cut <= input.length; cut += 7) {
                    int[] cuts = {cut};
                    List<String> reference = new ArrayList<>();
                    run(decoder(reference, max, 4).shareParser(false), input, cuts);
                    List<String> fast = new ArrayList<>();
                    LineDecoder d = decoder(fast, max, 4);
                    run(d, input, cuts);
                    plainTotal += d.plainLines();
                    assertEquals(reference, fast, "cut " + cut + ": " + escape(input));
                }
            }
        }
        assertTrue(plainTotal > 100, "plain lines: " + plainTotal);
    }

    private static final String[] NUMBERS = {
            "0", "-0", "0.0", "-0.0", "1", "-1", "0.1", "0.5", "1.5", "100.25", "3.14159", "1e5", "1E5", "1e+5", "1e-5",
            "1.0E-5", "2.5e22", "1e22", "1e23", "9007199254740992", "9007199254740993", "123456789012345678",
            "1234567890123456789", "-123456789012345678", "0.1234567890123456789", "4.9e-324", "5e-324",
            "2.2250738585072014E-308", "1.7976931348623157e308", "1e308", "1e309", "-1e309", "1e-400", "01", "-01",
            "1.", ".5", "+1", "1e", "1e+", "-", "1.5.5", "1e5.5", "0x10", "1e00005", "1e0005", "12345678901234567890123",
            "1234567890.1234567890123", "0.000000000000000000001", "00", "1_0", "NaN", "true", "null", "\"1\"",
    };
    private static final String[] STRINGS = {
            "a", "cpu.load", "h1", "eu-west-1", "", " ", "a b", "x\\\"y", "\\u0061", "caf\u00e9", "\u00e9t\u00e9",
            "tab\\tin", "\u007f", "~", "{}", "[", ":", ",", "\\\\", "s".repeat(127), "t".repeat(128),
    };

    /** A line of the plain shape, usually, with one or two things about it changed now and then. */
    private static String plainishLine(SplittableRandom rnd) {
        List<String> fields = new ArrayList<>();
        String metric = rnd.nextInt(4) == 0 ? STRINGS[rnd.nextInt(STRINGS.length)] : "m" + rnd.nextInt(5);
        fields.add("\"metric\":" + ws(rnd) + "\"" + metric + "\"");
        fields.add("\"value\":" + ws(rnd) + number(rnd));
        if (rnd.nextBoolean()) {
            String ts = switch (rnd.nextInt(6)) {
                case 0 -> NUMBERS[rnd.nextInt(NUMBERS.length)];
                case 1 -> "\"2026-11-25T10:00:00Z\"";
                case 2 -> "null";
                default -> String.valueOf(rnd.nextLong(-5, 2_000_000_000_000L));
            };
            fields.add("\"timestamp\":" + ts);
        }
        if (rnd.nextInt(5) != 0) {
            StringBuilder tags = new StringBuilder("{");
            int n = rnd.nextInt(6);
            for (int i = 0; i < n; i++) {
                if (i > 0) {
                    tags.append(',').append(ws(rnd));
                }
                String key = rnd.nextInt(8) == 0 ? STRINGS[rnd.nextInt(STRINGS.length)] : "k" + rnd.nextInt(6);
                String value = rnd.nextInt(6) == 0 ? STRINGS[rnd.nextInt(STRINGS.length)] : "v" + rnd.nextInt(50);
                tags.append('"').append(key).append("\":").append(ws(rnd)).append('"').append(value).append('"');
            }
            fields.add("\"tags\":" + (rnd.nextInt(20) == 0 ? "null" : tags.append(ws(rnd)).append('}')));
        }
        switch (rnd.nextInt(12)) {
            case 0 -> fields.add("\"value\":2");
            case 1 -> fields.add("\"other\":1");
            case 2 -> fields.add("\"sync\":\"s\"");
            case 3 -> fields.remove(rnd.nextInt(fields.size()));
            default -> { }
        }
        java.util.Collections.shuffle(fields, new java.util.Random(rnd.nextLong()));
        String line = ws(rnd) + "{" + ws(rnd) + String.join("," + ws(rnd), fields) + ws(rnd) + "}" + ws(rnd);
        if (rnd.nextInt(25) == 0) {
            int at = rnd.nextInt(line.length() + 1);
            line = line.substring(0, at) + PIECES[rnd.nextInt(PIECES.length)] + line.substring(at);
        }
        return line;
    }

    private static String number(SplittableRandom rnd) {
        return switch (rnd.nextInt(5)) {
            case 0 -> NUMBERS[rnd.nextInt(NUMBERS.length)];
            case 1 -> Double.toString(Double.longBitsToDouble(rnd.nextLong()));
            case 2 -> Double.toString(rnd.nextDouble() * Math.pow(10, rnd.nextInt(-30, 30)));
            case 3 -> String.valueOf(rnd.nextLong(-1_000_000, 1_000_000) / 100.0);
            default -> String.valueOf(rnd.nextLong(-1L << 60, 1L << 60) >> rnd.nextInt(60));
        };
    }

    private static String ws(SplittableRandom rnd) {
        return switch (rnd.nextInt(12)) {
            case 0 -> " ";
            case 1 -> "\t";
            case 2 -> "  ";
            case 3 -> rnd.nextInt(8) == 0 ? "\r" : " ";
            default -> "";
        };
    }

    /**
     * Random lines, clean and broken (every hardening rule among them), cut into random reads: the shared parser
     * with its fallback gives exactly the answers of a parser per line, in order, with the same messages and keys.
     */
    @Test
    void randomInputDecodesTheSameThroughBothPaths() {
        long sharedTotal = 0;
        for (int t = 0; t < 2000; t++) {
            SplittableRandom rnd = new SplittableRandom(0x5eed + t);
            ByteArrayOutputStream in = new ByteArrayOutputStream();
            int lines = 1 + rnd.nextInt(40);
            for (int i = 0; i < lines; i++) {
                in.writeBytes(randomLine(rnd));
                in.writeBytes(rnd.nextInt(10) == 0 ? new byte[] {'\r', '\n'} : new byte[] {'\n'});
            }
            byte[] input = in.toByteArray();
            int[] cuts = rnd.nextInt(3) == 0 ? new int[0] : rnd.ints(1 + rnd.nextInt(4), 0, input.length + 1)
                    .sorted().toArray();
            List<String> perLine = new ArrayList<>();
            run(decoder(perLine).shareParser(false), input, cuts);
            List<String> sharedOut = new ArrayList<>();
            LineDecoder d = decoder(sharedOut);
            run(d, input, cuts);
            sharedTotal += d.sharedLines() + d.plainLines();
            assertEquals(perLine, sharedOut, "try " + t + ": " + escape(input));
        }
        assertTrue(sharedTotal > 5_000, "lines taken by a fast path: " + sharedTotal);
    }

    private static final String[] CLEAN = {
            "{\"metric\":\"cpu\",\"value\":1.5,\"tags\":{\"host\":\"a\",\"dc\":\"x\"}}",
            "{\"metric\":\"cpu\",\"value\":2,\"tags\":{\"host\":\"b\",\"dc\":\"x\"}}",
            "{\"metric\":\"mem\",\"value\":-3e2,\"timestamp\":12345,\"tags\":{\"host\":\"a\"}}",
            "  {\"value\":4,\"metric\":\"cpu\",\"tags\":{\"dc\":\"x\",\"host\":\"a\"}}  ",
            "{\"metric\":\"cpu\",\"value\":5,\"timestamp\":\"2026-11-25T10:00:00Z\",\"tags\":{\"host\":\"a\",\"dc\":\"x\"}}",
            "{\"metric\":\"cpu\",\"value\":6,\"tags\":{\"host\":\"\\u0061\",\"dc\":\"x\"}}",
            "{\"metric\":\"cpu\",\"value\":7,\"tags\":{},\"other\":[1,{\"a\":null}]}",
            "{\"sync\":\"q\"}",
            "{\"metric\":\"\u00e9t\u00e9\",\"value\":8,\"tags\":{\"k\":\"\\ud83d\\ude00\"}}",
    };

    private static final String[] PIECES = {
            "{", "}", "[", "]", ":", ",", "\"", "\\", "\"metric\"", "\"value\"", "\"tags\"", "\"sync\"", "\"timestamp\"",
            "1", "NaN", "1" + "0".repeat(40), "\"\\ud800\"", "\"\\udc00\"", "\u0000", "\u0001", "\ufeff", "\t", " ",
            "\"k\":\"v\"", "\"k\":\"v\",\"k\":\"w\"", "[[[[[[[[[[[[[[[[[[[[", "]]]]]]]]]]", "null", "'", "/*",
    };

    private static byte[] randomLine(SplittableRandom rnd) {
        int kind = rnd.nextInt(10);
        String clean = CLEAN[rnd.nextInt(CLEAN.length)];
        if (kind < 5) {
            return clean.getBytes(StandardCharsets.UTF_8);
        }
        if (kind < 8) {
            // a clean line with a piece inserted, or cut short (an object left open over the line's end)
            int at = rnd.nextInt(clean.length() + 1);
            String s = rnd.nextBoolean()
                    ? clean.substring(0, at) + PIECES[rnd.nextInt(PIECES.length)] + clean.substring(at)
                    : clean.substring(0, at);
            return s.getBytes(StandardCharsets.UTF_8);
        }
        if (kind == 8) {
            StringBuilder sb = new StringBuilder();
            for (int i = rnd.nextInt(8); i >= 0; i--) {
                sb.append(PIECES[rnd.nextInt(PIECES.length)]);
            }
            return sb.toString().getBytes(StandardCharsets.UTF_8);
        }
        byte[] b = clean.getBytes(StandardCharsets.UTF_8);
        int n = 1 + rnd.nextInt(3);
        for (int i = 0; i < n; i++) {
            byte r = (byte) rnd.nextInt(256);
            b[rnd.nextInt(b.length)] = r == '\n' ? 0 : r;
        }
        return b;
    }

    private static void run(LineDecoder d, byte[] input, int[] cuts) {
        int from = 0;
        for (int cut : cuts) {
            d.decode(input, from, cut - from, 999);
            from = cut;
        }
        d.decode(input, from, input.length - from, 999);
        d.finish(999);
    }

    private static String escape(byte[] b) {
        StringBuilder sb = new StringBuilder();
        for (byte x : b) {
            int c = x & 0xFF;
            sb.append(c >= 0x20 && c < 0x7F ? String.valueOf((char) c) : String.format("\\x%02x", c));
        }
        return sb.toString();
    }

    /** A reject cut to its line number and reason (the message left out); other outcomes unchanged. */
    private static String shortForm(String s) {
        if (!s.startsWith("reject ")) {
            return s;
        }
        String[] parts = s.split(" ", 4);
        return parts[0] + " " + parts[1] + " " + parts[2];
    }

    private static List<String> decode(List<String> reads) {
        return decode(reads, true);
    }

    private static List<String> decode(List<String> reads, boolean share) {
        List<String> seen = new ArrayList<>();
        LineDecoder d = decoder(seen).shareParser(share);
        for (String r : reads) {
            byte[] b = r.getBytes(StandardCharsets.UTF_8);
            d.decode(b, 0, b.length, 999);
        }
        d.finish(999);
        return seen;
    }

    private static LineDecoder decoder(List<String> seen) {
        return decoder(seen, 100, 32);
    }

    private static LineDecoder decoder(List<String> seen, int maxLineBytes, int maxTags) {
        return new IngestCodec(maxLineBytes, maxTags).decoder(new LineDecoder.Output() {
            @Override
            public void point(Point p) {
                seen.add("point " + p.series() + " " + p.value() + " @" + p.timestamp() + " line " + p.line());
            }

            @Override
            public void reject(Reject r) {
                seen.add("reject " + r.line() + " " + r.reason().name().toLowerCase() + " " + r.message());
            }

            @Override
            public void sync(String id, int line) {
                seen.add("sync " + id + " line " + line);
            }
        });
    }
}
