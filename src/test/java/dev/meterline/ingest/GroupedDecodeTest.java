package dev.meterline.ingest;

import dev.meterline.model.Point;
import dev.meterline.model.RejectReason;
import dev.meterline.model.SeriesKey;
import dev.meterline.model.SeriesRules;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The decoder reads a read's lines in groups, and reads the key cache ahead for each group; whatever the group size,
 * with or without reading ahead, it gives what decoding one line at a time gives: the same points, rejects and
 * syncs in the same order with the same line numbers, and the same key cache (hits, misses, growth, sparse mode).
 */
class GroupedDecodeTest {

    private static final int[] SIZES = {1, 2, 3, 7, 32, 64};

    /** Refuses the series of the metric {@code refused}, so that rule rejects fall inside groups too. */
    private static final SeriesRules RULES = new SeriesRules() {
        @Override
        public RejectReason checkSeries(SeriesKey key) {
            return key.metric().equals("refused") ? RejectReason.METRIC_SERIES_LIMIT : null;
        }

        @Override
        public SeriesKey enrich(SeriesKey key) {
            return key;
        }
    };

    /** A decoder of its own codec (so its own key cache), what it gave, and its cache. */
    private static final class Run {
        final RecordedOutput out = new RecordedOutput();
        final List<String> seen = out.seen;
        final List<Point> points = out.points;
        final IngestCodec codec;
        final LineDecoder decoder;
        final SeriesKeyCache cache;

        Run(int group, int maxLineBytes, int keyCacheMax, boolean readAhead) {
            codec = new IngestCodec(maxLineBytes, 4, keyCacheMax, RULES);
            cache = codec.keyCache();
            cache.touchFrom(readAhead ? 0 : Integer.MAX_VALUE);
            decoder = codec.decoder(out).groupSize(group);
        }

        /** Decodes {@code input} in reads that end at each of {@code cuts} (ascending), then finishes. */
        Run send(byte[] input, int[] cuts) {
            RecordedOutput.send(decoder, input, cuts, 7);
            return this;
        }

        String cacheState() {
            return "hits " + cache.hitCount() + " misses " + cache.missCount() + " capacity " + cache.capacity()
                    + " size " + cache.publishedSize() + " sparse " + cache.sparse();
        }
    }

    /** A line of one of {@code series} plain series, or one of the lines that leave the plain reader or fail. */
    private static String line(SplittableRandom rnd, int series, int maxLineBytes) {
        int s = rnd.nextInt(series);
        String plain = "{\"metric\":\"m" + (s % 5) + "\",\"value\":" + rnd.nextInt(1000) + ",\"tags\":{\"h\":\"h"
                + s + "\"}}";
        return switch (rnd.nextInt(24)) {
            case 0 -> "";
            case 1 -> "  \t ";
            case 2 -> "{\"sync\":\"s" + rnd.nextInt(9) + "\"}";
            case 3 -> "{\"metric\":\"m\\u0031\",\"value\":1,\"tags\":{\"h\":\"h" + s + "\"}}";
            case 4 -> "{\"metric\":\"m1\",\"value\":NaN}";
            case 5 -> "[1,2]";
            case 6 -> "{\"metric\":\"m1\",\"value\":1,\"value\":2}";
            case 7 -> "{\"metric\":\"m1\",\"value\":1,\"tags\":{\"h\":\"" + "v".repeat(maxLineBytes) + "\"}}";
            case 8 -> "{\"metric\":\"refused\",\"value\":3,\"tags\":{\"h\":\"h" + s + "\"}}";
            case 9 -> "{\"metric\":\"m1\",";
            case 10 -> "\"value\":2}";
            case 11 -> "\u0000{\"metric\":\"m1\",\"value\":1}";
            case 12 -> plain + "\r";
            case 13 -> "{\"metric\":\"m" + (s % 5) + "\",\"value\":" + rnd.nextInt(1000)
                    + ",\"timestamp\":1000,\"tags\":{\"h\":\"h" + s + "\"}}";
            default -> plain;
        };
    }

