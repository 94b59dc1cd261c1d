package dev.meterline.ingest;

import dev.meterline.model.Point;
import dev.meterline.model.Reject;
import dev.meterline.telemetry.RejectReason;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Property-based fuzzing of the line decoder with generated, mutated and token-soup lines, cut into reads at random
 * places: nothing but a point, a reject or a sync comes out (never an exception, never an internal error), every
 * non-blank line gets exactly one answer with its own line number, and a valid line after garbage is accepted.
 * The default build runs {@code jqwik.tries.default} tries (2000, in {@code junit-platform.properties}); the
 * {@code fuzz} profile runs a million.
 */
class DecoderFuzzTest {

    private static final int MAX_LINE = 256;
    private static final byte[] GOOD = "{\"metric\":\"after\",\"value\":7}".getBytes(StandardCharsets.UTF_8);

    private static final String[] TOKENS = {
        "{", "}", "[", "]", ":", ",", "\"", "\\", "\"metric\"", "\"value\"", "\"timestamp\"", "\"tags\"", "\"sync\"",
        "\"m\"", "\"k\"", "1", "-0", "1e999", "0.5", "12345678901234567890123456789012345", "NaN", "Infinity",
        "null", "true", "\"\\ud800\"", "\"\\udc00\\ud800\"", "\"\\ud83d\\ude00\"", "\"\\u0000\"", "\"2026-11-25T10:00:00Z\"",
        " ", "\t", "\r", "\u00e9", "\ufeff", "\u0000", "\u0001", "/*", "'", "\"x\"", "{\"a\":{\"a\":", "[[[[[[[[",
    };

    /** What one decode produced, in order. */
    private static final class Recorder implements LineDecoder.Output {
        final List<Integer> lines = new ArrayList<>();
        final List<Object> outputs = new ArrayList<>();

        @Override
        public void point(Point point) {
            lines.add(point.line());
            outputs.add(point);
        }

        @Override
        public void reject(Reject reject) {
            lines.add(reject.line());
            outputs.add(reject);
        }

        @Override
        public void sync(String id, int line) {
            lines.add(line);
            outputs.add("sync " + id);
        }
    }

    @Property
    void everyNonBlankLineGetsExactlyOneAnswerAndTheNextGoodLineIsAccepted(
            @ForAll("lines") List<byte[]> lines, @ForAll("cuts") List<Integer> cuts) {
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        List<Integer> expectedLines = new ArrayList<>();
        int n = 0;
        for (byte[] line : lines) {
            n++;
            all.writeBytes(line);
            all.write('\n');
            if (!isBlank(line)) {
                expectedLines.add(n);
            }
        }
        all.writeBytes(GOOD);
        all.write('\n');
        expectedLines.add(n + 1);
        byte[] input = all.toByteArray();

        Recorder out = new Recorder();
        LineDecoder decoder = new IngestCodec(MAX_LINE, 8).decoder(out);
        int from = 0;
        for (int cut : cuts) {
            int to = Math.min(input.length, from + cut);
            decoder.decode(input, from, to - from, 1L);
            from = to;
        }
        decoder.decode(input, from, input.length - from, 1L);
        decoder.finish(1L);

        assertEquals(expectedLines, out.lines, "one answer per non-blank line, in order");
        for (Object o : out.outputs) {
            if (o instanceof Reject r) {
                assertTrue(r.reason() != RejectReason.INTERNAL_ERROR, "decoder threw on a line: " + r);
                assertTrue(r.message().length() < 200, "reply stays small: " + r.message());
            }
        }
        Object last = out.outputs.get(out.outputs.size() - 1);
        assertTrue(last instanceof Point p && p.series().metric().equals("after") && p.value() == 7,
                "the good line after the input is accepted, got " + last);
    }

    /** Blank as the decoder sees it: only spaces, tabs and CRs, and not longer than the line limit. */
    private static boolean isBlank(byte[] line) {
        int len = line.length;
        if (len > 0 && line[len - 1] == '\r') {
            len--;
        }
        if (len > MAX_LINE) {
            return false;
        }
        for (int i = 0; i < len; i++) {
            if (line[i] != ' ' && line[i] != '\t' && line[i] != '\r') {
                return false;
            }
        }
        return true;
    }

