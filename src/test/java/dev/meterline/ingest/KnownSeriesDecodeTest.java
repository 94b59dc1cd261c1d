package dev.meterline.ingest;

import dev.meterline.model.Point;
import dev.meterline.model.Reject;
import dev.meterline.model.SeriesRules;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The plain reader's compact form, its tags recognised by the series key cache and its timestamp taken from the line
 * before: lines that take these paths, and lines a byte away from them, decode exactly as a Jackson parser per line
 * decodes them (points, rejects, messages and order), and the paths are really taken.
 */
class KnownSeriesDecodeTest {

    private static final String CACHED = "{\"metric\":\"cpu\",\"value\":1.5,\"timestamp\":1796033920099,"
            + "\"tags\":{\"host\":\"web-1\",\"region\":\"eu\"}}";

    /** A decoder of a codec of its own (so an empty key cache), recording what it gives as text. */
    private static final class Run {
        final RecordedOutput out = new RecordedOutput();
        final List<String> seen = out.seen;
        final LineDecoder decoder;

        Run(int maxTags, int keyCacheMax, boolean plain) {
            decoder = new IngestCodec(512, maxTags, keyCacheMax).decoder(out).shareParser(plain);
        }

        Run send(byte[] input, int[] cuts) {
            RecordedOutput.send(decoder, input, cuts, 999);
            return this;
        }
    }

    /** What the fast decoder gives for {@code input}, checked against the reference path; returns the decoder. */
    private static LineDecoder assertDecodesAsJackson(byte[] input, int[] cuts, int maxTags, int keyCacheMax,
                                                      String what) {
        Run reference = new Run(maxTags, keyCacheMax, false).send(input, cuts);
        Run fast = new Run(maxTags, keyCacheMax, true).send(input, cuts);
        assertEquals(reference.seen, fast.seen, what);
        return fast.decoder;
    }

    private static byte[] lines(List<String> lines) {
        StringBuilder sb = new StringBuilder();
        for (String l : lines) {
            sb.append(l).append('\n');
        }
        return sb.toString().getBytes(StandardCharsets.ISO_8859_1);
    }

    /**
     * The cached series' line, then a variant of it whose tags object differs in one byte (replaced, removed or one
     * inserted; quotes, backslashes, braces, separators, spaces, control and non-ASCII bytes), or is cut at that byte:
     * each decodes as Jackson decodes it, and the repeats of the cached line are recognised.
     */
    @Test
    void linesOneByteAwayFromACachedSeriesInItsTagsDecodeAsJacksonDoes() {
        int tagsAt = CACHED.indexOf("\"tags\":") + 7;
        char[] bytes = {'"', '\\', '}', '{', ',', ':', ' ', '\t', 'x', '1', 0x01, 0x7F, 0xC3, 0xE9};
        List<String> input = new ArrayList<>();
        int variants = 0;
        for (int at = tagsAt; at < CACHED.length(); at++) {
            for (char c : bytes) {
                input.add(CACHED);
                input.add(CACHED.substring(0, at) + c + CACHED.substring(at + 1));
                input.add(CACHED);
                input.add(CACHED.substring(0, at) + c + CACHED.substring(at));
                variants += 2;
            }
            input.add(CACHED);
            input.add(CACHED.substring(0, at) + CACHED.substring(at + 1));
            input.add(CACHED);
            input.add(CACHED.substring(0, at));
            variants += 2;
        }
        LineDecoder d = assertDecodesAsJackson(lines(input), new int[0], 8, 1024, "one byte away");
        // All but those of the first group, read before any look-up stored the series.
        assertTrue(d.knownLines() >= variants - LineDecoder.GROUP,
                "cached lines recognised: " + d.knownLines() + " of " + variants);
    }

