package dev.meterline.store;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.meterline.Poll;
import dev.meterline.TestServer;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Test points for metric {@value #METRIC} over series {@code host=h0…}, spread over {@link #SPAN} ms from an aligned
 * base in the past, with the exact statistics expected per series and per 10 s window.
 */
final class SeriesTotals {

    static final String METRIC = "req.time";
    static final long SPAN = 180_000;
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Exact statistics of one series in one window (or in the whole span). */
    static final class Expected {
        long count;
        double sum;
        double min = Double.POSITIVE_INFINITY;
        double max = Double.NEGATIVE_INFINITY;
        long lastTs = Long.MIN_VALUE;
        double last;

        void add(double v, long ts) {
            count++;
            sum += v;
            min = Math.min(min, v);
            max = Math.max(max, v);
            if (ts > lastTs) {
                lastTs = ts;
                last = v;
            }
        }
    }

    final int series;
    final int pointsPerSeries;
    final long base;
    final Map<String, TreeMap<Long, Expected>> windows = new HashMap<>();
    final Map<String, Expected> totals = new HashMap<>();

    /** Points well in the past, so every window is due at once and the points are flushed on the next tick. */
    SeriesTotals(int series, int pointsPerSeries) {
        this.series = series;
        this.pointsPerSeries = pointsPerSeries;
        this.base = (System.currentTimeMillis() - 20 * 60_000) / SPAN * SPAN;
    }

    /** NDJSON of points {@code from} (inclusive) to {@code to} (exclusive) of every series, those of {@code part} of {@code parts}. */
    String lines(int from, int to, int parts, int part) {
        return lines(from, to, parts, part, series);
    }

    /** As above, of the first {@code seriesCount} series only. */
    String lines(int from, int to, int parts, int part, int seriesCount) {
        StringBuilder sb = new StringBuilder();
        for (int i = from; i < to; i++) {
            for (int s = 0; s < seriesCount; s++) {
                if ((i + s) % parts != part) {
                    continue;
                }
                // Multiples of 0.5 add up exactly in any order; timestamps are distinct per series, so last is exact.
                double v = ((i * 37L + s * 11L) % 1000) * 0.5 - 100;
                long ts = base + i * (SPAN / pointsPerSeries) + s;
                String host = "h" + s;
                sb.append("{\"metric\":\"" + METRIC + "\",\"value\":").append(v).append(",\"timestamp\":").append(ts)
                        .append(",\"tags\":{\"host\":\"").append(host).append("\",\"dc\":\"eu\"}}\n");
                windows.computeIfAbsent(host, h -> new TreeMap<>())
                        .computeIfAbsent(ts / 10_000 * 10_000, w -> new Expected()).add(v, ts);
                totals.computeIfAbsent(host, h -> new Expected()).add(v, ts);
            }
        }
        return sb.toString();
    }

    long expectedCount() {
        long n = 0;
        for (Expected e : totals.values()) {
            n += e.count;
        }
        return n;
    }

    /** Every 10 s window of every series, as {@code server} answers it, equals what was sent. */
    void assertWindows(TestServer server) throws Exception {
        JsonNode body = query(server, "/api/v1/aggregates?metric=" + METRIC + "&from=" + base + "&to=" + (base + SPAN));
        assertEquals(totals.size(), body.get("series").size(), body.toString());
        for (JsonNode s : body.get("series")) {
            String host = s.get("tags").get("host").asText();
            TreeMap<Long, Expected> want = windows.get(host);
            assertEquals(want.size(), s.get("windows").size(), host);
            for (JsonNode w : s.get("windows")) {
                assertSame(want.get(w.get("start").asLong()), w, host + " @" + w.get("start"));
            }
        }
    }

    /** One window per series over the whole span, as {@code server} answers it, equals what was sent. */
    void assertTotals(TestServer server) throws Exception {
        JsonNode body = query(server, "/api/v1/aggregates?metric=" + METRIC + "&from=" + base + "&to=" + (base + SPAN)
                + "&resolution=3m");
        assertEquals(totals.size(), body.get("series").size(), body.toString());
        for (JsonNode s : body.get("series")) {
            String host = s.get("tags").get("host").asText();
            assertEquals(1, s.get("windows").size(), host);
            assertSame(totals.get(host), s.get("windows").get(0), host);
        }
    }

    private static void assertSame(Expected want, JsonNode w, String where) {
        assertEquals(want.count, w.get("count").asLong(), where + " count");
        assertEquals(want.sum, w.get("sum").asDouble(), 0.0, where + " sum");
        assertEquals(want.min, w.get("min").asDouble(), 0.0, where + " min");
        assertEquals(want.max, w.get("max").asDouble(), 0.0, where + " max");
        assertEquals(want.last, w.get("last").asDouble(), 0.0, where + " last");
    }

    static JsonNode query(TestServer server, String path) throws Exception {
        HttpResponse<String> res = server.get(path);
        assertEquals(200, res.statusCode(), res.body());
        return JSON.readTree(res.body());
    }

    static JsonNode stats(TestServer server) throws Exception {
        return query(server, "/api/v1/stats");
    }

    /** Waits until nothing is held in memory or pending: every accepted point is in the store. */
    static void awaitEverythingStored(TestServer server) throws Exception {
        JsonNode stats = Poll.until(() -> stats(server),
                s -> s.get("openWindows").asLong() == 0 && s.get("pendingWindows").asLong() == 0, Duration.ofSeconds(90));
        if (stats.get("openWindows").asLong() != 0 || stats.get("pendingWindows").asLong() != 0) {
            throw new AssertionError("windows still waiting after 90 s: " + stats);
        }
    }
}
