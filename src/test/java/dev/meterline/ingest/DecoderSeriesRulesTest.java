package dev.meterline.ingest;

import dev.meterline.config.ValidationConfig;
import dev.meterline.model.Point;
import dev.meterline.model.Reject;
import dev.meterline.model.RejectReason;
import dev.meterline.model.SeriesKey;
import dev.meterline.model.SeriesRules;
import dev.meterline.validate.Validator;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

/**
 * The decoders apply the series rules where they build a key, once per key built: a key the plain path's cache
 * hands out again is neither checked nor enriched again, and a refused series is never cached, so every line of it
 * is refused with its own line number.
 */
class DecoderSeriesRulesTest {

    /** The real rules, counting the keys they are asked about. */
    private static final class CountingRules implements SeriesRules {
        final Validator rules = new Validator(new ValidationConfig(8, Duration.ofMinutes(10), Duration.ofDays(1),
                List.of("zone", "a"), 1));
        final List<SeriesKey> checked = new ArrayList<>();

        @Override
        public RejectReason checkSeries(SeriesKey key) {
            checked.add(key);
            return rules.checkSeries(key);
        }

        @Override
        public SeriesKey enrich(SeriesKey key) {
            return rules.enrich(key);
        }
    }

    private final CountingRules rules = new CountingRules();
    private final List<Point> points = new ArrayList<>();
    private final List<Reject> rejects = new ArrayList<>();
    private final LineDecoder decoder = new IngestCodec(1024, 8, 4096, rules).decoder(new LineDecoder.Output() {
        @Override
        public void point(Point p) {
            points.add(p);
        }

        @Override
        public void reject(Reject r) {
            rejects.add(r);
        }

        @Override
        public void sync(String id, int line) {
        }
    });

    private void decode(String lines) {
        byte[] b = lines.getBytes(StandardCharsets.UTF_8);
        decoder.decode(b, 0, b.length, 1_000);
    }

    @Test
    void aCachedKeyIsCheckedAndEnrichedOnce() {
        String line = "{\"metric\":\"cpu\",\"value\":1,\"timestamp\":5,\"tags\":{\"host\":\"web-1\"}}\n";
        decode(line + line);
        decode(line);

        assertEquals(3, decoder.plainLines(), "the plain path took every line");
        assertEquals(1, rules.checked.size(), "checked once: " + rules.checked);
        assertEquals(3, points.size());
        assertEquals(SeriesKey.of("cpu", Map.of("host", "web-1", "zone", "a")), points.get(0).series(),
                "the static tag added once, with the check");
        assertSame(points.get(0).series(), points.get(1).series());
        assertSame(points.get(0).series(), points.get(2).series());
        assertEquals(List.of(), rejects);
    }

    @Test
    void aRefusedSeriesIsNeverCachedAndEachOfItsLinesIsRefused() {
        String bad = "{\"metric\":\"cpu\",\"value\":1,\"tags\":{\"host\":\"" + "v".repeat(257) + "\"}}\n";
        String good = "{\"metric\":\"cpu\",\"value\":2}\n";
        decode(bad + good + bad);
        decode(bad);

        assertEquals(4, decoder.plainLines());
        assertEquals(List.of(Reject.of(1, RejectReason.TAG_VALUE_LENGTH), Reject.of(3, RejectReason.TAG_VALUE_LENGTH),
                Reject.of(4, RejectReason.TAG_VALUE_LENGTH)), rejects);
        assertEquals(1, points.size());
        assertEquals(2, points.get(0).line());
        assertEquals(4, rules.checked.size(), "the refused key was built and checked for each of its lines");
    }

    @Test
    void theJacksonPathChecksEveryKeyItBuilds() {
        String escaped = "{\"metric\":\"cpu\\u0041\",\"value\":1}\n";
        String control = "{\"metric\":\"cpu\\u0007\",\"value\":1}\n";
        decode(escaped + control + escaped);

        assertEquals(0, decoder.plainLines(), "escapes go through Jackson");
        assertEquals(List.of(Reject.of(2, RejectReason.METRIC_CONTROL_CHARS)), rejects);
        assertEquals(2, points.size());
        assertEquals(SeriesKey.of("cpuA", Map.of("zone", "a")), points.get(0).series());
        assertEquals(3, rules.checked.size());
    }
}
