package dev.meterline.bench;

import dev.meterline.ShardedReplay;
import dev.meterline.aggregate.Aggregation;
import dev.meterline.aggregate.SeriesBudget;
import dev.meterline.config.AggregationConfig;
import dev.meterline.config.WalConfig;
import dev.meterline.config.WalFsync;
import dev.meterline.model.Point;
import dev.meterline.model.SeriesKey;
import dev.meterline.telemetry.PipelineMetrics;
import dev.meterline.wal.Replay;
import dev.meterline.wal.Wal;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import reactor.core.scheduler.Schedulers;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Replay time of a large write-ahead log: writes {@code MiB} of log (10 000 series, points in batches of 4 096 over
 * two shards, in two windows per series as a log holds between flushes), then times opening it into real shards.
 *
 * <p>{@code java -cp target/meterline.jar:target/test-classes dev.meterline.bench.WalReplayBench [MiB] [dir]}
 */
public final class WalReplayBench {

    private WalReplayBench() {
    }

    public static void main(String[] args) throws Exception {
        long mib = args.length > 0 ? Long.parseLong(args[0]) : 256;
        Path dir = args.length > 1 ? Path.of(args[1]) : Files.createTempDirectory("meterline-wal-bench");
        int shards = 2;
        int series = 10_000;
        WalConfig config = new WalConfig(WalFsync.INTERVAL, 4L << 30, 32L << 20, Duration.ofSeconds(1));
        SeriesKey[] keys = new SeriesKey[series];
        for (int i = 0; i < series; i++) {
            keys[i] = SeriesKey.of("bench.metric", Map.of("host", "h" + (i % 100), "id", String.valueOf(i)));
        }
        Replay ignore = new Replay() {
            @Override
            public void closedThrough(int shard, long cutoff) {
            }

            @Override
            public void point(int shard, SeriesKey s, long timestamp, double value, long segment) {
            }

            @Override
            public void closed(int shard, long seq, long cutoff, boolean all) {
            }
        };
        Wal wal = Wal.open(dir, config, shards, ignore, new SimpleMeterRegistry(), paused -> { });
        long t0 = System.nanoTime();
        long points = 0;
        long ts = 1_764_000_000_000L;
        int k = 0;
        while (wal.bytes() < mib << 20) {
            int batches = 64;
            CountDownLatch written = new CountDownLatch(batches);
            for (int b = 0; b < batches; b++) {
                List<Point> batch = new ArrayList<>(4096);
                for (int i = 0; i < 4096; i++, k++) {
                    batch.add(new Point(keys[k % series], k % 1000 * 0.5, ts + k / (series * 2) % 2 * 10_000L, i));
                }
                int[] numbers = new int[batch.size()];
                for (int i = 0; i < numbers.length; i++) {
                    numbers[i] = (k - numbers.length + i) % series;
                }
                wal.points(b % shards, batch, numbers, new int[0], written::countDown);
                points += batch.size();
            }
            written.await();
        }
        wal.close();
        double writeSec = (System.nanoTime() - t0) / 1e9;
        long bytes = wal.bytes();
        System.out.printf(Locale.ROOT, "wrote %,d points, %,d bytes (%.1f bytes/point) in %d segments, %.1f s%n",
                points, bytes, (double) bytes / points, wal.segments(), writeSec);

        long t2 = System.nanoTime();
        Wal.open(dir, config, shards, ignore, new SimpleMeterRegistry(), paused -> { }).close();
        System.out.printf(Locale.ROOT, "read and decoded alone in %.2f s%n", (System.nanoTime() - t2) / 1e9);

        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        Aggregation aggregation = new Aggregation(new AggregationConfig(Duration.ofSeconds(10), Duration.ofSeconds(5),
                Duration.ofSeconds(1), 2_000_000, shards), new SeriesBudget(2_000_000), Schedulers.single(),
                new PipelineMetrics(registry), System::currentTimeMillis);
        aggregation.replayStart(0);
        long t1 = System.nanoTime();
        Wal reopened;
        try (ShardedReplay replay = new ShardedReplay(aggregation)) {
            reopened = Wal.open(dir, config, shards, replay, registry, paused -> { });
        }
        aggregation.replayDone();
        double replaySec = (System.nanoTime() - t1) / 1e9;
        reopened.close();
        System.out.printf(Locale.ROOT, "replayed %,d bytes into the shards in %.2f s (%.1f M points/s)%n", bytes,
                replaySec, points / replaySec / 1e6);
        try (var walk = Files.walk(dir)) {
            walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
        TimeUnit.MILLISECONDS.sleep(1);
    }
}
