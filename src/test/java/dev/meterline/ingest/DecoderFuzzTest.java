package dev.meterline.ingest;

import dev.meterline.model.Point;
import dev.meterline.model.Reject;
import dev.meterline.model.RejectReason;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ThreadLocalRandom;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * Seeded random fuzzing of the line decoder with generated, mutated, token-soup, blank and random-byte lines, cut
 * into reads at random places: nothing but a point, a reject or a sync comes out (never an exception, never an
 * internal error), every non-blank line gets exactly one answer with its own line number, and a valid line after
 * garbage is accepted.
 *
 * <p>System properties: {@code meterline.fuzz.tries} (default 2000; the {@code fuzz} profile sets a million),
 * {@code meterline.fuzz.seed} (a number, decimal or {@code 0x} hex, or {@code random}; default a fixed seed) and
 * {@code meterline.fuzz.try} (run only that try, to replay a failure). Try {@code t} draws everything from its own
 * generator seeded from (seed, t), so a failure replays with the same seed and try number. A failure is shrunk by
 * dropping lines, reads and byte ranges, and the message gives the seed, the try and the exact input, escaped.
 */
class DecoderFuzzTest {

    private static final long DEFAULT_SEED = 0x6d657465726c696eL;
    private static final int DEFAULT_TRIES = 2000;
    private static final int MAX_LINE = 256;
    private static final int MAX_TAGS = 8;
    private static final int SHRINK_BUDGET = 20_000;
    private static final byte[] GOOD = "{\"metric\":\"after\",\"value\":7}".getBytes(StandardCharsets.UTF_8);

    private static final String[] TOKENS = {
        "{", "}", "[", "]", ":", ",", "\"", "\\", "\"metric\"", "\"value\"", "\"timestamp\"", "\"tags\"", "\"sync\"",
        "\"m\"", "\"k\"", "1", "-0", "1e999", "0.5", "12345678901234567890123456789012345", "NaN", "Infinity",
        "null", "true", "\"\\ud800\"", "\"\\udc00\\ud800\"", "\"\\ud83d\\ude00\"", "\"\\u0000\"", "\"2026-11-25T10:00:00Z\"",
        " ", "\t", "\r", "\u00e9", "\ufeff", "\u0000", "\u0001", "/*", "'", "\"x\"", "{\"a\":{\"a\":", "[[[[[[[[",
    };
    private static final byte[][] TOKEN_BYTES = Arrays.stream(TOKENS)
            .map(t -> t.getBytes(StandardCharsets.UTF_8)).toArray(byte[][]::new);

    /** Byte sequences that are not UTF-8 (and two that are, to sit beside them). */
    private static final byte[][] UTF8_HAZARDS = {
        bytes(0xC0, 0x80), bytes(0xC1, 0xBF), bytes(0xE0, 0x80, 0x80), bytes(0xED, 0xA0, 0x80), bytes(0xED, 0xBF, 0xBF),
        bytes(0xF4, 0x90, 0x80, 0x80), bytes(0xF8, 0x88, 0x80, 0x80, 0x80), bytes(0x80), bytes(0xBF), bytes(0xE2, 0x82),
        bytes(0xF0, 0x9F, 0x98), bytes(0xC3), bytes(0xF5), bytes(0xFE), bytes(0xFF), bytes(0xFE, 0xFF), bytes(0xFF, 0xFE),
        bytes(0xEF, 0xBB, 0xBF), bytes(0xE2, 0x82, 0xAC), bytes(0xF0, 0x9F, 0x98, 0x80),
    };

    private static final String[] NUMBERS = {
        "0", "-0", "-0.0", "1e308", "1E-5", "5e-324", "4.9E-324", "1.7976931348623157E308", "2.2250738585072014E-308",
        String.valueOf(Long.MAX_VALUE), String.valueOf(Long.MIN_VALUE), "9223372036854775808", "1.0", "-1",
    };

    /** One try: the lines (without their newlines; the good line is added when run) and the read sizes. */
    private record Case(List<byte[]> lines, int[] reads) {

        byte[] input() {
            ByteArrayOutputStream all = new ByteArrayOutputStream();
            for (byte[] line : lines) {
                all.writeBytes(line);
                all.write('\n');
            }
            all.writeBytes(GOOD);
            all.write('\n');
            return all.toByteArray();
        }

