package dev.meterline.promql;

import dev.meterline.model.Aggregate;
import dev.meterline.model.SeriesKey;
import dev.meterline.query.QueryService;
import dev.meterline.store.TagValues;
import reactor.core.publisher.Mono;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Predicate;

/** Windows held in memory, read as the query service would answer: per series, the windows ending in the range. */
final class MemoryReader implements WindowReader {

    private final long windowMs;
    private final Map<SeriesKey, TreeMap<Long, Aggregate>> windows = new LinkedHashMap<>();
    /** The resolutions asked for, in order. */
    final List<Long> resolutions = new java.util.concurrent.CopyOnWriteArrayList<>();

    MemoryReader(long windowMs) {
        this.windowMs = windowMs;
    }

    /** Records {@code value} at {@code ts} in its series' window. */
    void accept(SeriesKey key, long ts, double value) {
        long start = Math.floorDiv(ts, windowMs) * windowMs;
        windows.computeIfAbsent(key, k -> new TreeMap<>()).computeIfAbsent(start, s -> new Aggregate())
                .accept(value, ts);
    }

    @Override
    public Mono<List<String>> metrics() {
        return Mono.fromSupplier(() -> windows.keySet().stream().map(SeriesKey::metric).distinct().sorted().toList());
    }

    @Override
    public Mono<List<SeriesKey>> series(String metric) {
        return Mono.fromSupplier(() -> windows.keySet().stream().filter(k -> k.metric().equals(metric)).toList());
    }

    @Override
    public Mono<List<QueryService.SeriesResult>> windows(String metric, TagValues named, Predicate<SeriesKey> filter,
                                                         long from, long to, long resolution) {
        resolutions.add(resolution);
        return Mono.fromSupplier(() -> {
            List<QueryService.SeriesResult> out = new ArrayList<>();
            windows.forEach((key, ws) -> {
                if (!key.metric().equals(metric) || !named.admits(key) || filter != null && !filter.test(key)) {
                    return;
                }
                TreeMap<Long, Aggregate> buckets = new TreeMap<>();
                ws.forEach((start, a) -> buckets.computeIfAbsent(Math.floorDiv(start, resolution) * resolution,
                        b -> new Aggregate()).mergeWith(a));
                List<QueryService.MergedWindow> list = new ArrayList<>();
                buckets.forEach((start, a) -> {
                    long end = start + resolution;
                    if (end > from && end <= to) {
                        list.add(new QueryService.MergedWindow(start, end, a, true));
                    }
                });
                if (!list.isEmpty()) {
                    out.add(new QueryService.SeriesResult(key, list));
                }
            });
            return out;
        });
    }

    @Override
    public long windowMs() {
        return windowMs;
    }
}
