package dev.meterline.wal;

import dev.meterline.model.Point;
import dev.meterline.model.SeriesKey;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The encoder's look-ups of series references (at the home slot for a whole part, then by the point's hash) give each
 * series one reference and one series record per segment whichever instance of its key comes, in tables far past
 * their first growth, and the segment reads back point for point.
 */
class RecordEncoderTest {

    @TempDir
    Path dir;

    @Test
    void manySeriesInManyInstancesReadBackPointForPoint() throws Exception {
        int series = 12_000;
        SplittableRandom rnd = new SplittableRandom(3);
        SeriesKey[][] instances = new SeriesKey[series][2];
        for (int s = 0; s < series; s++) {
            for (int c = 0; c < 2; c++) {
                instances[s][c] = SeriesKey.of("m" + (s % 11), Map.of("host", "h" + s));
            }
        }
        RecordEncoder encoder = new RecordEncoder(2);
        encoder.header(0);
        List<String> expected = new ArrayList<>();
        boolean[] seen = new boolean[series];
        int distinct = 0;
        long t = 1_000_000;
        for (int part = 0; part < 60; part++) {
            int n = part % 7 == 0 ? 1 + rnd.nextInt(8) : 1 + rnd.nextInt(2_000);
            int shard = part % 2;
            List<Point> points = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                int s = rnd.nextInt(series);
                // Mostly the first instance, sometimes the second, now and then one never seen before.
                SeriesKey key = rnd.nextInt(200) == 0 ? SeriesKey.of("m" + (s % 11), Map.of("host", "h" + s))
                        : instances[s][rnd.nextInt(8) == 0 ? 1 : 0];
                t += rnd.nextInt(3);
                double value = rnd.nextInt(10_000) / 8.0;
                points.add(new Point(key, value, t, i + 1));
                expected.add("point " + shard + " " + key + " " + t + " " + value);
                if (!seen[s]) {
                    seen[s] = true;
                    distinct++;
                }
            }
            encoder.points(shard, points);
        }
        WalFormat.Out out = encoder.out();
        byte[] data = Arrays.copyOf(out.buf, out.size);
        Files.write(dir.resolve(WalFormat.fileName(0)), data);

        WalTest.Recorder replay = new WalTest.Recorder();
        WalReader.Result r = WalReader.read(dir, 2, replay);
        assertEquals(0, r.corruptions());
        List<String> points = new ArrayList<>();
        for (String e : replay.events) {
            if (e.startsWith("point ")) {
                points.add(e);
            }
        }
        assertEquals(expected, points);
        assertEquals(distinct, seriesRecords(data), "one series record per series");
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
