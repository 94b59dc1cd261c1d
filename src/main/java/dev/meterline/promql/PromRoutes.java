package dev.meterline.promql;

import com.fasterxml.jackson.core.JsonGenerator;
import dev.meterline.config.PromQueryConfig;
import dev.meterline.http.EventLoops;
import dev.meterline.http.Routes;
import dev.meterline.model.PrometheusNames;
import dev.meterline.model.PrometheusNames.Stat;
import dev.meterline.promql.PromJson.Data;
import dev.meterline.query.QueryService;
import dev.meterline.telemetry.MeterNames;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.QueryStringDecoder;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;
import reactor.netty.http.server.HttpServerRequest;
import reactor.netty.http.server.HttpServerResponse;
import reactor.netty.http.server.HttpServerRoutes;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.BiFunction;
import java.util.function.LongSupplier;

import static dev.meterline.promql.PromJson.writeLabels;
import static dev.meterline.promql.PromJson.writeStrings;
import static dev.meterline.promql.PromJson.writeValue;
import static dev.meterline.promql.PromParams.limit;
import static dev.meterline.promql.PromParams.one;
import static dev.meterline.promql.PromParams.required;

/**
 * The Prometheus-compatible query API under {@code /prometheus}: {@code /api/v1/query}, {@code /query_range},
 * {@code /labels}, {@code /label/<name>/values}, {@code /series}, {@code /metadata}, {@code /status/buildinfo} and
 * {@code /query_exemplars}, each by GET and by form POST, with Prometheus's envelopes and error types.
 */
public final class PromRoutes implements Routes {

    /** Where the API is mounted: a Grafana data source URL is {@code http://HOST:PORT/prometheus}. */
    public static final String PREFIX = "/prometheus/api/v1";
    /** The Prometheus version whose HTTP API this one follows, reported by buildinfo. */
    static final String API_VERSION = "2.53.0";

    private final Engine engine;
    private final long maxBodyBytes;
    private final LongSupplier clock;
    private final Counter listingsRefused;

    /**
     * @param maxBodyBytes largest form body accepted (the server's {@code max-body-bytes})
     * @param cpu          where queries are evaluated
     */
    public PromRoutes(QueryService service, PromQueryConfig config, long maxBodyBytes, Scheduler cpu,
                      MeterRegistry registry) {
        this(new Engine(WindowReader.of(service), config, System::nanoTime, cpu), maxBodyBytes, service::now,
                registry);
    }

    PromRoutes(Engine engine, long maxBodyBytes, LongSupplier clock, MeterRegistry registry) {
        this.engine = engine;
        this.maxBodyBytes = maxBodyBytes;
        this.clock = clock;
        this.listingsRefused = Counter.builder(MeterNames.PROMETHEUS_LISTINGS_REFUSED)
                .description("Prometheus listings refused for reading more series than --prometheus-max-listed-series")
                .register(registry);
    }

    /** Registers every route, by GET and by POST. */
    @Override
    public void register(HttpServerRoutes routes) {
        route(routes, "/query", this::query);
        route(routes, "/query_range", this::queryRange);
        route(routes, "/labels", this::labels);
        route(routes, "/label/{name}/values", this::labelValues);
        route(routes, "/series", this::series);
        route(routes, "/metadata", this::metadata);
        route(routes, "/status/buildinfo", (req, p) -> Mono.just(this::buildInfo));
        route(routes, "/query_exemplars", (req, p) -> Mono.just(g -> {
            g.writeStartArray();
            g.writeEndArray();
        }));
    }

    private void route(HttpServerRoutes routes, String path,
                       BiFunction<HttpServerRequest, Map<String, List<String>>, Mono<Data>> handler) {
        routes.get(PREFIX + path, (req, res) -> handle(req, res, handler))
                .post(PREFIX + path, (req, res) -> handle(req, res, handler));
    }

    private Mono<Void> handle(HttpServerRequest req, HttpServerResponse res,
                              BiFunction<HttpServerRequest, Map<String, List<String>>, Mono<Data>> handler) {
        Mono<Data> answer = Mono.defer(() -> PromParams.of(req, maxBodyBytes))
                .flatMap(p -> Mono.defer(() -> handler.apply(req, p)));
        return EventLoops.onEventLoop(req, answer.map(PromJson::success)
                        .onErrorResume(e -> Mono.just(PromJson.failure(e))))
                .flatMap(r -> res.status(r.status()).header(HttpHeaderNames.CONTENT_TYPE, "application/json")
                        .sendString(Mono.just(r.body())).then());
    }

    private Mono<Data> query(HttpServerRequest req, Map<String, List<String>> p) {
        String q = queryParam(p);
        long t = p.containsKey("time") ? PromTime.time("time", one(p, "time")) : clock.getAsLong();
        long timeout = timeout(p);
        return engine.instant(q, t, timeout).onErrorMap(ParseException.class, PromException::badQuery)
                .map(v -> g -> writeValue(g, v, t));
    }

    private Mono<Data> queryRange(HttpServerRequest req, Map<String, List<String>> p) {
        long start = PromTime.time("start", required(p, "start"));
        long end = PromTime.time("end", required(p, "end"));
        long step = PromTime.requestDuration("step", required(p, "step"));
        engine.checkRange(start, end, step);
        String q = queryParam(p);
        long timeout = timeout(p);
        return engine.range(q, start, end, step, timeout).onErrorMap(ParseException.class, PromException::badQuery)
                .map(m -> g -> writeValue(g, m, end));
    }