    /**
     * Lines whose series a cache holds but written otherwise: fields reordered, spaces, escapes that mean the same
     * characters, duplicated tag names and fields, a tags object before the metric, a closing brace inside a tag
     * value, something after the tags object, and lines cut inside the tags.
     */
    @Test
    void theCachedSeriesWrittenOtherwiseDecodesAsJacksonDoes() {
        String tags = "{\"host\":\"web-1\",\"region\":\"eu\"}";
        String[] others = {
            "{\"value\":2,\"metric\":\"cpu\",\"tags\":" + tags + "}",
            "{\"metric\":\"cpu\",\"tags\":" + tags + ",\"value\":3}",
            "{\"tags\":" + tags + ",\"metric\":\"cpu\",\"value\":4}",
            "{\"metric\":\"cpu\",\"value\":5,\"tags\" : " + tags + " }",
            "{\"metric\":\"cpu\",\"value\":6,\"tags\":" + tags + "}   ",
            "{ \"metric\":\"cpu\",\"value\":7,\"tags\":" + tags + "}",
            "{\"metric\":\"cpu\",\"value\":8,\"tags\":{\"host\":\"web\\u002d1\",\"region\":\"eu\"}}",
            "{\"metric\":\"cpu\",\"value\":9,\"tags\":{\"host\":\"web-1\",\"host\":\"eu\"}}",
            "{\"metric\":\"cpu\",\"value\":10,\"tags\":{\"host\":\"web-1\",\"region\":\"eu\",\"host\":\"web-1\"}}",
            "{\"metric\":\"cpu\",\"value\":11,\"tags\":" + tags + ",\"tags\":" + tags + "}",
            "{\"metric\":\"cpu\",\"value\":12,\"tags\":" + tags + ",\"value\":13}",
            "{\"metric\":\"cpu\",\"value\":14,\"tags\":" + tags + ",\"metric\":\"cpu\"}",
            "{\"metric\":\"cpu\",\"value\":15,\"tags\":" + tags + "}x",
            "{\"metric\":\"cpu\",\"value\":16,\"tags\":" + tags + ",\"other\":1}",
            "{\"metric\":\"cpu\",\"value\":17,\"tags\":" + tags + "}}",
            "{\"metric\":\"cpu\",\"value\":18,\"tags\":" + tags,
            "{\"metric\":\"cpu\",\"value\":19,\"tags\":" + tags.substring(0, tags.length() - 1),
            "{\"metric\":\"cpu\",\"value\":20,\"tags\":{\"host\":\"web-1\"",
            "{\"metric\":\"cpu\",\"value\":21,\"tags\":" + tags + ",",
            "{\"metric\":\"cpu\",\"value\":22,\"tags\":{\"k\":\"a}b\"}}",
            "{\"metric\":\"cpu\",\"value\":23,\"tags\":{\"k\":\"a}\"}}",
            "{\"metric\":\"cpu\",\"value\":24,\"tags\":{\"k\":\"a}b\"}}",
            "{\"metric\":\"cpu\",\"value\":25,\"tags\":{}}",
            "{\"metric\":\"cpu\",\"value\":26,\"tags\":{}}",
            "{\"metric\":\"cpu\",\"value\":27}",
            "{\"metric\":\"cpu\",\"value\":28,\"tags\":{ }}",
            "{\"metric\":\"cpu2\",\"value\":29,\"tags\":" + tags + "}",
            "{\"metric\":\"cp\",\"value\":30,\"tags\":" + tags + "}",
            "{\"metric\":\"cpu\",\"value\":31,\"timestamp\":1.5,\"tags\":" + tags + "}",
            "{\"metric\":\"cpu\",\"value\":32,\"tags\":" + tags + ",\"timestamp\":7}",
            "{\"metric\":\"cpu\",\"value\":33,\"tags\":[" + tags + "]}",
        };
        List<String> input = new ArrayList<>();
        for (String other : others) {
            input.add(CACHED);
            input.add(other);
            input.add(other);
        }
        byte[] bytes = lines(input);
        LineDecoder d = assertDecodesAsJackson(bytes, new int[0], 8, 1024, "written otherwise");
        assertTrue(d.knownLines() > others.length / 2, "recognised: " + d.knownLines());
        SplittableRandom rnd = new SplittableRandom(0x7a95);
        for (int t = 0; t < 200; t++) {
            int[] cuts = rnd.ints(1 + rnd.nextInt(6), 0, bytes.length + 1).sorted().toArray();
            assertDecodesAsJackson(bytes, cuts, 8, 1024, "cut at " + java.util.Arrays.toString(cuts));
        }
    }

