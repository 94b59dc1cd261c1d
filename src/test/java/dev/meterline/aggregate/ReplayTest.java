package dev.meterline.aggregate;

import dev.meterline.config.AggregationConfig;
import dev.meterline.model.Batch;
import dev.meterline.model.Part;
import dev.meterline.model.Point;
import dev.meterline.model.SeriesKey;
import dev.meterline.model.Window;
import dev.meterline.telemetry.PipelineMetrics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Replay rebuilds exactly what a shard held: the points it took and the closes it made, fed back in the same order,
 * give the same windows under the same flush numbers (late marks included); flushes the store already holds are
 * dropped, the others wait to be stored, and the open windows are open again.
 */
class ReplayTest {

    private static final long WINDOW = 10_000;
    private static final long LATENESS = 5_000;

    /** One record of a shard's journal. */
    private record Entry(List<Point> points, long seq, long cutoff) {
    }

    private static Part part(List<Point> points) {
        Batch b = new Batch(batch -> { }, points, new ArrayList<>(), null);
        b.validated(List.of(), 1);
        return new Part(0, b, points);
    }

    private static String describe(Window w) {
        return w.series() + "@" + w.start() + " seq " + w.flushSeq() + " complete " + w.complete() + ": "
                + w.aggregate().count() + " " + w.aggregate().sum() + " " + w.aggregate().min() + " "
                + w.aggregate().max() + " " + w.aggregate().last() + " " + w.aggregate().firstTimestamp() + " "
                + w.aggregate().lastTimestamp() + " late " + w.aggregate().late() + " p99 "
                + w.aggregate().valueAtQuantile(0.99) + " sketch " + Arrays.hashCode(w.aggregate().sketchBytes());
    }

    private static List<String> describe(List<Window> windows) {
        List<String> out = new ArrayList<>();
        for (Window w : windows) {
            out.add(describe(w));
        }
        out.sort(Comparator.naturalOrder());
        return out;
    }

    @Test
    void aReplayedJournalRebuildsTheSameWindowsAndDropsWhatTheStoreHolds() {
        SplittableRandom random = new SplittableRandom(29);
        SeriesKey[] keys = new SeriesKey[12];
        for (int i = 0; i < keys.length; i++) {
            keys[i] = SeriesKey.of("cpu", Map.of("host", "h" + i));
        }
        // The original run: a shard aggregates parts and closes windows as the clock moves; every step is journaled.
        Shard original = new Shard(0, WINDOW, LATENESS, new SeriesBudget(1_000));
        List<Entry> journal = new ArrayList<>();
        TreeMap<Long, List<Window>> flushed = new TreeMap<>();
        long now = 100_000;
        long seq = 0;
        for (int step = 0; step < 40; step++) {
            List<Point> points = new ArrayList<>();
            for (int i = 0; i < 50; i++) {
                // Mostly current points, some late ones for windows already closed.
                long ts = now - (random.nextInt(10) == 0 ? 30_000 : random.nextInt(8_000));
                points.add(new Point(keys[random.nextInt(keys.length)], random.nextInt(1000) / 4.0, ts, i + 1));
            }
            Shard.Recorded r = original.aggregate(part(points), 0);
            journal.add(new Entry(r.taken(), 0, 0));
            now += 2_000;
            if (step % 3 == 2) {
                seq++;
                flushed.put(seq, original.close(now, seq));
                journal.add(new Entry(null, seq, now));
            }
        }
        List<Window> openBefore = original.closeAll(now, 999);
        assertTrue(openBefore.size() > 0 && flushed.size() > 5);
        long late = flushed.values().stream().flatMap(List::stream).mapToLong(w -> w.aggregate().late()).sum();
        assertTrue(late > 0, "the journal holds late points");

        // The store holds flushes up to 7; the rest were lost with the process.
        long committed = 7;
        Scheduler scheduler = Schedulers.newSingle("replay-test");
        try {
            Aggregation rebuilt = new Aggregation(new AggregationConfig(Duration.ofMillis(WINDOW),
                    Duration.ofMillis(LATENESS), Duration.ofSeconds(1), 1_000, 1), new SeriesBudget(1_000), scheduler,
                    new PipelineMetrics(new SimpleMeterRegistry()), () -> 0L);
            rebuilt.startSeqAfter(committed);
            rebuilt.replayStart(committed);
            for (Entry e : journal) {
                if (e.points() != null) {
                    for (Point p : e.points()) {
                        rebuilt.replayPoint(0, SeriesKey.of(p.series().metric(), p.series().tags()), p.timestamp(),
                                p.value(), 1);
                    }
                } else {
                    rebuilt.replayClosed(0, e.seq(), e.cutoff(), false);
                }
            }
            rebuilt.replayDone();

            Map<Long, List<Window>> pending = rebuilt.pending().view();
            assertEquals(flushed.tailMap(committed, false).keySet(), pending.keySet(),
                    "flushes after the store's last wait to be stored, none before");
            for (Map.Entry<Long, List<Window>> e : pending.entrySet()) {
                assertEquals(describe(flushed.get(e.getKey())), describe(e.getValue()), "flush " + e.getKey());
            }
            Predicate<SeriesKey> any = k -> true;
            List<Window> open = rebuilt.snapshot("cpu", Map.of(), any, Long.MIN_VALUE, Long.MAX_VALUE).block()
                    .windows();
            assertEquals(openBefore.size(), open.size());
            long openPoints = open.stream().mapToLong(w -> w.aggregate().count()).sum();
            assertEquals(openBefore.stream().mapToLong(w -> w.aggregate().count()).sum(), openPoints);
            List<Window> reopened = new ArrayList<>();
            rebuilt.close(Long.MAX_VALUE).block().windows().forEach(reopened::add);
            assertEquals(flushed.lastKey() + 1, reopened.get(0).flushSeq(), "new flushes are numbered after the log's");
        } finally {
            scheduler.dispose();
        }
    }
}
