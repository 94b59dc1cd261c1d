package dev.meterline.wal;

import dev.meterline.model.Point;
import dev.meterline.model.SeriesKey;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The encoder finds a series' reference by the series' number in its shard: against shards whose series come and go
 * and whose numbers are given again to other series, across segment rolls and parts that never reached the log, every
 * series record and sample reads back as the right key, with one series record per series and segment.
 */
class RecordEncoderTest {

    private static final int SHARDS = 2;

    @TempDir
    Path dir;

    /** One shard's series as the encoder sees them: numbers given densely, a removed series' number given again. */
    private static final class ModelShard {
        final int index;
        final SplittableRandom rnd;
        final int pool;
        /** The live series' key content by number; null where no series holds the number. */
        final List<String> byNumber = new ArrayList<>();
        /** The live series' incarnation by number: a series that left and came back is another one. */
        final List<Object> incarnation = new ArrayList<>();
        final Set<String> live = new HashSet<>();
        final List<Integer> free = new ArrayList<>();
        final List<Integer> renumbered = new ArrayList<>();

        ModelShard(int index, SplittableRandom rnd, int pool) {
            this.index = index;
            this.rnd = rnd;
            this.pool = pool;
        }

        String content(int k) {
            return "m" + (k % 13) + "|s" + index + "|h" + k;
        }

        static SeriesKey key(String content) {
            String[] parts = content.split("\\|");
            return SeriesKey.of(parts[0], Map.of("shard", parts[1], "host", parts[2]));
        }

        /** A live series' number, or a new series' number (possibly one given before). */
        int pick() {
            if (!live.isEmpty() && rnd.nextInt(4) != 0) {
                while (true) {
                    int n = rnd.nextInt(byNumber.size());
                    if (byNumber.get(n) != null) {
                        return n;
                    }
                }
            }
            String c = content(rnd.nextInt(pool));
            if (live.contains(c)) {
                return byNumber.indexOf(c);
            }
            int n;
            if (!free.isEmpty()) {
                n = free.remove(free.size() - 1);
                byNumber.set(n, c);
                incarnation.set(n, new Object());
                renumbered.add(n);
            } else {
                n = byNumber.size();
                byNumber.add(c);
                incarnation.add(new Object());
            }
            live.add(c);
            return n;
        }

        void removeSome() {
            for (int n = 0; n < byNumber.size(); n++) {
                if (byNumber.get(n) != null && rnd.nextInt(3) == 0) {
                    live.remove(byNumber.get(n));
                    byNumber.set(n, null);
                    incarnation.set(n, null);
                    free.add(n);
                }
            }
        }

        int[] takeRenumbered() {
            int[] out = renumbered.stream().mapToInt(Integer::intValue).toArray();
            renumbered.clear();
            return out;
        }
    }

    @Test
    void seriesThatLeaveAndNumbersGivenAgainReadBackAsTheirKeysAcrossRolls() throws Exception {
        SplittableRandom rnd = new SplittableRandom(17);
        ModelShard[] shards = {new ModelShard(0, rnd, 2_500), new ModelShard(1, rnd, 400)};
        RecordEncoder encoder = new RecordEncoder(SHARDS);
        long segment = 0;
        encoder.header(segment);
        List<String> expected = new ArrayList<>();
        List<Integer> expectedRecords = new ArrayList<>();
        Set<Object> inSegment = new HashSet<>();
        int maxNumber = 0;
        int reused = 0;
        long t = 1_000_000;
        for (int step = 0; step < 400; step++) {
            ModelShard shard = shards[rnd.nextInt(SHARDS)];
            int action = rnd.nextInt(20);
            if (action == 0) {
                shard.removeSome();
                continue;
            }
            if (action == 1) {
                segment = roll(encoder, segment, inSegment.size(), expectedRecords);
                inSegment.clear();
                continue;
            }
            int n = step % 9 == 0 ? 1 + rnd.nextInt(4) : 1 + rnd.nextInt(600);
            List<Point> points = new ArrayList<>(n);
            int[] numbers = new int[n];
            List<Object> incarnations = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                int number = shard.pick();
                String content = shard.byNumber.get(number);
                t += rnd.nextInt(3);
                double value = rnd.nextInt(10_000) / 8.0;
                // A new key instance for every point: the encoder must not care which instance comes.
                SeriesKey key = ModelShard.key(content);
                points.add(new Point(key, value, t, i + 1));
                numbers[i] = number;
                incarnations.add(shard.incarnation.get(number));
                maxNumber = Math.max(maxNumber, number);
            }
            if (action == 2) {
                // The part failed before it reached the log: its numbers go with the shard's next points.
                continue;
            }
            int[] renumbered = shard.takeRenumbered();
            reused += renumbered.length;
            encoder.points(shard.index, points, numbers, renumbered);
            for (int i = 0; i < n; i++) {
                Point p = points.get(i);
                expected.add("point " + shard.index + " " + p.series() + " " + p.timestamp() + " " + p.value());
            }
            inSegment.addAll(incarnations);
            assertEquals(inSegment.size(), encoder.references(), "one reference per series in the segment");
        }
        roll(encoder, segment, inSegment.size(), expectedRecords);
        assertTrue(maxNumber > 1_024, "numbers past the first table: " + maxNumber);
        assertTrue(reused > 500, "numbers given again: " + reused);
        assertTrue(expectedRecords.size() > 10, "segments: " + expectedRecords.size());