    /**
     * A series the reader recognised while the group was read, but that an earlier line of the group pushed out of
     * its set before its own look-up: its tags are read then, and its key built from them.
     */
    @Test
    void aRecognisedSeriesPushedOutBeforeItsLookUpIsBuiltFromItsBytes() {
        // A cache of one set of eight ways, which never grows: a ninth series replaces the first.
        List<String> input = new ArrayList<>();
        for (int i = 0; i < SeriesKeyCache.WAYS; i++) {
            input.add("{\"metric\":\"m\",\"value\":" + i + ",\"tags\":{\"host\":\"h" + i + "\",\"dc\":\"x\"}}");
        }
        byte[] first = lines(input);
        List<String> next = new ArrayList<>();
        next.add("{\"metric\":\"m\",\"value\":8,\"tags\":{\"host\":\"h8\",\"dc\":\"x\"}}");
        next.add("{\"metric\":\"m\",\"value\":9,\"tags\":{\"host\":\"h0\",\"dc\":\"x\"}}");
        next.add("{\"metric\":\"m\",\"value\":10,\"tags\":{\"host\":\"h1\",\"dc\":\"x\"}}");
        byte[] second = lines(next);
        Run reference = new Run(4, SeriesKeyCache.WAYS, false);
        Run fast = new Run(4, SeriesKeyCache.WAYS, true);
        for (Run r : new Run[] {reference, fast}) {
            r.decoder.decode(first, 0, first.length, 999);
            r.decoder.decode(second, 0, second.length, 999);
        }
        assertEquals(reference.seen, fast.seen);
        assertEquals(11, fast.seen.size(), fast.seen.toString());
        assertTrue(fast.seen.get(9).contains("h0"), fast.seen.get(9));
        // h0 and h1 were recognised while the second read's group was read; h8, read first, then replaced h0.
        assertEquals(2, fast.decoder.knownLines());
    }

    /**
     * A reader that takes fewer tags than a series the cache held never takes tags from that cache: equal bytes
     * would then not read the same way.
     */
    @Test
    void aCacheThatHeldSeriesOfMoreTagsThanTheReaderTakesIsNotUsedForTags() {
        SeriesKeyCache cache = new SeriesKeyCache(1024);
        byte[] line = "{\"metric\":\"m\",\"value\":1,\"tags\":{\"a\":\"1\",\"b\":\"2\",\"c\":\"3\"}}"
                .getBytes(StandardCharsets.US_ASCII);
        PlainLine wide = new PlainLine(3);
        assertTrue(wide.read(line, 0, line.length, cache));
        new PlainKeys(SeriesRules.NONE).key(line, wide, cache);
        assertEquals(3, cache.mostTags());
        assertTrue(wide.read(line, 0, line.length, cache));
        assertTrue(wide.slot >= 0 && !wide.tagsRead, "a reader of the cache's limit recognises the series");
        PlainLine narrow = new PlainLine(2);
        assertFalse(narrow.read(line, 0, line.length, cache), "three tags are over a limit of two");
        wide.readTags(line);
        assertEquals(3, wide.tagCount);
    }

    /**
     * Timestamps equal to the line before's, or sharing its first bytes and then differing (another digit, one
     * more, a fraction, an exponent, a sign, a leading zero, too many digits), between 1 and 20 digits: each
     * decodes as Jackson decodes it.
     */
    @Test
    void timestampsLikeTheLineBeforesDecodeAsJacksonDoes() {
        String[] suffixes = {"", "", "", "0", "9", ".5", ".0", "e3", "E3", "e", ".", "x", " ", "-", "00", "1.5e2"};
        SplittableRandom rnd = new SplittableRandom(0x7135);
        for (int t = 0; t < 300; t++) {
            List<String> input = new ArrayList<>();
            int digits = 1 + rnd.nextInt(20);
            StringBuilder base = new StringBuilder(rnd.nextInt(8) == 0 ? "-" : "");
            base.append((char) ('1' + rnd.nextInt(9)));
            for (int k = 1; k < digits; k++) {
                base.append((char) ('0' + rnd.nextInt(10)));
            }
            for (int i = 0; i < 40; i++) {
                String ts = rnd.nextInt(3) == 0 ? base + suffixes[rnd.nextInt(suffixes.length)]
                        : rnd.nextInt(10) == 0 ? "0" + base : base.toString();
                if (rnd.nextInt(6) == 0 && ts.length() > 1) {
                    int at = rnd.nextInt(ts.length());
                    ts = ts.substring(0, at) + (char) ('0' + rnd.nextInt(10)) + ts.substring(at + 1);
                }
                String tail = rnd.nextBoolean() ? ",\"tags\":{\"h\":\"a\"}}" : rnd.nextBoolean() ? "}" : " }";
                input.add("{\"metric\":\"m\",\"value\":" + i + ",\"timestamp\":" + ts + tail);
            }
            byte[] bytes = lines(input);
            int[] cuts = rnd.nextBoolean() ? new int[0] : rnd.ints(1 + rnd.nextInt(3), 0, bytes.length + 1)
                    .sorted().toArray();
            assertDecodesAsJackson(bytes, cuts, 8, 1024,
                    "try " + t + ": " + new String(bytes, StandardCharsets.US_ASCII));
        }
    }