    private static byte[] input(SplittableRandom rnd, int lines, int series, int maxLineBytes) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < lines; i++) {
            sb.append(line(rnd, series, maxLineBytes)).append('\n');
        }
        if (rnd.nextBoolean()) {
            // A last line without its newline: finish() decodes it.
            sb.append(line(rnd, series, maxLineBytes));
        }
        return sb.toString().getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void everyGroupSizeDecodesAsOneLineAtATime() {
        int maxLineBytes = 120;
        long touched = 0;
        long plain = 0;
        for (int t = 0; t < 300; t++) {
            SplittableRandom rnd = new SplittableRandom(0x6a0f + t);
            byte[] input = input(rnd, 1 + rnd.nextInt(200), 1 + rnd.nextInt(40), maxLineBytes);
            int[] cuts = rnd.ints(rnd.nextInt(6), 0, input.length + 1).sorted().toArray();
            Run single = new Run(1, maxLineBytes, 4096, false).send(input, cuts);
            plain += single.decoder.plainLines();
            for (int size : SIZES) {
                Run grouped = new Run(size, maxLineBytes, 4096, true).send(input, cuts);
                assertEquals(single.seen, grouped.seen, "try " + t + ", group " + size);
                assertEquals(single.decoder.lines(), grouped.decoder.lines(), "try " + t + ", group " + size);
                assertEquals(single.decoder.plainLines(), grouped.decoder.plainLines(), "try " + t);
                touched += grouped.decoder.touched();
            }
        }
        assertTrue(touched != 0, "the groups read the key cache ahead");
        assertTrue(plain > 10_000, "plain lines: " + plain);
    }

    @Test
    void groupsCutAReadAndALineSplitAcrossReadsStartsTheNextGroup() {
        StringBuilder sb = new StringBuilder();
        for (int i = 1; i <= 70; i++) {
            sb.append("{\"metric\":\"m\",\"value\":").append(i).append(",\"tags\":{\"h\":\"h").append(i % 3)
                    .append("\"}}\n");
        }
        byte[] input = sb.toString().getBytes(StandardCharsets.UTF_8);
        // The first read ends inside the line just past the first group (of the default size).
        int cut = sb.indexOf("\"value\":" + (LineDecoder.GROUP + 1) + ",") + 3;
        Run run = new Run(LineDecoder.GROUP, 200, 4096, true).send(input, new int[] {cut});
        assertEquals(70, run.points.size(), run.seen.toString());
        for (int i = 0; i < 70; i++) {
            Point p = run.points.get(i);
            assertEquals(i + 1, p.line());
            assertEquals(i + 1, p.value());
            assertEquals("h" + ((i + 1) % 3), p.series().tags().get("h"));
        }
        assertTrue(run.decoder.touched() != 0, "the groups read the key cache ahead");
    }

    @Test
    void failuresInsideAGroupKeepTheirPlaceAndLineNumbers() {
        String ok = "{\"metric\":\"m\",\"value\":1,\"tags\":{\"h\":\"a\"}}";
        String in = ok + "\n"
                + "{\"metric\":\"m\",\"value\":1,\"tags\":{\"h\":\"" + "x".repeat(100) + "\"}}\n"
                + "{\"metric\":\"m\",\"value\":NaN}\n"
                + ok + "\r\n"
                + "\n"
                + "{\"sync\":\"s\"}\n"
                + "{\"metric\":\"refused\",\"value\":2}\n"
                + "{\"metric\":\"m\\u0031\",\"value\":3,\"tags\":{\"h\":\"a\"}}\n"
                + ok + "\n";
        byte[] input = in.getBytes(StandardCharsets.UTF_8);
        Run run = new Run(32, 100, 4096, true).send(input, new int[0]);
        assertEquals(List.of(
                "point m{h=a} 1.0 @7 line 1",
                "reject 2 LINE_TOO_LONG line exceeds 100 bytes",
                "reject 3 VALUE_INVALID value must be a finite number",
                "point m{h=a} 1.0 @7 line 4",
                "sync s line 6",
                "reject 7 METRIC_SERIES_LIMIT series limit of this metric reached",
                "point m1{h=a} 3.0 @7 line 8",
                "point m{h=a} 1.0 @7 line 9"), run.seen);
        assertEquals(new Run(1, 100, 4096, false).send(input, new int[0]).seen, run.seen);
    }

    @Test
    void linesOfOneGroupThatShareANewSeriesGetTheKeyTheFirstBuilt() {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 32; i++) {
            sb.append("{\"metric\":\"new\",\"value\":").append(i).append(",\"tags\":{\"h\":\"x\"}}\n");
        }
        byte[] input = sb.toString().getBytes(StandardCharsets.UTF_8);
        Run run = new Run(32, 200, 4096, true);
        run.decoder.decode(input, 0, input.length, 7);
        assertEquals(0, run.decoder.touched(), "an empty cache has nothing to read ahead");
        // A second read of the same lines: its group reads the cached slot ahead, and every line hits it.
        run.send(input, new int[0]);
        assertEquals(64, run.points.size());
        SeriesKey first = run.points.get(0).series();
        for (Point p : run.points) {
            // Each later line found the key the first line's miss built and cached: the same instance.
            assertSame(first, p.series(), "line " + p.line());
        }
        assertTrue(run.decoder.touched() != 0, "the group read the key cache ahead");
    }

    /**
     * A period of look-ups ends inside a group: the cache doubles (or turns sparse) there, between two lines of the
     * group, exactly when it would one line at a time, and the lines after it look up the grown table.
     */
    @Test
    void theCacheGrowsAndTurnsSparseInsideAGroupAsItWouldLineByLine() {
        for (int[] c : new int[][] {{3_000, 1 << 14}, {20_000, 1024}}) {
            int series = c[0];
            int keyCacheMax = c[1];
            // 5 lines first, and groups of 7: the periods (2^16 look-ups) end inside groups.
            StringBuilder sb = new StringBuilder();
            for (int n = 0; n < 5 + 3 * SeriesKeyCache.PERIOD; n++) {
                int s = n < 2 * SeriesKeyCache.PERIOD ? n % series : n % 100;
                sb.append("{\"metric\":\"cpu\",\"value\":").append(n).append(",\"tags\":{\"host\":\"h").append(s)
                        .append("\"}}\n");
            }
            byte[] input = sb.toString().getBytes(StandardCharsets.UTF_8);
            int[] cuts = new int[input.length / 30_000];
            for (int k = 0; k < cuts.length; k++) {
                cuts[k] = (k + 1) * 30_000;
            }
            Run single = new Run(1, 200, keyCacheMax, false).send(input, cuts);
            Run grouped = new Run(7, 200, keyCacheMax, true).send(input, cuts);
            assertEquals(single.seen, grouped.seen, series + " series");
            assertEquals(single.cacheState(), grouped.cacheState(), series + " series");
            assertTrue(grouped.decoder.touched() != 0, "the groups read the key cache ahead");
            if (series == 3_000) {
                assertTrue(grouped.cache.capacity() > 1024, "the cache grew: " + grouped.cacheState());
            } else {
                assertEquals(1024, grouped.cache.capacity());
                assertTrue(grouped.cache.missCount() > grouped.cache.hitCount(), grouped.cacheState());
            }
        }
    }

    @Test
    void aSparseCacheSwitchesBackInsideAGroupAsItWouldLineByLine() {
        // 20 000 series through 1024 slots: sparse after the first period; then 100 series repeat, and the period
        // that sees them ends the sparse mode, again inside a group of 7.
        StringBuilder sb = new StringBuilder();
        for (int n = 0; n < 3 + 3 * SeriesKeyCache.PERIOD; n++) {
            int s = n < SeriesKeyCache.PERIOD + 11 ? n % 20_000 : n % 100;
            sb.append("{\"metric\":\"cpu\",\"value\":1,\"tags\":{\"host\":\"h").append(s).append("\"}}\n");
        }
        byte[] input = sb.toString().getBytes(StandardCharsets.UTF_8);
        Run single = new Run(1, 200, 1024, false);
        Run grouped = new Run(7, 200, 1024, true);
        boolean wasSparse = false;
        for (int from = 0; from < input.length; from += 20_000) {
            int len = Math.min(20_000, input.length - from);
            single.decoder.decode(input, from, len, 7);
            grouped.decoder.decode(input, from, len, 7);
            assertEquals(single.cacheState(), grouped.cacheState(), "at byte " + from);
            wasSparse |= grouped.cache.sparse();
        }
        assertTrue(wasSparse, "the cache went sparse");
        assertTrue(!grouped.cache.sparse(), "and back: " + grouped.cacheState());
        assertEquals(single.seen, grouped.seen);
    }
}