        List<Integer> expectedLines() {
            List<Integer> expected = new ArrayList<>();
            for (int i = 0; i < lines.size(); i++) {
                if (!isBlank(lines.get(i))) {
                    expected.add(i + 1);
                }
            }
            expected.add(lines.size() + 1);
            return expected;
        }
    }

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

    /** What the decoder answered over the whole run, to show that the generators reach every kind of answer. */
    private static final class Tally {
        long lines;
        long bytes;
        long points;
        long syncs;
        final Map<RejectReason, Long> rejects = new EnumMap<>(RejectReason.class);

        void add(Case c, byte[] input, Recorder out) {
            lines += c.lines().size() + 1;
            bytes += input.length;
            for (Object o : out.outputs) {
                if (o instanceof Point) {
                    points++;
                } else if (o instanceof Reject r) {
                    rejects.merge(r.reason(), 1L, Long::sum);
                } else {
                    syncs++;
                }
            }
        }
    }

    @Test
    void everyNonBlankLineGetsExactlyOneAnswerAndTheNextGoodLineIsAccepted() {
        long seed = seed();
        int tries = Integer.parseInt(System.getProperty("meterline.fuzz.tries", String.valueOf(DEFAULT_TRIES)));
        String only = System.getProperty("meterline.fuzz.try", "");
        int first = only.isBlank() ? 0 : Integer.parseInt(only.trim());
        int end = only.isBlank() ? tries : first + 1;

        Tally tally = new Tally();
        long started = System.nanoTime();
        for (int t = first; t < end; t++) {
            Case c = generate(new SplittableRandom(mix(seed + mix(t))));
            String problem = check(c, tally);
            if (problem != null) {
                fail(report(seed, t, c, problem));
            }
        }
        long millis = (System.nanoTime() - started) / 1_000_000;
        System.out.printf("DecoderFuzzTest: seed=%s tries=%d (%d..%d) in %d ms; %d lines, %d bytes; %d points, %d syncs, "
                        + "rejects %s%n", hex(seed), end - first, first, end - 1, millis, tally.lines, tally.bytes,
                tally.points, tally.syncs, tally.rejects);
    }

    private static long seed() {
        String s = System.getProperty("meterline.fuzz.seed", "").trim();
        if (s.isEmpty()) {
            return DEFAULT_SEED;
        }
        if (s.equalsIgnoreCase("random")) {
            return ThreadLocalRandom.current().nextLong();
        }
        if (s.startsWith("0x") || s.startsWith("0X")) {
            return Long.parseUnsignedLong(s.substring(2), 16);
        }
        return Long.parseLong(s);
    }

