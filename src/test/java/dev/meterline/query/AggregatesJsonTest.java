package dev.meterline.query;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import dev.meterline.model.Aggregate;
import dev.meterline.model.SeriesKey;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AggregatesJsonTest {

    @Test
    void writesWhatJacksonsGeneratorWrites() throws IOException {
        Random random = new Random(42);
        String[] texts = {"h0", "api", "", "a\"b", "back\\slash", "tab\there", "new\nline", "\u0001\u001f\u007f",
                "caf\u00e9", "\u65e5\u672c", "emoji \ud83d\ude00", "slash/ok", "<html>&'"};
        for (int round = 0; round < 200; round++) {
            List<QueryService.SeriesResult> results = new ArrayList<>();
            int series = random.nextInt(4);
            for (int s = 0; s < series; s++) {
                String[] pairs = new String[2 * random.nextInt(4)];
                for (int i = 0; i < pairs.length; i += 2) {
                    pairs[i] = "k" + i + texts[random.nextInt(texts.length)];
                    pairs[i + 1] = texts[random.nextInt(texts.length)];
                }
                SeriesKey key = SeriesKey.ofPairs("m" + texts[random.nextInt(texts.length)], pairs, pairs.length / 2);
                List<QueryService.MergedWindow> windows = new ArrayList<>();
                int n = 1 + random.nextInt(5);
                for (int w = 0; w < n; w++) {
                    windows.add(new QueryService.MergedWindow(w * 10_000L, (w + 1) * 10_000L, aggregate(random),
                            random.nextBoolean()));
                }
                results.add(new QueryService.SeriesResult(key, windows));
            }
            String metric = "bench." + texts[random.nextInt(texts.length)];
            long resolution = 10_000L * (1 + random.nextInt(6));

            assertEquals(jackson(metric, resolution, results), AggregatesJson.write(metric, resolution, results));
        }
    }

    @Test
    void writesAnEmptyAnswer() {
        assertEquals("{\"metric\":\"m\",\"resolution\":10000,\"series\":[]}",
                AggregatesJson.write("m", 10_000, List.of()));
    }

    @Test
    void writesAWindowWithoutValuesWithNulls() throws IOException {
        Aggregate late = new Aggregate();
        late.markLate();
        List<QueryService.SeriesResult> results = List.of(new QueryService.SeriesResult(
                SeriesKey.of("m", Map.of("host", "a")), List.of(new QueryService.MergedWindow(0, 10, late, false))));

        String json = AggregatesJson.write("m", 10, results);

        for (String part : List.of("\"sum\":0.0", "\"min\":null", "\"p50\":null", "\"late\":1")) {
            assertTrue(json.contains(part), json);
        }
        assertEquals(jackson("m", 10, results), json);
    }

    private static Aggregate aggregate(Random random) {
        Aggregate a = new Aggregate();
        int points = random.nextInt(6);
        for (int i = 0; i < points; i++) {
            double v = switch (random.nextInt(5)) {
                case 0 -> random.nextInt(1000);
                case 1 -> random.nextDouble() * 1e-6;
                case 2 -> random.nextGaussian() * 1e12;
                case 3 -> -random.nextDouble();
                default -> random.nextInt(100_000) / 10.0;
            };
            a.accept(v, 1_700_000_000_000L + random.nextInt(10_000));
        }
        if (random.nextInt(4) == 0) {
            a.markLate();
        }
        return a;
    }

    /** The body as the route wrote it with Jackson's generator before. */
    private static String jackson(String metric, long resolution, List<QueryService.SeriesResult> results)
            throws IOException {
        StringWriter out = new StringWriter();
        try (JsonGenerator g = new JsonFactory().createGenerator(out)) {
            g.writeStartObject();
            g.writeStringField("metric", metric);
            g.writeNumberField("resolution", resolution);
            g.writeArrayFieldStart("series");
            for (QueryService.SeriesResult r : results) {
                g.writeStartObject();
                g.writeObjectFieldStart("tags");
                for (Map.Entry<String, String> t : r.group().tags().entrySet()) {
                    g.writeStringField(t.getKey(), t.getValue());
                }
                g.writeEndObject();
                g.writeArrayFieldStart("windows");
                for (QueryService.MergedWindow w : r.windows()) {
                    Aggregate a = w.aggregate();
                    g.writeStartObject();
                    g.writeNumberField("start", w.start());
                    g.writeNumberField("end", w.end());
                    g.writeNumberField("count", a.count());
                    number(g, "sum", a.sum());
                    number(g, "min", a.min());
                    number(g, "max", a.max());
                    number(g, "mean", a.mean());
                    number(g, "last", a.last());
                    number(g, "p50", a.valueAtQuantile(0.5));
                    number(g, "p90", a.valueAtQuantile(0.9));
                    number(g, "p99", a.valueAtQuantile(0.99));
                    g.writeNumberField("firstTimestamp", a.firstTimestamp());
                    g.writeNumberField("lastTimestamp", a.lastTimestamp());
                    g.writeNumberField("late", a.late());
                    g.writeBooleanField("complete", w.complete());
                    g.writeEndObject();
                }
                g.writeEndArray();
                g.writeEndObject();
            }
            g.writeEndArray();
            g.writeEndObject();
        }
        return out.toString();
    }

    private static void number(JsonGenerator g, String name, double v) throws IOException {
        if (Double.isFinite(v)) {
            g.writeNumberField(name, v);
        } else {
            g.writeNullField(name);
        }
    }
}