    @Provide
    Arbitrary<List<Integer>> cuts() {
        return Arbitraries.integers().between(1, 400).list().ofMaxSize(6);
    }

    @Provide
    Arbitrary<List<byte[]>> lines() {
        return Arbitraries.frequencyOf(
                        net.jqwik.api.Tuple.of(3, validLines()),
                        net.jqwik.api.Tuple.of(4, mutatedLines()),
                        net.jqwik.api.Tuple.of(3, tokenSoup()),
                        net.jqwik.api.Tuple.of(1, randomBytes()))
                .list().ofMinSize(1).ofMaxSize(5);
    }

    private static Arbitrary<byte[]> validLines() {
        Arbitrary<String> text = Arbitraries.strings().withCharRange(' ', '~').withChars('\u00e9', '\u20ac', '\ud83d')
                .ofMaxLength(12);
        Arbitrary<String> number = Arbitraries.oneOf(
                Arbitraries.doubles().map(String::valueOf),
                Arbitraries.longs().map(String::valueOf),
                Arbitraries.of("0", "-0.0", "1e308", "1E-5", "5e-324"));
        Arbitrary<String> tags = Combinators.combine(text, text).as((k, v) -> quote(k) + ":" + quote(v))
                .list().ofMaxSize(4).map(l -> "{" + String.join(",", l) + "}");
        return Combinators.combine(text, number, tags, Arbitraries.integers().between(0, 3))
                .as((metric, value, tagObj, shape) -> {
                    String body = switch (shape) {
                        case 0 -> "\"metric\":" + quote(metric) + ",\"value\":" + value;
                        case 1 -> "\"value\":" + value + ",\"tags\":" + tagObj + ",\"metric\":" + quote(metric);
                        case 2 -> "\"metric\":" + quote(metric) + ",\"value\":" + value + ",\"timestamp\":1,\"x\":[1,{}]";
                        default -> "\"sync\":" + quote(metric);
                    };
                    return ("{" + body + "}").getBytes(StandardCharsets.UTF_8);
                });
    }

    private static Arbitrary<byte[]> mutatedLines() {
        Arbitrary<int[]> mutation = Combinators.combine(Arbitraries.integers().between(0, 4),
                        Arbitraries.integers().between(0, 10_000), Arbitraries.integers().between(0, 255))
                .as((kind, pos, b) -> new int[] {kind, pos, b});
        return Combinators.combine(validLines(), mutation.list().ofMinSize(1).ofMaxSize(4))
                .as(DecoderFuzzTest::mutate);
    }

    /** Flips, inserts, deletes, duplicates or truncates at the given places; never introduces a newline. */
    private static byte[] mutate(byte[] line, List<int[]> mutations) {
        List<Byte> bytes = new ArrayList<>(line.length + 8);
        for (byte b : line) {
            bytes.add(b);
        }
        for (int[] m : mutations) {
            int size = bytes.size();
            int pos = size == 0 ? 0 : m[1] % size;
            byte b = (byte) (m[2] == '\n' ? ' ' : m[2]);
            switch (m[0]) {
                case 0 -> {
                    if (size > 0) {
                        bytes.set(pos, b);
                    }
                }
                case 1 -> bytes.add(pos, b);
                case 2 -> {
                    if (size > 0) {
                        bytes.remove(pos);
                    }
                }
                case 3 -> bytes.addAll(pos, new ArrayList<>(bytes.subList(pos, Math.min(size, pos + 40))));
                default -> bytes.subList(pos, size).clear();
            }
        }
        byte[] out = new byte[bytes.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = bytes.get(i);
        }
        return out;
    }

    private static Arbitrary<byte[]> tokenSoup() {
        return Arbitraries.of(TOKENS).list().ofMaxSize(40)
                .map(l -> String.join("", l).getBytes(StandardCharsets.UTF_8));
    }

    private static Arbitrary<byte[]> randomBytes() {
        return Arbitraries.bytes().filter(b -> b != '\n').array(byte[].class).ofMaxSize(400);
    }

    private static String quote(String s) {
        StringBuilder sb = new StringBuilder();
        IngestCodec.quote(sb, s);
        return sb.toString();
    }
}