    /**
     * Random lines of the compact form from a few series, mutated at one random byte now and then, in random reads:
     * they decode as Jackson decodes them, most are read plain and many have their tags recognised.
     */
    @Test
    void randomCompactLinesDecodeAsJacksonDoes() {
        String[] metrics = {"cpu", "app.metric000", "m", "a.very.long.metric.name.of.forty.bytes.or.so.x"};
        String[] tagSets = {"", "{}", "{\"host\":\"web-1\",\"region\":\"eu\"}", "{\"h\":\"a\"}",
            "{\"k\":\"a}b\"}", "{\"a\":\"1\",\"b\":\"2\",\"c\":\"3\",\"d\":\"4\",\"e\":\"5\"}",
            "{\"host\":\"" + "x".repeat(250) + "\"}"};
        String[] values = {"1", "-1", "0", "53.34", "-0.0", "1e3", "1.5E-7", "12345678901234567890", "0.1", "7."};
        byte[] pieces = {'"', '\\', '}', '{', ',', ':', ' ', 'x', '5', '.', 0x01, (byte) 0xC3};
        long lines = 0;
        long known = 0;
        long plain = 0;
        for (int t = 0; t < 400; t++) {
            SplittableRandom rnd = new SplittableRandom(0xc0a1 + t);
            ByteArrayOutputStream in = new ByteArrayOutputStream();
            int n = 1 + rnd.nextInt(100);
            for (int i = 0; i < n; i++) {
                StringBuilder sb = new StringBuilder("{\"metric\":\"").append(metrics[rnd.nextInt(metrics.length)])
                        .append("\",\"value\":").append(values[rnd.nextInt(values.length)]);
                if (rnd.nextBoolean()) {
                    sb.append(",\"timestamp\":").append(1796033920000L + rnd.nextInt(3));
                }
                String tags = tagSets[rnd.nextInt(tagSets.length)];
                if (!tags.isEmpty()) {
                    sb.append(",\"tags\":").append(tags);
                }
                byte[] line = sb.append('}').toString().getBytes(StandardCharsets.US_ASCII);
                if (rnd.nextInt(5) == 0) {
                    int at = rnd.nextInt(line.length);
                    byte piece = pieces[rnd.nextInt(pieces.length)];
                    in.write(line, 0, at);
                    if (rnd.nextBoolean()) {
                        in.write(piece);
                    }
                    int skip = rnd.nextBoolean() ? 1 : 0;
                    in.write(line, at + skip, line.length - at - skip);
                } else {
                    in.writeBytes(line);
                }
                in.write('\n');
            }
            byte[] input = in.toByteArray();
            int[] cuts = rnd.nextBoolean() ? new int[0] : rnd.ints(1 + rnd.nextInt(4), 0, input.length + 1)
                    .sorted().toArray();
            LineDecoder d = assertDecodesAsJackson(input, cuts, 4, 1024, "try " + t + ": "
                    + new String(input, StandardCharsets.ISO_8859_1));
            lines += n;
            known += d.knownLines();
            plain += d.plainLines();
        }
        assertTrue(plain > lines / 3, "plain: " + plain + " of " + lines);
        assertTrue(known > lines / 20, "recognised: " + known + " of " + lines);
    }