    /** Stafford's variant 13 of the MurmurHash3 finalizer: unrelated seeds for neighbouring try numbers. */
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }

    /**
     * One codec for every try: a decoder's answers never depend on the codec's series key caches (a cached key equals
     * the one built), and a codec per try would allocate a fresh set of caches a million times.
     */
    private static final IngestCodec CODEC = new IngestCodec(MAX_LINE, MAX_TAGS);

    /** Runs one case through a fresh decoder; null when every property holds, else what went wrong. */
    private static String check(Case c, Tally tally) {
        byte[] input = c.input();
        Recorder out = new Recorder();
        try {
            LineDecoder decoder = CODEC.decoder(out);
            int from = 0;
            for (int read : c.reads()) {
                int to = Math.min(input.length, from + read);
                decoder.decode(input, from, to - from, 1L);
                from = to;
            }
            decoder.decode(input, from, input.length - from, 1L);
            decoder.finish(1L);
        } catch (RuntimeException | StackOverflowError e) {
            return "the decoder threw " + e + " at " + Arrays.toString(Arrays.copyOf(e.getStackTrace(),
                    Math.min(6, e.getStackTrace().length)));
        }
        if (tally != null) {
            tally.add(c, input, out);
        }
        List<Integer> expected = c.expectedLines();
        if (!expected.equals(out.lines)) {
            return "one answer per non-blank line, in order: expected answers for lines " + expected + ", got "
                    + out.lines + " " + out.outputs;
        }
        for (Object o : out.outputs) {
            if (o instanceof Reject r) {
                if (r.reason() == null || r.reason() == RejectReason.INTERNAL_ERROR) {
                    return "the decoder failed on a line: " + r;
                }
                if (r.message() == null || r.message().length() >= 200) {
                    return "a reply must stay small: " + r;
                }
            } else if (!(o instanceof Point) && !(o instanceof String)) {
                return "unexpected output " + o;
            }
        }
        Object last = out.outputs.get(out.outputs.size() - 1);
        if (!(last instanceof Point p && p.series().metric().equals("after") && p.value() == 7)) {
            return "the good line after the input must be accepted, got " + last;
        }
        return null;
    }

    private static String report(long seed, int t, Case c, String problem) {
        Case small = shrink(c);
        String smallProblem = check(small, null);
        return "decoder fuzzing failed: seed=" + hex(seed) + " try=" + t
                + " (replay: -Dmeterline.fuzz.seed=" + hex(seed) + " -Dmeterline.fuzz.try=" + t + ")\n"
                + describe(c, problem)
                + "shrunk to:\n" + describe(small, smallProblem);
    }

    private static String describe(Case c, String problem) {
        byte[] input = c.input();
        return "  problem: " + problem + "\n"
                + "  input (" + input.length + " bytes; \\n \\r \\t \\\\ and \\xNN outside printable ASCII; the last line"
                + " is the good line): \"" + escape(input) + "\"\n"
                + "  reads: " + Arrays.toString(c.reads()) + " bytes (cut short at the end of the input), then the rest\n";
    }

    private static String escape(byte[] bytes) {
        StringBuilder sb = new StringBuilder(bytes.length + 16);
        for (byte b : bytes) {
            int v = b & 0xFF;
            switch (v) {
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                case '\\' -> sb.append("\\\\");
                default -> {
                    if (v >= 0x20 && v < 0x7F) {
                        sb.append((char) v);
                    } else {
                        sb.append(String.format("\\x%02x", v));
                    }
                }
            }
        }
        return sb.toString();
    }

    private static String hex(long seed) {
        return "0x" + Long.toHexString(seed);
    }

    // ---- shrinking: greedy, keeps any change after which the case still fails ----

    private static Case shrink(Case c) {
        int[] budget = {SHRINK_BUDGET};
        boolean progress = true;
        while (progress && budget[0] > 0) {
            progress = false;
            for (int i = c.lines().size() - 1; i >= 0 && budget[0] > 0; i--) {
                List<byte[]> fewer = new ArrayList<>(c.lines());
                fewer.remove(i);
                Case candidate = new Case(fewer, c.reads());
                if (fails(candidate, budget)) {
                    c = candidate;
                    progress = true;
                }
            }
            for (int i = c.reads().length - 1; i >= 0 && budget[0] > 0; i--) {
                int[] reads = new int[c.reads().length - 1];
                System.arraycopy(c.reads(), 0, reads, 0, i);
                System.arraycopy(c.reads(), i + 1, reads, i, reads.length - i);
                Case candidate = new Case(c.lines(), reads);
                if (fails(candidate, budget)) {
                    c = candidate;
                    progress = true;
                }
            }
            for (int i = 0; i < c.lines().size() && budget[0] > 0; i++) {
                for (int chunk = Math.max(1, c.lines().get(i).length / 2); chunk >= 1 && budget[0] > 0; chunk /= 2) {
                    for (int pos = 0; pos + chunk <= c.lines().get(i).length && budget[0] > 0; ) {
                        byte[] line = c.lines().get(i);
                        List<byte[]> lines = new ArrayList<>(c.lines());
                        lines.set(i, splice(line, pos, pos + chunk, new byte[0]));
                        Case candidate = new Case(lines, c.reads());
                        if (fails(candidate, budget)) {
                            c = candidate;
                            progress = true;
                        } else {
                            pos += chunk;
                        }
                    }
                }
            }
        }
        return c;
    }

    private static boolean fails(Case c, int[] budget) {
        budget[0]--;
        return check(c, null) != null;
    }

    // ---- generators ----

    private static Case generate(SplittableRandom r) {
        int n = 1 + r.nextInt(5);
        List<byte[]> lines = new ArrayList<>(n);
        int length = GOOD.length + 1;
        for (int i = 0; i < n; i++) {
            byte[] line = line(r);
            lines.add(line);
            length += line.length + 1;
        }
        int[] reads;
        if (r.nextInt(16) == 0) {
            // A trickle: reads of one to three bytes all the way through.
            List<Integer> trickle = new ArrayList<>();
            for (int sum = 0; sum < length; ) {
                int read = 1 + r.nextInt(3);
                trickle.add(read);
                sum += read;
            }
            reads = trickle.stream().mapToInt(Integer::intValue).toArray();
        } else {
            reads = new int[r.nextInt(7)];
            for (int i = 0; i < reads.length; i++) {
                reads[i] = 1 + r.nextInt(400);
            }
        }
        return new Case(lines, reads);
    }

    /** One line without its newline, in the proportions 3 valid : 4 mutated : 3 token soup : 1 random : 1 blank. */
    private static byte[] line(SplittableRandom r) {
        int pick = r.nextInt(12);
        if (pick < 3) {
            return validLine(r);
        } else if (pick < 7) {
            return mutate(r, validLine(r));
        } else if (pick < 10) {
            return tokenSoup(r);
        } else if (pick < 11) {
            return randomBytes(r);
        }
        return blank(r);
    }

    /** A length from 0 to max, with the two ends more often than the rest. */
    private static int size(SplittableRandom r, int max) {
        int pick = r.nextInt(10);
        return pick == 0 ? 0 : pick == 1 ? max : r.nextInt(max + 1);
    }

    private static byte[] validLine(SplittableRandom r) {
        String metric = quote(text(r));
        String value = number(r);
        String body = switch (r.nextInt(4)) {
            case 0 -> "\"metric\":" + metric + ",\"value\":" + value;
            case 1 -> "\"value\":" + value + ",\"tags\":" + tags(r) + ",\"metric\":" + metric;
            case 2 -> "\"metric\":" + metric + ",\"value\":" + value + ",\"timestamp\":" + timestamp(r)
                    + ",\"x\":[1,{}]";
            default -> "\"sync\":" + metric;
        };
        return ("{" + body + "}").getBytes(StandardCharsets.UTF_8);
    }

    /** Printable ASCII with some non-ASCII: é, €, a lone high surrogate (encoded as '?') and a surrogate pair. */
    private static String text(SplittableRandom r) {
        int len = size(r, 12);
        StringBuilder sb = new StringBuilder(len + 2);
        for (int i = 0; i < len; i++) {
            switch (r.nextInt(20)) {
                case 0 -> sb.append('\u00e9');
                case 1 -> sb.append('\u20ac');
                case 2 -> sb.append('\ud83d');
                case 3 -> sb.append("\ud83d\ude00");
                default -> sb.append((char) (' ' + r.nextInt('~' - ' ' + 1)));
            }
        }
        return sb.toString();
    }

    private static String number(SplittableRandom r) {
        return switch (r.nextInt(6)) {
            case 0 -> NUMBERS[r.nextInt(NUMBERS.length)];
            case 1 -> String.valueOf(r.nextLong());
            case 2 -> String.valueOf(r.nextInt(2001) - 1000);
            case 3 -> String.valueOf((r.nextDouble() - 0.5) * Math.pow(10, r.nextInt(-20, 21)));
            case 4 -> String.valueOf(Double.longBitsToDouble(r.nextLong()));
            default -> String.valueOf(r.nextDouble());
        };
    }

    private static String timestamp(SplittableRandom r) {
        return switch (r.nextInt(5)) {
            case 0 -> "1";
            case 1 -> String.valueOf(r.nextLong());
            case 2 -> String.valueOf(r.nextLong(0, 4_102_444_800_000L));
            case 3 -> "null";
            default -> "\"2026-11-" + (10 + r.nextInt(20)) + "T10:00:00" + (r.nextBoolean() ? "Z" : "+02:00") + "\"";
        };
    }

    /** Up to 4 tags, now and then up to 10 (past the limit of 8). */
    private static String tags(SplittableRandom r) {
        int n = size(r, r.nextInt(8) == 0 ? 10 : 4);
        StringBuilder sb = new StringBuilder("{");
        for (int i = 0; i < n; i++) {
            if (i > 0) {
                sb.append(',');
            }
            sb.append(quote(text(r))).append(':').append(quote(text(r)));
        }
        return sb.append('}').toString();
    }

    /**
     * One to four of: a byte set to a random value, a bit flipped, a byte inserted, a byte deleted, up to 40 bytes
     * duplicated, the rest cut off, a range deleted, a token or a UTF-8 hazard inserted. Never introduces a newline.
     */
    private static byte[] mutate(SplittableRandom r, byte[] line) {
        int n = 1 + r.nextInt(4);
        for (int i = 0; i < n; i++) {
            int size = line.length;
            int pos = size == 0 ? 0 : r.nextInt(size);
            int b = r.nextInt(256);
            byte one = (byte) (b == '\n' ? ' ' : b);
            line = switch (r.nextInt(8)) {
                case 0 -> size == 0 ? line : splice(line, pos, pos + 1, new byte[] {one});
                case 1 -> {
                    if (size == 0) {
                        yield line;
                    }
                    int flipped = (line[pos] ^ (1 << r.nextInt(8))) & 0xFF;
                    yield splice(line, pos, pos + 1, new byte[] {(byte) (flipped == '\n' ? ' ' : flipped)});
                }
                case 2 -> splice(line, pos, pos, new byte[] {one});
                case 3 -> size == 0 ? line : splice(line, pos, pos + 1, new byte[0]);
                case 4 -> splice(line, pos, pos, Arrays.copyOfRange(line, pos, Math.min(size, pos + 40)));
                case 5 -> Arrays.copyOf(line, pos);
                case 6 -> splice(line, pos, Math.min(size, pos + 1 + r.nextInt(20)), new byte[0]);
                default -> splice(line, pos, pos, r.nextBoolean()
                        ? TOKEN_BYTES[r.nextInt(TOKEN_BYTES.length)] : UTF8_HAZARDS[r.nextInt(UTF8_HAZARDS.length)]);
            };
        }
        return line;
    }

    /** Up to 40 tokens from {@link #TOKENS}, joined. */
    private static byte[] tokenSoup(SplittableRandom r) {
        ByteArrayOutputStream soup = new ByteArrayOutputStream();
        for (int i = size(r, 40); i > 0; i--) {
            soup.writeBytes(TOKEN_BYTES[r.nextInt(TOKEN_BYTES.length)]);
        }
        return soup.toByteArray();
    }

    /**
     * Up to 400 bytes other than a newline: either any bytes at all, or a metric string opened and filled with a mix
     * of ASCII, UTF-8 and not-UTF-8, so that the bad sequences reach Jackson's string decoding.
     */
    private static byte[] randomBytes(SplittableRandom r) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int len = size(r, 400);
        if (r.nextBoolean()) {
            for (int i = 0; i < len; i++) {
                int b = r.nextInt(255);
                out.write(b >= '\n' ? b + 1 : b);
            }
            return out.toByteArray();
        }
        out.writeBytes("{\"metric\":\"".getBytes(StandardCharsets.UTF_8));
        while (out.size() < len) {
            if (r.nextInt(4) == 0) {
                out.writeBytes(UTF8_HAZARDS[r.nextInt(UTF8_HAZARDS.length)]);
            } else {
                out.write('a' + r.nextInt(26));
            }
        }
        if (r.nextBoolean()) {
            out.writeBytes("\",\"value\":1}".getBytes(StandardCharsets.UTF_8));
        }
        return out.toByteArray();
    }

    /** Spaces, tabs and CRs: blank up to the line limit, too long past it, and often right at it. */
    private static byte[] blank(SplittableRandom r) {
        int len = r.nextInt(4) == 0 ? MAX_LINE - 1 + r.nextInt(4) : size(r, 300);
        byte[] line = new byte[len];
        for (int i = 0; i < len; i++) {
            int pick = r.nextInt(8);
            line[i] = (byte) (pick == 0 ? '\t' : pick == 1 ? '\r' : ' ');
        }
        return line;
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

    private static byte[] splice(byte[] bytes, int from, int to, byte[] insert) {
        byte[] out = new byte[bytes.length - (to - from) + insert.length];
        System.arraycopy(bytes, 0, out, 0, from);
        System.arraycopy(insert, 0, out, from, insert.length);
        System.arraycopy(bytes, to, out, from + insert.length, bytes.length - to);
        return out;
    }

    private static byte[] bytes(int... values) {
        byte[] out = new byte[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = (byte) values[i];
        }
        return out;
    }

    private static String quote(String s) {
        StringBuilder sb = new StringBuilder();
        IngestCodec.quote(sb, s);
        return sb.toString();
    }
}
