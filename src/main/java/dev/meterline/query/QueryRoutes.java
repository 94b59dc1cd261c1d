package dev.meterline.query;

import com.fasterxml.jackson.core.JsonGenerator;
import dev.meterline.config.Durations;
import dev.meterline.http.EventLoops;
import dev.meterline.http.ExactPath;
import dev.meterline.http.Routes;
import dev.meterline.model.SeriesKey;
import dev.meterline.store.StoreException;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.QueryStringDecoder;
import reactor.core.publisher.Mono;
import reactor.netty.http.server.HttpServerRequest;
import reactor.netty.http.server.HttpServerResponse;
import reactor.netty.http.server.HttpServerRoutes;

import java.io.IOException;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

import static dev.meterline.http.JsonResponses.error;
import static dev.meterline.http.JsonResponses.json;
import static dev.meterline.http.JsonResponses.raw;

/** The read side of the HTTP API: aggregates, metrics, series, cardinality and stats, as JSON. */
public final class QueryRoutes implements Routes {

    static final long DEFAULT_RANGE_MS = Duration.ofHours(1).toMillis();
    static final int DEFAULT_PAGE = 100;
    static final int MAX_PAGE = 1000;

    private final QueryService service;
    private final Supplier<Map<String, Object>> stats;

    public QueryRoutes(QueryService service, Supplier<Map<String, Object>> stats) {
        this.service = service;
        this.stats = stats;
    }

    /** The service these routes read through, for other read APIs over the same windows. */
    public QueryService service() {
        return service;
    }

    @Override
    public void register(HttpServerRoutes routes) {
        routes.route(ExactPath.get("/api/v1/aggregates"), this::aggregates)
                .route(ExactPath.get("/api/v1/metrics"), (req, res) -> storageAware(res, metrics(req, res)))
                .route(ExactPath.get("/api/v1/series"), (req, res) -> storageAware(res, series(req, res)))
                .route(ExactPath.get("/api/v1/cardinality"), this::cardinality)
                .route(ExactPath.get("/api/v1/stats"),
                        (req, res) -> json(res, HttpResponseStatus.OK, g -> writeValue(g, stats.get())));
    }

    /** A query that needs the database answers 503 with the database's message while the database fails. */
    private static Mono<Void> storageAware(HttpServerResponse res, Mono<Void> answer) {
        return answer.onErrorResume(StoreException.class, e -> error(res, HttpResponseStatus.SERVICE_UNAVAILABLE,
                "storage unreachable: " + e.getMessage()));
    }

    /** A 400 naming the parameter, the value and what was expected. */
    static final class BadParameter extends RuntimeException {
        private static final long serialVersionUID = 1L;

        BadParameter(String name, String value, String expected) {
            super(name + ": '" + value + "' (expected: " + expected + ")", null, false, false);
        }

        BadParameter(String message) {
            super(message, null, false, false);
        }
    }

    private Mono<Void> aggregates(HttpServerRequest req, HttpServerResponse res) {
        AggregateQuery q;
        try {
            q = parseAggregates(new QueryStringDecoder(req.uri()).parameters());
        } catch (BadParameter e) {
            return error(res, HttpResponseStatus.BAD_REQUEST, e.getMessage());
        }
        QueryService.Answer answer;
        try {
            answer = service.answer(q);
        } catch (RuntimeException e) {
            return storageAware(res, Mono.error(e));
        }
        // An answer from memory is written at once, on this event loop; any other comes back to it first. Only an
        // answer that read the store can meet a store failure.
        return answer.ready() != null ? writeAggregates(res, q, answer.ready())
                : storageAware(res, EventLoops.onEventLoop(req, answer.later())
                        .flatMap(results -> writeAggregates(res, q, results)));
    }

    private static Mono<Void> writeAggregates(HttpServerResponse res, AggregateQuery q,
                                              List<QueryService.SeriesResult> results) {
        return raw(res, HttpResponseStatus.OK, AggregatesJson.write(q.metric(), q.resolution(), results));
    }

    AggregateQuery parseAggregates(Map<String, List<String>> p) {
        String metric = required(p, "metric");
        Map<String, List<String>> tags = new LinkedHashMap<>();
        for (String t : p.getOrDefault("tag", List.of())) {
            int colon = t.indexOf(':');
            if (colon <= 0) {
                throw new BadParameter("tag", t, "key:value");
            }
            tags.computeIfAbsent(t.substring(0, colon), k -> new ArrayList<>()).add(t.substring(colon + 1));
        }
        long now = service.now();
        long to = p.containsKey("to") ? time("to", single(p, "to")) : Long.MAX_VALUE;
        long from = p.containsKey("from") ? time("from", single(p, "from"))
                : (to == Long.MAX_VALUE ? now : to) - DEFAULT_RANGE_MS;
        if (to <= from) {
            throw new BadParameter("to: " + to + " (expected: after from, " + from + ")");
        }
        long window = service.windowMs();
        long resolution = window;
        if (p.containsKey("resolution")) {
            String r = single(p, "resolution");
            try {
                resolution = Durations.parse(r).toMillis();
            } catch (IllegalArgumentException e) {
                throw new BadParameter("resolution", r, "a duration such as 10s, 1m, 1h");
            }
            if (resolution < window || resolution % window != 0) {
                throw new BadParameter("resolution", r, "a multiple of the " + Durations.format(Duration.ofMillis(window))
                        + " window");
            }
        }
        List<String> groupBy = new ArrayList<>();
        for (String g : p.getOrDefault("groupBy", List.of())) {
            for (String k : g.split(",")) {
                if (!k.isBlank()) {
                    groupBy.add(k.trim());
                }
            }
        }
        return new AggregateQuery(metric, tags, from, to, resolution, groupBy);
    }