    /**
     * Series sent again and again in the same order are found as the cache's follower of the line before's series;
     * cycles in which one line is replaced by a series a byte away (in the metric or the tags, of the same lengths
     * or not), written otherwise, or a line of another form, decode as Jackson decodes them, in random reads.
     */
    @Test
    void seriesInARepeatedOrderAndLinesReplacingOneOfThemDecodeAsJacksonDoes() {
        List<String> cycle = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            cycle.add("{\"metric\":\"app.m" + (i % 3) + "\",\"value\":" + i + ".5,\"timestamp\":1796033920099"
                    + ",\"tags\":{\"host\":\"web-" + (i / 3) + "\",\"region\":\"eu\"}}");
        }
        String[] replacements = {
            "{\"metric\":\"app.m9\",\"value\":1,\"tags\":{\"host\":\"web-0\",\"region\":\"eu\"}}",
            "{\"metric\":\"app.m0\",\"value\":1,\"tags\":{\"host\":\"web-9\",\"region\":\"eu\"}}",
            "{\"metric\":\"app.m0\",\"value\":1,\"tags\":{\"host\":\"web-0\",\"region\":\"eu\"} }",
            "{\"metric\":\"app.m0\",\"value\":1,\"tags\":{\"host\":\"web-0\",\"region\":\"eu\"}}}",
            "{\"metric\":\"app.m0\",\"value\":1,\"tags\":{\"host\":\"web-0\",\"region\":\"eu\"},\"x\":1}",
            "{\"metric\":\"app.m0\",\"value\":1,\"tags\":{\"host\":\"web-0\",\"region\":\"e}\"}}",
            "{\"metric\":\"app.m0\",\"value\":1,\"tags\":{\"host\":\"web-0\",\"region\":\"eu\"",
            "{\"metric\":\"app.m0\",\"value\":1,\"tags\":{\"host\":\"web-0\",\"region\":\"eu\"}",
            "{\"metric\":\"app.m0\",\"value\":1,\"tags\":{\"host\":\"web-0\",\"region\":\"eux\"}}",
            "{\"metric\":\"app.m0\",\"value\":1,\"tags\":{\"host\":\"web-0\"}}",
            "{\"metric\":\"app.m0\",\"value\":1,\"tags\":{}}",
            "{\"metric\":\"app.m0\",\"value\":1}",
            "{\"metric\":\"app.m\\u0030\",\"value\":1,\"tags\":{\"host\":\"web-0\",\"region\":\"eu\"}}",
            "{\"metric\":\"app.m0\",\"tags\":{\"host\":\"web-0\",\"region\":\"eu\"},\"value\":1}",
            "{\"metric\":\"app.m0\",\"value\":\"1\",\"tags\":{\"host\":\"web-0\",\"region\":\"eu\"}}",
            "{\"metric\":\"app.m0\u00e9\",\"value\":1,\"tags\":{\"host\":\"web-0\",\"region\":\"eu\"}}",
            "{\"sync\":\"s\"}",
            "",
            "not json",
        };
        SplittableRandom rnd = new SplittableRandom(0xf011);
        long lines = 0;
        long followed = 0;
        for (int t = 0; t < 60; t++) {
            List<String> input = new ArrayList<>();
            for (int pass = 0; pass < 8; pass++) {
                input.addAll(cycle);
                if (rnd.nextInt(3) > 0) {
                    input.set(input.size() - 1 - rnd.nextInt(cycle.size()),
                            replacements[rnd.nextInt(replacements.length)]);
                }
            }
            byte[] bytes = lines(input);
            int[] cuts = rnd.nextBoolean() ? new int[0] : rnd.ints(1 + rnd.nextInt(4), 0, bytes.length + 1)
                    .sorted().toArray();
            LineDecoder d = assertDecodesAsJackson(bytes, cuts, 4, 1024, "try " + t);
            lines += input.size();
            followed += d.followedLines();
        }
        assertTrue(followed > lines / 2, "found as followers: " + followed + " of " + lines);
    }

    /** The slot in {@code cache} of the series of {@code line} (a line and its newline), or -1. */
    private static int slotOf(SeriesKeyCache cache, byte[] line) {
        PlainLine p = new PlainLine(4);
        assertTrue(p.read(line, 0, line.length - 1));
        return cache.probe(PlainKeys.hash(line, p), line, p.metricFrom, p.metricTo, p.tagsFrom, p.tagsTo);
    }

    /** A decoder that reads on another thread than before uses that thread's key cache, as it did before. */
    @Test
    void aDecoderReadingOnAnotherThreadUsesThatThreadsCache() throws InterruptedException {
        IngestCodec codec = new IngestCodec(512, 4);
        List<String> seen = new ArrayList<>();
        LineDecoder d = codec.decoder(new LineDecoder.Output() {
            @Override
            public void point(Point p) {
                seen.add(p.series().toString());
            }

            @Override
            public void reject(Reject r) {
                seen.add("reject " + r.reason());
            }

            @Override
            public void sync(String id, int line) {
                seen.add("sync");
            }
        });
        byte[] here = "{\"metric\":\"here\",\"value\":1,\"tags\":{\"h\":\"x\"}}\n"
                .getBytes(StandardCharsets.US_ASCII);
        byte[] there = "{\"metric\":\"there\",\"value\":1,\"tags\":{\"h\":\"x\"}}\n"
                .getBytes(StandardCharsets.US_ASCII);
        d.decode(here, 0, here.length, 1);
        SeriesKeyCache mine = codec.keyCache();
        int[] slots = new int[2];
        Thread other = new Thread(() -> {
            d.decode(there, 0, there.length, 1);
            slots[0] = slotOf(codec.keyCache(), there);
            slots[1] = slotOf(codec.keyCache(), here);
        });
        other.start();
        other.join();
        assertEquals(2, seen.size(), seen.toString());
        assertTrue(slotOf(mine, here) >= 0, "this thread's cache holds the series read here");
        assertEquals(-1, slotOf(mine, there), "and not the one read on the other thread");
        assertTrue(slots[0] >= 0, "the other thread's cache holds the series read there");
        assertEquals(-1, slots[1]);
        d.decode(there, 0, there.length, 1);
        assertTrue(slotOf(mine, there) >= 0, "back on this thread, its cache again");
    }
}
