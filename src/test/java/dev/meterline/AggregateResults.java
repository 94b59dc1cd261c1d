package dev.meterline;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.util.Iterator;
import java.util.Map;
import java.util.TreeMap;

/**
 * A {@code GET /api/v1/aggregates} answer read into maps: series (its tags as {@code k=v,k=v}) → window start → the
 * window's JSON, so that tests can compare answers and totals.
 */
public final class AggregateResults {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final Map<String, TreeMap<Long, JsonNode>> series = new TreeMap<>();
    private final JsonNode body;

    private AggregateResults(JsonNode body) {
        this.body = body;
        for (JsonNode s : body.get("series")) {
            TreeMap<Long, JsonNode> windows = new TreeMap<>();
            for (JsonNode w : s.get("windows")) {
                if (windows.put(w.get("start").asLong(), w) != null) {
                    throw new AssertionError("window " + w.get("start") + " listed twice in " + s);
                }
            }
            if (series.put(tagsOf(s), windows) != null) {
                throw new AssertionError("series " + tagsOf(s) + " listed twice");
            }
        }
    }

    public static AggregateResults parse(String body) throws IOException {
        return new AggregateResults(JSON.readTree(body));
    }

    /** The tags of a result as {@code k=v,k=v} in key order ({@code ""} for none). */
    public static String tagsOf(JsonNode seriesResult) {
        TreeMap<String, String> tags = new TreeMap<>();
        Iterator<Map.Entry<String, JsonNode>> it = seriesResult.get("tags").fields();
        while (it.hasNext()) {
            Map.Entry<String, JsonNode> e = it.next();
            tags.put(e.getKey(), e.getValue().asText());
        }
        StringBuilder sb = new StringBuilder();
        tags.forEach((k, v) -> sb.append(sb.length() == 0 ? "" : ",").append(k).append('=').append(v));
        return sb.toString();
    }

    public JsonNode body() {
        return body;
    }

    /** Series → window start → window. */
    public Map<String, TreeMap<Long, JsonNode>> series() {
        return series;
    }

    /** Series → total count over its windows. */
    public Map<String, Long> countBySeries() {
        Map<String, Long> out = new TreeMap<>();
        series.forEach((s, ws) -> ws.values().forEach(w -> out.merge(s, w.get("count").asLong(), Long::sum)));
        return out;
    }

    /** Series → total sum over its windows. */
    public Map<String, Double> sumBySeries() {
        Map<String, Double> out = new TreeMap<>();
        series.forEach((s, ws) -> ws.values().forEach(w -> out.merge(s, w.get("sum").asDouble(), Double::sum)));
        return out;
    }

    public long totalCount() {
        return countBySeries().values().stream().mapToLong(Long::longValue).sum();
    }
}
