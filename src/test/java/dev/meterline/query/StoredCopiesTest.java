package dev.meterline.query;

import dev.meterline.aggregate.Aggregation;
import dev.meterline.aggregate.SeriesBudget;
import dev.meterline.config.AggregationConfig;
import dev.meterline.config.StoreConfig;
import dev.meterline.config.Tier;
import dev.meterline.model.Aggregate;
import dev.meterline.model.Part;
import dev.meterline.model.SeriesKey;
import dev.meterline.model.Window;
import dev.meterline.store.Store;
import dev.meterline.store.StoreGateway;
import dev.meterline.telemetry.PipelineMetrics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.publisher.Sinks;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Windows stored more than once, as another replica's rows in a real SQLite store: a window is complete when any of
 * its copies is, an output window when each window it is merged from is, and every copy's points are counted.
 */
class StoredCopiesTest {

    private static final long WINDOW = 10_000;
    private static final long LATENESS = 5_000;
    /** Minute-aligned; the query runs ten minutes later, when every window is due. */
    private static final long T0 = 1_800_000_000_000L;
    private static final SeriesKey A = SeriesKey.of("c.cpu", Map.of("host", "a", "region", "eu"));
    private static final SeriesKey B = SeriesKey.of("c.cpu", Map.of("host", "b", "region", "eu"));

    @TempDir
    Path dir;

    private final ManualThread shards = new ManualThread();
    private final ManualThread queryStore = new ManualThread();
    private final Sinks.Many<Part> parts = Sinks.many().unicast().onBackpressureBuffer();
    private Store store;
    private QueryService service;

    @BeforeEach
    void start() {
        StoreConfig storeConfig = new StoreConfig(dir, "", "", "",
                List.of(new Tier(Duration.ofMillis(WINDOW), Duration.ofDays(1))), "r1");
        long now = T0 + 600_000;
        store = Store.connect(storeConfig, Clock.fixed(Instant.ofEpochMilli(now), ZoneOffset.UTC));
        PipelineMetrics metrics = new PipelineMetrics(new SimpleMeterRegistry());
        AggregationConfig config = new AggregationConfig(Duration.ofMillis(WINDOW), Duration.ofMillis(LATENESS),
                Duration.ofSeconds(1), 100, 2);
        Aggregation aggregation = new Aggregation(config, new SeriesBudget(100), shards.scheduler, metrics,
                () -> now);
        aggregation.run(parts.asFlux()).subscribe();
        // Another replica's service: none of the rows are its own flushes.
        service = new QueryService(aggregation, new StoreGateway(store, queryStore.scheduler), new SeriesBudget(100),
                "r0", WINDOW, LATENESS, () -> now);
        // Flush 1, then flush 2 with a second copy of two of its windows, complete and incomplete in either order.
        store.write(List.of(window(A, T0, 1, false, 1), window(A, T0 + WINDOW, 1, true, 3),
                window(B, T0, 1, false, 5), window(B, T0 + WINDOW, 1, true, 6)));
        store.write(List.of(window(A, T0, 2, true, 2), window(A, T0 + WINDOW, 2, false, 4)));
    }

    @AfterEach
    void stop() {
        parts.tryEmitComplete();
        shards.runAll();
        store.close();
    }

    private static Window window(SeriesKey series, long start, long flushSeq, boolean complete, double value) {
        Aggregate a = new Aggregate();
        a.accept(value, start + 1);
        return new Window(series, start, WINDOW, a, complete, flushSeq);
    }

    private List<QueryService.SeriesResult> query(Map<String, List<String>> tags, long resolution,
                                                  List<String> groupBy) throws Exception {
        AggregateQuery q = new AggregateQuery("c.cpu", tags, T0, T0 + 60_000, resolution, groupBy);
        CompletableFuture<List<QueryService.SeriesResult>> f = service.aggregates(q).toFuture();
        for (int i = 0; i < 4 && !f.isDone(); i++) {
            shards.runAll();
            queryStore.runAll();
        }
        assertTrue(f.isDone(), "the query has answered");
        return f.get();
    }

    /** Each output window as "start+offset count sum complete", by group. */
    private static List<String> described(List<QueryService.SeriesResult> results) {
        List<String> out = new ArrayList<>();
        for (QueryService.SeriesResult r : results) {
            for (QueryService.MergedWindow w : r.windows()) {
                out.add(r.group().tag("host") + " +" + (w.start() - T0) / 1000 + " " + w.aggregate().count() + " "
                        + w.aggregate().sum() + " " + w.complete());
            }
        }
        return out;
    }

    @Test
    void aWindowIsCompleteWhenAnyOfItsCopiesIs() throws Exception {
        assertEquals(List.of("a +0 2 3.0 true", "a +10 2 7.0 true", "b +0 1 5.0 false", "b +10 1 6.0 true"),
                described(query(Map.of(), WINDOW, List.of())));
    }

    @Test
    void aCoarseWindowIsCompleteWhenEachOfItsWindowsIs() throws Exception {
        assertEquals(List.of("a +0 4 10.0 true", "b +0 2 11.0 false"),
                described(query(Map.of(), 60_000, List.of())));
        assertEquals(List.of("null +0 6 21.0 false"), described(query(Map.of(), 60_000, List.of("region"))));
        assertEquals(List.of("null +0 4 10.0 true"),
                described(query(Map.of("host", List.of("a")), 60_000, List.of("region"))));
    }
}
