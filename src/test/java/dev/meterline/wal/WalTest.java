package dev.meterline.wal;

import dev.meterline.config.WalConfig;
import dev.meterline.config.WalFsync;
import dev.meterline.model.Point;
import dev.meterline.model.SeriesKey;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The log on its own: what is appended reads back in order, and the damage table (after Prometheus's wlog tests):
 * each kind of damage keeps the valid prefix, repairs the log so that the next start finds it clean, and is counted.
 */
class WalTest {

    private static final int BATCH = 50;
    /** No series number given to another series. */
    private static final int[] NONE = new int[0];
    private static final ContentNumbers NUMBERS = new ContentNumbers();
    private static final WalConfig SMALL_SEGMENTS =
            new WalConfig(WalFsync.INTERVAL, 1 << 30, WalConfig.MIN_SEGMENT_BYTES, Duration.ofSeconds(1));

    @TempDir
    Path dir;

    /** What a replay delivered, in order. */
    static final class Recorder implements Replay {
        final List<String> events = new ArrayList<>();
        final List<Double> values = new ArrayList<>();

        @Override
        public void closedThrough(int shard, long cutoff) {
            events.add("through " + shard + " " + cutoff);
        }

        @Override
        public void point(int shard, SeriesKey series, long timestamp, double value, long segment) {
            values.add(value);
            events.add("point " + shard + " " + series + " " + timestamp + " " + value);
        }

        @Override
        public void closed(int shard, long seq, long cutoff, boolean all) {
            events.add("closed " + shard + " " + seq + " " + cutoff + " " + all);
        }
    }

    private record Opened(Wal wal, Recorder replay, SimpleMeterRegistry registry) {
        double corruptions() {
            return registry.get("meterline.wal.corruptions").counter().count();
        }
    }

    private Opened open() {
        Recorder r = new Recorder();
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        Wal wal = Wal.open(dir, SMALL_SEGMENTS, 2, r, registry, paused -> { });
        return new Opened(wal, r, registry);
    }

    /** Appends {@code batches} batches of {@link #BATCH} points, values counting up from 0; waits until written. */
    private static void append(Wal wal, int batches) throws InterruptedException {
        CountDownLatch written = new CountDownLatch(batches);
        int v = 0;
        for (int b = 0; b < batches; b++) {
            List<Point> points = new ArrayList<>();
            for (int i = 0; i < BATCH; i++, v++) {
                SeriesKey key = SeriesKey.of("m", Map.of("host", "h" + (v % 7)));
                points.add(new Point(key, v, 1_000_000L + v, i + 1));
            }
            wal.points(b % 2, points, NUMBERS.of(points), NONE, written::countDown);
        }
        assertTrue(written.await(30, TimeUnit.SECONDS), "appended batches were written");
    }

    private TreeMap<Long, Path> segments() {
        return WalReader.segments(dir);
    }

    /** Offsets of the records of {@code file}. */
    private static List<Integer> records(Path file) throws IOException {
        byte[] data = Files.readAllBytes(file);
        List<Integer> out = new ArrayList<>();
        int pos = 0;
        while (pos + WalFormat.FRAME <= data.length) {
            out.add(pos);
            int len = ((data[pos + 1] & 0xFF) << 24) | ((data[pos + 2] & 0xFF) << 16) | ((data[pos + 3] & 0xFF) << 8)
                    | (data[pos + 4] & 0xFF);
            pos += WalFormat.FRAME + len;
        }
        return out;
    }

    /** Writes a log of several segments and closes it (as a crash would leave it: nothing is removed). */
    private int writeLog() throws Exception {
        Opened first = open();
        append(first.wal(), 40);
        first.wal().close();
        assertTrue(segments().size() >= 4, "several segments: " + segments().keySet());
        return 40 * BATCH;
    }

    @Test
    void appendedPointsAndClosesReadBackInOrder() throws Exception {
        Opened first = open();
        append(first.wal(), 3);
        first.wal().closed(1, 7, 5_000, false);
        CountDownLatch synced = new CountDownLatch(1);
        first.wal().sync(synced::countDown);
        assertTrue(synced.await(10, TimeUnit.SECONDS));
        first.wal().close();

        Opened again = open();
        again.wal().close();
        List<String> events = again.replay().events;
        assertEquals(3 * BATCH + 1, events.size(), events.toString());
        assertEquals("point 0 m{host=h0} 1000000 0.0", events.get(0));
        assertEquals("point 1 m{host=h1} 1000050 50.0", events.get(BATCH));
        assertEquals("closed 1 7 5000 false", events.get(events.size() - 1));
        assertEquals(0, again.corruptions());
    }

    @Test
    void instancesOfOneSeriesShareOneSeriesRecordAndReplayAsOneSeries() throws Exception {
        // Two instances of each of 5 series, as two event loops' key caches hand them out, alternating point by point.
        SeriesKey[][] instances = new SeriesKey[5][2];
        for (int s = 0; s < instances.length; s++) {
            for (int copy = 0; copy < 2; copy++) {
                instances[s][copy] = SeriesKey.of("m", Map.of("host", "h" + s));
            }
        }
        Opened first = open();
        CountDownLatch written = new CountDownLatch(4);
        for (int b = 0; b < 4; b++) {
            List<Point> points = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                points.add(new Point(instances[i % 5][(i / 5 + b) % 2], b * 10 + i, 1_000_000L + b * 10 + i, 1));
            }
            first.wal().points(0, points, NUMBERS.of(points), NONE, written::countDown);
        }
        assertTrue(written.await(30, TimeUnit.SECONDS), "appended batches were written");
        first.wal().close();

        assertEquals(1, segments().size(), segments().toString());
        Path segment = segments().firstEntry().getValue();
        byte[] data = Files.readAllBytes(segment);
        long seriesRecords = records(segment).stream().filter(pos -> data[pos] == WalFormat.SERIES).count();
        assertEquals(5, seriesRecords, "one series record per series, whichever instance came first");

        Opened again = open();
        again.wal().close();
        List<String> events = again.replay().events;
        assertEquals(40, events.size(), events.toString());
        for (int i = 0; i < 40; i++) {
            assertEquals("point 0 m{host=h" + (i % 10 % 5) + "} " + (1_000_000L + i) + " " + (double) i,
                    events.get(i));
        }
    }

    @Test
    void aNewSegmentCarriesTheCutoffsSoFar() throws Exception {
        Opened first = open();
        first.wal().closed(1, 3, 42_000, false);
        append(first.wal(), 30);
        first.wal().close();
        Opened again = open();
        again.wal().close();
        assertTrue(again.replay().events.contains("through 1 42000"), again.replay().events.toString());
    }

    @Test
    void aCleanLogIsReadWhole() throws Exception {
        int written = writeLog();
        Opened again = open();
        again.wal().close();
        assertEquals(written, again.replay().values.size());
        assertEquals(0, again.corruptions());
        for (int i = 0; i < written; i++) {
            assertEquals(i, again.replay().values.get(i), 0.0);
        }
    }

    /** Damages a written log and says how many points the valid prefix holds. */
    @FunctionalInterface
    private interface Damage {
        int apply() throws IOException;
    }

    /** Writes a log, damages it, then checks the valid prefix is replayed, the damage counted, the repair lasting. */
    private void assertRepaired(Damage damage) throws Exception {
        writeLog();
        int expected = damage.apply();
        Opened again = open();
        again.wal().close();
        List<Double> values = again.replay().values;
        assertEquals(expected, values.size(), "points kept");
        for (int i = 0; i < values.size(); i++) {
            assertEquals(i, values.get(i), 0.0, "the kept points are a prefix");
        }
        assertEquals(1, again.corruptions(), "damage counted");
        Opened third = open();
        third.wal().close();
        assertEquals(0, third.corruptions(), "repaired: the next start finds no damage");
        assertEquals(expected, third.replay().values.size(), "the same prefix again");
    }

    /** Points in every segment before {@code file}, plus those in its first {@code records} records. */
    private int pointsUpTo(Path file, int records) throws IOException {
        long segment = WalFormat.segmentOf(file.getFileName().toString());
        int n = 0;
        for (Path p : segments().headMap(segment).values()) {
            n += samples(p, Integer.MAX_VALUE);
        }
        return n + samples(file, records);
    }

    /** Points in the first {@code records} records of {@code file}. */
    private static int samples(Path file, int records) throws IOException {
        byte[] data = Files.readAllBytes(file);
        int n = 0;
        int i = 0;
        for (int pos : records(file)) {
            if (i++ >= records) {
                break;
            }
            if (data[pos] == WalFormat.SAMPLES) {
                n += BATCH;
            }
        }
        return n;
    }

    private Path last() {
        return segments().lastEntry().getValue();
    }

    private Path middle() {
        List<Path> all = new ArrayList<>(segments().values());
        return all.get(all.size() / 2);
    }

    private static void writeAt(Path file, long offset, byte[] bytes) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.seek(offset);
            f.write(bytes);
        }
    }

    /** The record that holds the first sample record of {@code file} after its header. */
    private static int sampleRecord(Path file) throws IOException {
        byte[] data = Files.readAllBytes(file);
        for (int pos : records(file)) {
            if (data[pos] == WalFormat.SAMPLES) {
                return pos;
            }
        }
        throw new AssertionError("no sample record in " + file);
    }

    private static int recordIndex(Path file, int offset) throws IOException {
        return records(file).indexOf(offset);
    }

    @Test
    void tornLastRecord() throws Exception {
        assertRepaired(() -> {
            Path last = last();
            List<Integer> recs = records(last);
            int expected = pointsUpTo(last, recs.size() - 1);
            long size = Files.size(last);
            try (RandomAccessFile f = new RandomAccessFile(last.toFile(), "rw")) {
                f.setLength(size - 5);
            }
            return expected;
        });
        assertFalse(segments().isEmpty());
    }

    @Test
    void badChecksum() throws Exception {
        assertRepaired(() -> {
            Path m = middle();
            int rec = sampleRecord(m);
            int expected = pointsUpTo(m, recordIndex(m, rec));
            byte[] data = Files.readAllBytes(m);
            writeAt(m, rec + WalFormat.FRAME + 3, new byte[]{(byte) ~data[rec + WalFormat.FRAME + 3]});
            return expected;
        });
    }

    @Test
    void badLength() throws Exception {
        assertRepaired(() -> {
            Path m = middle();
            int rec = sampleRecord(m);
            int expected = pointsUpTo(m, recordIndex(m, rec));
            writeAt(m, rec + 1, new byte[]{0x7F, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF});
            return expected;
        });
    }

    @Test
    void truncatedSegmentInTheMiddle() throws Exception {
        assertRepaired(() -> {
            Path m = middle();
            List<Integer> recs = records(m);
            int cut = recs.get(recs.size() / 2) + 4;
            int expected = pointsUpTo(m, recs.size() / 2);
            try (RandomAccessFile f = new RandomAccessFile(m.toFile(), "rw")) {
                f.setLength(cut);
            }
            return expected;
        });
    }

    @Test
    void garbageSegment() throws Exception {
        assertRepaired(() -> {
            Path m = middle();
            int expected = pointsUpTo(m, 0);
            byte[] garbage = new byte[(int) Files.size(m)];
            new Random(13).nextBytes(garbage);
            Files.write(m, garbage);
            return expected;
        });
    }

    @Test
    void missingSegment() throws Exception {
        assertRepaired(() -> {
            Path m = middle();
            int expected = pointsUpTo(m, 0);
            Files.delete(m);
            return expected;
        });
    }

    @Test
    void aLogOfAnotherShardCountIsRefusedWithTheFix() throws Exception {
        writeLog();
        dev.meterline.config.ConfigException e = org.junit.jupiter.api.Assertions.assertThrows(
                dev.meterline.config.ConfigException.class,
                () -> Wal.open(dir, SMALL_SEGMENTS, 3, new Recorder(), new SimpleMeterRegistry(), p -> { }));
        assertTrue(e.getMessage().contains("--shards=2"), e.getMessage());
    }

    @Test
    void atTheBoundIngestPausesAndDroppingSegmentsResumesIt() throws Exception {
        List<Boolean> told = new java.util.concurrent.CopyOnWriteArrayList<>();
        WalConfig tiny = new WalConfig(WalFsync.INTERVAL, 3 * WalConfig.MIN_SEGMENT_BYTES,
                WalConfig.MIN_SEGMENT_BYTES, Duration.ofSeconds(1));
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        Wal wal = Wal.open(dir, tiny, 2, new Recorder(), registry, told::add);
        append(wal, 40);
        CountDownLatch synced = new CountDownLatch(1);
        wal.sync(synced::countDown);
        assertTrue(synced.await(10, TimeUnit.SECONDS));
        assertTrue(wal.paused(), "paused at " + wal.bytes() + " bytes");
        assertEquals(List.of(true), told);
        assertEquals(1, registry.get("meterline.wal.pauses").counter().count());
        CountDownLatch dropped = new CountDownLatch(1);
        wal.roll(() -> wal.dropBelow(wal.segment(), dropped::countDown));
        assertTrue(dropped.await(10, TimeUnit.SECONDS));
        assertFalse(wal.paused());
        assertEquals(List.of(true, false), told);
        assertEquals(1, wal.segments());
        wal.close();
    }

    @Test
    void pointsAcknowledgedBesideATaskAreAcknowledgedAfterTheBoundIsChecked() throws Exception {
        WalConfig tiny = new WalConfig(WalFsync.INTERVAL, 3 * WalConfig.MIN_SEGMENT_BYTES,
                WalConfig.MIN_SEGMENT_BYTES, Duration.ofSeconds(1));
        Wal wal = Wal.open(dir, tiny, 2, new Recorder(), new SimpleMeterRegistry(), paused -> { });
        // Hold the writer so that the points and the task behind them are taken as one batch.
        CountDownLatch holding = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        wal.sync(() -> {
            holding.countDown();
            awaitQuietly(release);
        });
        assertTrue(holding.await(10, TimeUnit.SECONDS));
        List<Boolean> pausedWhenAcknowledged = new java.util.concurrent.CopyOnWriteArrayList<>();
        List<Point> points = new ArrayList<>();
        for (int i = 0; i < 40 * BATCH; i++) {
            points.add(new Point(SeriesKey.of("m", Map.of("host", "h" + (i % 7))), i, 1_000_000L + i, i + 1));
        }
        wal.points(0, points, NUMBERS.of(points), NONE, () -> pausedWhenAcknowledged.add(wal.paused()));
        CountDownLatch tasked = new CountDownLatch(1);
        wal.dropBelow(0, tasked::countDown);
        release.countDown();
        assertTrue(tasked.await(10, TimeUnit.SECONDS));
        assertEquals(List.of(true), pausedWhenAcknowledged, "the client answered for the points finds ingest paused");
        wal.close();
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Test
    void underAlwaysTheBatchesWaitingForTheWriterShareOneFsync() throws Exception {
        WalConfig always = new WalConfig(WalFsync.ALWAYS, 1 << 30, 1 << 20, Duration.ofSeconds(1));
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        Wal wal = Wal.open(dir, always, 2, new Recorder(), registry, p -> { });
        CountDownLatch held = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        wal.sync(() -> {
            held.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        assertTrue(held.await(10, TimeUnit.SECONDS));
        long before = registry.get("meterline.wal.fsync.duration").timer().count();
        int clients = 4;
        int each = 25;
        CountDownLatch written = new CountDownLatch(clients * each);
        List<Long> fsyncsSeen = new java.util.concurrent.CopyOnWriteArrayList<>();
        List<Thread> threads = new ArrayList<>();
        for (int c = 0; c < clients; c++) {
            int client = c;
            Thread t = new Thread(() -> {
                for (int i = 0; i < each; i++) {
                    SeriesKey key = SeriesKey.of("m", Map.of("c", String.valueOf(client)));
                    wal.points(client % 2, List.of(new Point(key, i, 1_000L + i, 1)), new int[] {client}, NONE, () -> {
                        fsyncsSeen.add(registry.get("meterline.wal.fsync.duration").timer().count());
                        written.countDown();
                    });
                }
            });
            t.start();
            threads.add(t);
        }
        for (Thread t : threads) {
            t.join();
        }
        release.countDown();
        assertTrue(written.await(10, TimeUnit.SECONDS));
        assertEquals(before + 1, registry.get("meterline.wal.fsync.duration").timer().count(),
                "one fsync for the hundred batches that waited");
        for (long seen : fsyncsSeen) {
            assertEquals(before + 1, seen, "each batch is told only after the fsync");
        }
        wal.close();
    }
}
