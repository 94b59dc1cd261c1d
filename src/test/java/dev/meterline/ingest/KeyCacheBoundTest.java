package dev.meterline.ingest;

import dev.meterline.config.Config;
import dev.meterline.config.ConfigException;
import dev.meterline.model.Point;
import dev.meterline.model.Reject;
import dev.meterline.model.SeriesKey;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The decoder's key cache at its bound, through the real decoder and its meters; and the setting that bounds it. */
class KeyCacheBoundTest {

    private static final int SERIES = 20_000;

    /** Sends series {@code 0..SERIES-1} in turn, {@code passes} times, in reads of 500 lines; returns the points. */
    private static List<Point> send(IngestCodec codec, int passes) {
        List<Point> points = new ArrayList<>();
        LineDecoder d = codec.decoder(new LineDecoder.Output() {
            @Override
            public void point(Point p) {
                points.add(p);
            }

            @Override
            public void reject(Reject r) {
                throw new AssertionError("rejected: " + r.message());
            }

            @Override
            public void sync(String id, int line) {
            }
        });
        StringBuilder sb = new StringBuilder();
        for (int n = 0; n < passes * SERIES; n++) {
            int i = n % SERIES;
            sb.append("{\"metric\":\"cpu").append(i % 7).append("\",\"value\":").append(n)
                    .append(",\"timestamp\":1000,\"tags\":{\"host\":\"h").append(i).append("\",\"dc\":\"d")
                    .append(i % 3).append("\"}}\n");
            if (sb.length() > 50_000 || n == passes * SERIES - 1) {
                byte[] b = sb.toString().getBytes(StandardCharsets.US_ASCII);
                d.decode(b, 0, b.length, 0);
                sb.setLength(0);
            }
        }
        return points;
    }

    private static SeriesKey expected(int i) {
        return SeriesKey.of("cpu" + (i % 7), Map.of("host", "h" + i, "dc", "d" + (i % 3)));
    }

    @Test
    void aCrowdedCacheStaysWithinItsBoundAndEveryPointKeepsItsOwnSeries() {
        IngestCodec codec = new IngestCodec(1024, 8, 4096);
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        codec.bindTo(registry);
        int passes = 12;
        List<Point> points = send(codec, passes);
        assertEquals(passes * SERIES, points.size());
        for (int n = 0; n < points.size(); n++) {
            assertEquals(expected(n % SERIES), points.get(n).series(), "point " + n);
        }
        // 20 000 series crowd the 4096 slots: the cache stops growing, and looking up, once its window counted them.
        assertTrue(codec.keyCache().crowded());
        assertTrue(codec.keyCache().capacity() <= 4096, "capacity: " + codec.keyCache().capacity());
        assertEquals(4096, registry.get("meterline.keycache.max").gauge().value());
        assertEquals(codec.keyCache().capacity(), registry.get("meterline.keycache.capacity").gauge().value());
        assertTrue(registry.get("meterline.keycache.size").gauge().value() <= 4096);
        double misses = registry.get("meterline.keycache.lookups").tag("result", "miss").functionCounter().count();
        double hits = registry.get("meterline.keycache.lookups").tag("result", "hit").functionCounter().count();
        assertTrue(misses > hits, "20 000 series through 4096 slots mostly miss: " + hits + " hits, " + misses);
    }

    @Test
    void belowItsBoundTheCacheGrowsToTheSeriesAndThenHits() {
        IngestCodec codec = new IngestCodec(1024, 8, 1 << 20);
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        codec.bindTo(registry);
        send(codec, 30);
        double size = registry.get("meterline.keycache.size").gauge().value();
        double capacity = registry.get("meterline.keycache.capacity").gauge().value();
        assertTrue(capacity >= 2 * SERIES && capacity < 8 * SERIES, "capacity: " + capacity);
        assertTrue(size > SERIES * 0.9 && size <= SERIES, "size: " + size);
        double hitsBefore = registry.get("meterline.keycache.lookups").tag("result", "hit").functionCounter().count();
        double missesBefore = registry.get("meterline.keycache.lookups").tag("result", "miss").functionCounter().count();
        send(codec, 8);
        double hits = registry.get("meterline.keycache.lookups").tag("result", "hit").functionCounter().count()
                - hitsBefore;
        double misses = registry.get("meterline.keycache.lookups").tag("result", "miss").functionCounter().count()
                - missesBefore;
        assertTrue(hits > 9 * misses, hits + " hits, " + misses + " misses once grown");
    }

    @Test
    void theBoundIsASettingCheckedAtStart() {
        assertEquals(IngestCodec.DEFAULT_KEY_CACHE_MAX, Config.load(Map.of(), new String[0]).ingest().keyCacheMax());
        assertEquals(65_536, Config.load(Map.of(), new String[] {"--key-cache-max=65536"}).ingest().keyCacheMax());
        assertEquals("METERLINE_KEY_CACHE_MAX / --key-cache-max: '3' (expected: a whole number from 4 to 1073741824)",
                assertThrows(ConfigException.class, () -> Config.load(Map.of(), new String[] {"--key-cache-max=3"})).getMessage());
        // A bound that is not a power of two is rounded up.
        IngestCodec codec = new IngestCodec(1024, 8, 5000);
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        codec.bindTo(registry);
        assertEquals(8192, registry.get("meterline.keycache.max").gauge().value());
    }
}