    private String queryParam(Map<String, List<String>> p) {
        String q = one(p, "query");
        if (q == null) {
            throw PromException.badData("invalid parameter \"query\": no query given (expected: query=…)");
        }
        try {
            engine.parse(q);
        } catch (ParseException e) {
            throw PromException.badQuery(e);
        } catch (PromException e) {
            throw new PromException(e.type(), "invalid parameter \"query\": " + e.getMessage());
        }
        return q;
    }

    private long timeout(Map<String, List<String>> p) {
        long max = engine.config().timeout().toMillis();
        if (!p.containsKey("timeout")) {
            return max;
        }
        long t = PromTime.requestDuration("timeout", one(p, "timeout"));
        if (t <= 0) {
            throw PromException.badData("invalid parameter \"timeout\": '" + one(p, "timeout")
                    + "' (expected: a positive duration)");
        }
        return Math.min(t, max);
    }

    /** The selectors of the {@code match[]} parameters; none gives one that selects every series. */
    private List<List<Expr.Matcher>> selectors(Map<String, List<String>> p, boolean required) {
        List<String> matches = p.getOrDefault("match[]", List.of());
        if (matches.isEmpty() && required) {
            throw PromException.badData("no match[] parameter provided");
        }
        List<List<Expr.Matcher>> selectors = new ArrayList<>();
        for (String m : matches) {
            Expr e;
            try {
                e = engine.parse(m);
            } catch (ParseException x) {
                throw PromException.badData("invalid parameter \"match[]\": " + x.positioned());
            }
            if (!(e instanceof Expr.VectorSelector v)) {
                throw PromException.badData("invalid parameter \"match[]\": '" + m
                        + "' (expected: a series selector such as up{job=\"x\"})");
            }
            selectors.add(v.matchers());
        }
        if (selectors.isEmpty()) {
            selectors.add(List.of());
        }
        return selectors;
    }

    private Listing listing() {
        return new Listing(engine.reader(), engine.config().maxListedSeries(), listingsRefused::increment);
    }

    private Mono<Data> labels(HttpServerRequest req, Map<String, List<String>> p) {
        int limit = limit(p);
        return listing().labelNames(selectors(p, false)).map(names -> truncated(names.size(), limit,
                g -> writeStrings(g, names, limit)));
    }

    private Mono<Data> labelValues(HttpServerRequest req, Map<String, List<String>> p) {
        String name = QueryStringDecoder.decodeComponent(req.param("name"));
        int limit = limit(p);
        return listing().labelValues(name, selectors(p, false)).map(values -> truncated(values.size(), limit,
                g -> writeStrings(g, values, limit)));
    }

    private Mono<Data> series(HttpServerRequest req, Map<String, List<String>> p) {
        int limit = limit(p);
        // One more than the limit, to tell a listing cut by it.
        int upTo = limit == Integer.MAX_VALUE ? limit : limit + 1;
        return listing().series(selectors(p, true), upTo).map(series -> truncated(series.size(), limit, g -> {
            g.writeStartArray();
            int n = 0;
            for (Map<String, String> s : series) {
                if (n++ == limit) {
                    break;
                }
                writeLabels(g, s);
            }
            g.writeEndArray();
        }));
    }

    /** {@code data}, with Prometheus's warning when {@code size} items were cut to {@code limit}. */
    private static Data truncated(int size, int limit, Data data) {
        return size > limit ? new PromJson.Warned(data, List.of(PromJson.TRUNCATED)) : data;
    }

    private Mono<Data> metadata(HttpServerRequest req, Map<String, List<String>> p) {
        int limit = limit(p);
        String only = one(p, "metric");
        return engine.reader().metrics().map(metrics -> {
            TreeMap<String, String[]> families = new TreeMap<>();
            for (String m : metrics) {
                String base = PrometheusNames.baseName(m);
                families.put(base, new String[]{"summary", "Meterline metric " + m
                        + ": count and sum of each window, and its quantiles from the window's sketch"});
                for (Stat s : new Stat[]{Stat.MIN, Stat.MAX, Stat.MEAN, Stat.LAST}) {
                    families.put(s.sampleName(base), new String[]{"gauge", "Meterline metric " + m + ": the "
                            + s.name().toLowerCase(Locale.ROOT) + " of each window's values"});
                }
            }
            return g -> {
                g.writeStartObject();
                int n = 0;
                for (Map.Entry<String, String[]> f : families.entrySet()) {
                    if (only != null && !only.equals(f.getKey())) {
                        continue;
                    }
                    if (n++ == limit) {
                        break;
                    }
                    g.writeArrayFieldStart(f.getKey());
                    g.writeStartObject();
                    g.writeStringField("type", f.getValue()[0]);
                    g.writeStringField("help", f.getValue()[1]);
                    g.writeStringField("unit", "");
                    g.writeEndObject();
                    g.writeEndArray();
                }
                g.writeEndObject();
            };
        });
    }

    private void buildInfo(JsonGenerator g) throws IOException {
        g.writeStartObject();
        g.writeStringField("version", API_VERSION);
        g.writeStringField("revision", "meterline");
        g.writeStringField("branch", "");
        g.writeStringField("buildUser", "");
        g.writeStringField("buildDate", "");
        g.writeStringField("goVersion", "");
        g.writeEndObject();
    }
}