        WalTest.Recorder replay = new WalTest.Recorder();
        WalReader.Result r = WalReader.read(dir, SHARDS, replay);
        assertEquals(0, r.corruptions());
        List<String> points = new ArrayList<>();
        for (String e : replay.events) {
            if (e.startsWith("point ")) {
                points.add(e);
            }
        }
        assertEquals(expected, points);
    }

    @Test
    void aNumberGivenAgainInTheSameSegmentGetsANewReferenceAndSeriesRecord() throws Exception {
        RecordEncoder encoder = new RecordEncoder(1);
        encoder.header(0);
        SeriesKey a = SeriesKey.of("m", Map.of("host", "a"));
        SeriesKey b = SeriesKey.of("m", Map.of("host", "b"));
        encoder.points(0, List.of(new Point(a, 1, 1_000, 1), new Point(a, 2, 1_001, 2)), new int[] {5, 5},
                new int[0]);
        // Number 5 now belongs to b: told so, the encoder gives it a new reference and a series record.
        encoder.points(0, List.of(new Point(b, 3, 1_002, 1)), new int[] {5}, new int[] {5});
        encoder.points(0, List.of(new Point(b, 4, 1_003, 1)), new int[] {5}, new int[0]);
        assertEquals(2, encoder.references());
        WalFormat.Out out = encoder.out();
        byte[] data = Arrays.copyOf(out.buf, out.size);
        Files.write(dir.resolve(WalFormat.fileName(0)), data);
        assertEquals(2, seriesRecords(data));
        WalTest.Recorder replay = new WalTest.Recorder();
        WalReader.read(dir, 1, replay);
        assertEquals(List.of("point 0 m{host=a} 1000 1.0", "point 0 m{host=a} 1001 2.0", "point 0 m{host=b} 1002 3.0",
                "point 0 m{host=b} 1003 4.0"), replay.events);
    }

    /** Writes the segment encoded so far to its file and starts the next; returns the next one's number. */
    private long roll(RecordEncoder encoder, long segment, int seriesInSegment, List<Integer> expectedRecords)
            throws Exception {
        WalFormat.Out out = encoder.out();
        byte[] data = Arrays.copyOf(out.buf, out.size);
        Files.write(dir.resolve(WalFormat.fileName(segment)), data);
        out.reset();
        assertEquals(seriesInSegment, seriesRecords(data), "one series record per series in segment " + segment);
        expectedRecords.add(seriesInSegment);
        encoder.header(segment + 1);
        assertEquals(0, encoder.references());
        return segment + 1;
    }

    private static int seriesRecords(byte[] data) {
        int count = 0;
        int pos = 0;
        while (pos + WalFormat.FRAME <= data.length) {
            if (data[pos] == WalFormat.SERIES) {
                count++;
            }
            int len = ((data[pos + 1] & 0xFF) << 24) | ((data[pos + 2] & 0xFF) << 16)
                    | ((data[pos + 3] & 0xFF) << 8) | (data[pos + 4] & 0xFF);
            pos += WalFormat.FRAME + len;
        }
        return count;
    }
}