    private Mono<Void> metrics(HttpServerRequest req, HttpServerResponse res) {
        return EventLoops.onEventLoop(req, service.metrics()).flatMap(m -> json(res, HttpResponseStatus.OK, g -> {
            g.writeStartObject();
            g.writeArrayFieldStart("metrics");
            for (Map.Entry<String, long[]> e : m.entrySet()) {
                g.writeStartObject();
                g.writeStringField("metric", e.getKey());
                g.writeNumberField("series", e.getValue()[0]);
                g.writeNumberField("activeSeries", e.getValue()[1]);
                g.writeEndObject();
            }
            g.writeEndArray();
            g.writeEndObject();
        }));
    }

    private Mono<Void> series(HttpServerRequest req, HttpServerResponse res) {
        Map<String, List<String>> p = new QueryStringDecoder(req.uri()).parameters();
        String metric;
        int limit;
        int offset;
        try {
            metric = required(p, "metric");
            limit = intParam(p, "limit", DEFAULT_PAGE, 1, MAX_PAGE);
            offset = intParam(p, "offset", 0, 0, Integer.MAX_VALUE);
        } catch (BadParameter e) {
            return error(res, HttpResponseStatus.BAD_REQUEST, e.getMessage());
        }
        return EventLoops.onEventLoop(req, service.series(metric)).flatMap(all -> json(res, HttpResponseStatus.OK, g -> {
            g.writeStartObject();
            g.writeStringField("metric", metric);
            g.writeNumberField("total", all.size());
            g.writeNumberField("offset", offset);
            g.writeArrayFieldStart("series");
            int end = (int) Math.min(all.size(), (long) offset + limit);
            for (int i = offset; i < end; i++) {
                SeriesKey s = all.get(i);
                g.writeStartObject();
                g.writeObjectFieldStart("tags");
                for (Map.Entry<String, String> t : s.tags().entrySet()) {
                    g.writeStringField(t.getKey(), t.getValue());
                }
                g.writeEndObject();
                g.writeEndObject();
            }
            g.writeEndArray();
            if (end < all.size()) {
                g.writeNumberField("nextOffset", end);
            } else {
                g.writeNullField("nextOffset");
            }
            g.writeEndObject();
        }));
    }

    private Mono<Void> cardinality(HttpServerRequest req, HttpServerResponse res) {
        Map<String, List<String>> p = new QueryStringDecoder(req.uri()).parameters();
        String metric;
        try {
            metric = p.containsKey("metric") ? single(p, "metric") : null;
        } catch (BadParameter e) {
            return error(res, HttpResponseStatus.BAD_REQUEST, e.getMessage());
        }
        return EventLoops.onEventLoop(req, service.cardinality(metric)).flatMap(m -> json(res, HttpResponseStatus.OK, g -> writeValue(g, m)));
    }

    private static String required(Map<String, List<String>> p, String name) {
        if (!p.containsKey(name)) {
            throw new BadParameter(name + ": missing (expected: " + name + "=…)");
        }
        String v = single(p, name);
        if (v.isEmpty()) {
            throw new BadParameter(name, v, "a non-empty value");
        }
        return v;
    }

    private static String single(Map<String, List<String>> p, String name) {
        List<String> v = p.get(name);
        if (v.size() != 1) {
            throw new BadParameter(name + ": given " + v.size() + " times (expected: once)");
        }
        return v.get(0);
    }

    private static int intParam(Map<String, List<String>> p, String name, int dflt, int min, int max) {
        if (!p.containsKey(name)) {
            return dflt;
        }
        String v = single(p, name);
        try {
            int n = Integer.parseInt(v);
            if (n >= min && n <= max) {
                return n;
            }
        } catch (NumberFormatException ignored) {
            // reported below
        }
        throw new BadParameter(name, v, "a whole number from " + min + " to " + max);
    }

    /** Epoch milliseconds or RFC 3339. */
    static long time(String name, String v) {
        try {
            return Long.parseLong(v);
        } catch (NumberFormatException e) {
            try {
                return OffsetDateTime.parse(v, DateTimeFormatter.ISO_OFFSET_DATE_TIME).toInstant().toEpochMilli();
            } catch (DateTimeParseException e2) {
                throw new BadParameter(name, v, "epoch milliseconds or an RFC 3339 time");
            }
        }
    }

    /** Writes a tree of maps, lists, strings and numbers. */
    @SuppressWarnings("unchecked")
    static void writeValue(JsonGenerator g, Object v) throws IOException {
        if (v instanceof Map<?, ?> m) {
            g.writeStartObject();
            for (Map.Entry<String, Object> e : ((Map<String, Object>) m).entrySet()) {
                g.writeFieldName(e.getKey());
                writeValue(g, e.getValue());
            }
            g.writeEndObject();
        } else if (v instanceof List<?> l) {
            g.writeStartArray();
            for (Object o : l) {
                writeValue(g, o);
            }
            g.writeEndArray();
        } else if (v instanceof Number n) {
            if (n instanceof Double d) {
                g.writeNumber(d);
            } else {
                g.writeNumber(n.longValue());
            }
        } else if (v instanceof Boolean b) {
            g.writeBoolean(b);
        } else if (v == null) {
            g.writeNull();
        } else {
            g.writeString(v.toString());
        }
    }
}
