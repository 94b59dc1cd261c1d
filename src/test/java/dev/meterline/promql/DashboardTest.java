package dev.meterline.promql;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.meterline.config.PromQueryConfig;
import dev.meterline.model.SeriesKey;
import org.junit.jupiter.api.Test;
import reactor.core.scheduler.Schedulers;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every query of the dashboard shipped in docs/ parses and evaluates, for each value of its variables. */
class DashboardTest {

    private static final long W = 10_000;
    private static final long T0 = 1_700_000_000_000L;

    @Test
    void everyQueryParsesAndEvaluates() throws Exception {
        JsonNode dashboard = new ObjectMapper().readTree(Path.of("docs/grafana-dashboard.json").toFile());
        MemoryReader reader = new MemoryReader(W);
        for (int s = 0; s < 4; s++) {
            SeriesKey key = SeriesKey.of("cpu.usage", Map.of("host", "h" + s, "region", s < 2 ? "eu" : "us"));
            for (int i = 0; i < 360 * 5; i++) {
                reader.accept(key, T0 + i * 2_000L + s, (i * 13 + s) % 97);
            }
        }
        Engine engine = new Engine(reader, PromQueryConfig.DEFAULTS, System::nanoTime, Schedulers.immediate());
        List<String> exprs = new ArrayList<>();
        for (JsonNode panel : dashboard.get("panels")) {
            for (JsonNode target : panel.get("targets")) {
                exprs.add(target.get("expr").asText());
            }
        }
        assertEquals(6, exprs.size());
        for (String group : List.of("region", "host")) {
            for (String expr : exprs) {
                String q = expr.replace("${metric}", "cpu_usage").replace("$__rate_interval", "1m")
                        .replace("$group", group);
                assertFalse(q.contains("$"), q);
                Evaluator.Matrix m = engine.range(q, T0 + 60_000, T0 + 3_600_000, 60_000, 60_000).block();
                assertFalse(m.series().isEmpty(), q);
                for (Evaluator.Range r : m.series()) {
                    assertEquals(60, r.times().length, q + " " + r.labels());
                    for (double v : r.values()) {
                        assertTrue(Double.isFinite(v), q + " " + r.labels());
                    }
                }
                assertTrue(engine.instant(q, T0 + 3_600_000, 60_000).block() instanceof Evaluator.Vector, q);
            }
        }
    }
}
