package dev.meterline.store;

import dev.meterline.model.Aggregate;
import dev.meterline.model.SeriesKey;
import dev.meterline.model.Window;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * A flush as the write-rate measurements use it: series with 3 tags, 10 consecutive 10 s windows of 10 values each, or
 * as many windows per series as asked (1: a flush of a server whose every series reports once a window).
 */
final class FlushWindows {

    private FlushWindows() {
    }

    /** {@code windows} closed windows ({@code windows / 10} series), values drawn from {@code random}, series-major. */
    static List<Window> of(int windows, Random random) {
        return of(windows, 10, random);
    }

    /** {@code windows} closed windows, {@code perSeries} consecutive ones of each series, series-major. */
    static List<Window> of(int windows, int perSeries, Random random) {
        List<Window> ws = new ArrayList<>(windows);
        long t0 = 1_700_000_000_000L;
        for (int s = 0; s < windows / perSeries; s++) {
            SeriesKey key = SeriesKey.of("http.server.requests", Map.of("host", "host-" + (s % 100),
                    "route", "/api/v1/item/" + (s / 100), "status", "200"));
            for (int w = 0; w < perSeries; w++) {
                long start = t0 + w * 10_000L;
                Aggregate a = new Aggregate();
                for (int i = 0; i < 10; i++) {
                    a.accept(Math.exp(random.nextGaussian()), start + i * 1_000L);
                }
                ws.add(new Window(key, start, 10_000, a, true, 1));
            }
        }
        return ws;
    }
}
