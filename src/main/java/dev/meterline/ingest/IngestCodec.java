package dev.meterline.ingest;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.core.io.JsonStringEncoder;
import dev.meterline.config.IngestConfig;
import dev.meterline.model.Reject;
import dev.meterline.model.SeriesRules;
import dev.meterline.telemetry.MeterNames;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;

import java.io.IOException;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.ToDoubleFunction;

import static java.util.Objects.requireNonNull;

/**
 * The wire format at the edge: a hardened Jackson factory for decoding lines, and the JSON reply lines
 * ({@code {"error":…,"line":n}}, {@code {"synced":…}}) written back to clients.
 */
public final class IngestCodec {

    /** Deepest nesting of arrays and objects a line may have (a point needs 2; unknown fields get room). */
    static final int MAX_NESTING = 32;
    /** Longest number literal, in characters: enough for any double or long, far too short for a slow parse. */
    static final int MAX_NUMBER_CHARS = 32;

    /**
     * The default bound of each decoding thread's key cache, in slots: 100 000 series fill it by less than half,
     * where an eight-way table keeps all but about one in a hundred series of a client cycling through them, and at
     * 1 000 000 series it bounds what the caches hold to about 80 bytes a series.
     */
    public static final int DEFAULT_KEY_CACHE_MAX = 1 << 18;

    private final JsonFactory json;
    private final JsonFactory sharedJson;
    private final int maxLineBytes;
    private final int maxTags;
    private final int keyCacheMax;
    private final SeriesRules rules;
    /** Every decoding thread's cache, for the meters. */
    private final List<SeriesKeyCache> allKeyCaches = new CopyOnWriteArrayList<>();
    /** One series key cache per decoding thread (event loops), so repeated series reuse their keys. */
    private final ThreadLocal<SeriesKeyCache> keyCaches = ThreadLocal.withInitial(this::newKeyCache);

    /**
     * Jackson is set up for hostile input: every read constraint bounded by the line limit (the document length by
     * the line framing, since a shared parser reads all the lines of a read), duplicate keys refused
     * at every level, only standard JSON (no NaN, comments, single quotes, leading zeros or plus signs), field
     * names not interned, and a flood of colliding field names degrades the symbol table instead of throwing.
     * Only the streaming parser is used: there is no data binding and so no polymorphic typing to abuse.
     */
    public IngestCodec(int maxLineBytes, int maxTags) {
        this(maxLineBytes, maxTags, DEFAULT_KEY_CACHE_MAX, SeriesRules.NONE);
    }

    /** With each decoding thread's series key cache bounded by {@code keyCacheMax} slots, and no series rules. */
    public IngestCodec(int maxLineBytes, int maxTags, int keyCacheMax) {
        this(maxLineBytes, maxTags, keyCacheMax, SeriesRules.NONE);
    }

    /**
     * With each decoding thread's series key cache growing up to {@code keyCacheMax} slots (rounded up to a power
     * of two, and to one set of {@link SeriesKeyCache#WAYS} slots), and {@code rules} applied to every series key
     * the decoders build (so cached keys passed them).
     */
    public IngestCodec(int maxLineBytes, int maxTags, int keyCacheMax, SeriesRules rules) {
        if (keyCacheMax < IngestConfig.MIN_KEY_CACHE || keyCacheMax > IngestConfig.MAX_KEY_CACHE) {
            throw new IllegalArgumentException("keyCacheMax: " + keyCacheMax + " (expected: from "
                    + IngestConfig.MIN_KEY_CACHE + " to " + IngestConfig.MAX_KEY_CACHE + ")");
        }
        this.keyCacheMax = Math.max(SeriesKeyCache.WAYS, Integer.highestOneBit(keyCacheMax - 1) << 1);
        this.maxLineBytes = maxLineBytes;
        this.maxTags = maxTags;
        this.rules = requireNonNull(rules, "rules");
        this.json = factory(maxLineBytes, true);
        this.sharedJson = factory(maxLineBytes, false);
    }

    /**
     * The hardened factory; {@code strictDuplicates} refuses duplicate keys at every level. The shared parser of a
     * read goes without it (Jackson's check costs a set per object): it takes only lines whose one nested object is
     * a flat tags object, where {@link LineDecoder} finds duplicates itself, and leaves every other line to a strict
     * parser of its own.
     */
    private static JsonFactory factory(int maxLineBytes, boolean strictDuplicates) {
        return JsonFactory.builder()
                .streamReadConstraints(StreamReadConstraints.builder()
                        .maxNestingDepth(MAX_NESTING)
                        .maxNumberLength(MAX_NUMBER_CHARS)
                        .maxStringLength(maxLineBytes)
                        .maxNameLength(maxLineBytes)
                        // No maxDocumentLength: a shared parser spans a whole read; framing bounds each line already.
                        .build())
                .configure(StreamReadFeature.STRICT_DUPLICATE_DETECTION, strictDuplicates)
                .disable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
                .disable(JsonReadFeature.ALLOW_UNESCAPED_CONTROL_CHARS)
                .disable(JsonReadFeature.ALLOW_JAVA_COMMENTS)
                .disable(JsonReadFeature.ALLOW_SINGLE_QUOTES)
                .disable(JsonReadFeature.ALLOW_LEADING_ZEROS_FOR_NUMBERS)
                .disable(JsonFactory.Feature.INTERN_FIELD_NAMES)
                .disable(JsonFactory.Feature.FAIL_ON_SYMBOL_HASH_OVERFLOW)
                // FastDoubleParser: the same correctly rounded doubles as Double.parseDouble, in less time.
                .enable(StreamReadFeature.USE_FAST_DOUBLE_PARSER)
                .build();
    }

    /** The token of an {@code {"auth":"…"}} line (the object's only field), or null when the line is not one. */
    String authToken(byte[] line, int len) {
        try (JsonParser p = json.createParser(line, 0, len)) {
            if (p.nextToken() != JsonToken.START_OBJECT || !"auth".equals(p.nextFieldName())
                    || p.nextToken() != JsonToken.VALUE_STRING) {
                return null;
            }
            String token = p.getText();
            return p.nextToken() == JsonToken.END_OBJECT && p.nextToken() == null ? token : null;
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    private SeriesKeyCache newKeyCache() {
        SeriesKeyCache cache = new SeriesKeyCache(Math.min(SeriesKeyCache.INITIAL_CAPACITY, keyCacheMax), keyCacheMax);
        allKeyCaches.add(cache);
        return cache;
    }

    /**
     * Registers the key caches' meters: keys held and slots (levels, summed over the decoding threads, as of each
     * cache's last period), and look-ups that hit and missed.
     */
    public void bindTo(MeterRegistry registry) {
        gauge(registry, MeterNames.KEYCACHE_SIZE, "series keys held by the decoders' caches",
                SeriesKeyCache::publishedSize);
        gauge(registry, MeterNames.KEYCACHE_CAPACITY, "slots of the decoders' series key caches",
                SeriesKeyCache::publishedCapacity);
        Gauge.builder(MeterNames.KEYCACHE_MAX, this, c -> c.keyCacheMax)
                .description("bound of each decoding thread's series key cache, in slots").register(registry);
        FunctionCounter.builder(MeterNames.KEYCACHE_LOOKUPS, this, c -> c.sum(SeriesKeyCache::hitCount))
                .tag("result", "hit").description("series key cache look-ups").register(registry);
        FunctionCounter.builder(MeterNames.KEYCACHE_LOOKUPS, this, c -> c.sum(SeriesKeyCache::missCount))
                .tag("result", "miss").description("series key cache look-ups").register(registry);
    }

    private void gauge(MeterRegistry registry, String name, String description, ToDoubleFunction<SeriesKeyCache> f) {
        Gauge.builder(name, this, c -> c.sum(f)).description(description).register(registry);
    }

    private double sum(ToDoubleFunction<SeriesKeyCache> f) {
        double total = 0;
        for (SeriesKeyCache c : allKeyCaches) {
            total += f.applyAsDouble(c);
        }
        return total;
    }

    /** The key cache of the calling thread; for tests. */
    SeriesKeyCache keyCache() {
        return keyCaches.get();
    }

    LineDecoder decoder(LineDecoder.Output out) {
        return new LineDecoder(json, sharedJson, maxLineBytes, maxTags, out, keyCaches::get, rules);
    }

    static void appendError(StringBuilder sb, Reject r) {
        sb.append("{\"error\":");
        quote(sb, r.message());
        sb.append(",\"line\":").append(r.line()).append("}\n");
    }

    static void appendOverloaded(StringBuilder sb, int line) {
        sb.append("{\"error\":\"overloaded\",\"line\":").append(line).append("}\n");
    }

    static void appendSynced(StringBuilder sb, String id, IngestSession.Totals t, boolean withDropped) {
        sb.append("{\"synced\":");
        quote(sb, id);
        sb.append(",\"accepted\":").append(t.accepted()).append(",\"rejected\":").append(t.rejected());
        if (withDropped) {
            sb.append(",\"dropped\":").append(t.dropped());
        }
        sb.append("}\n");
    }

    static void quote(StringBuilder sb, String s) {
        sb.append('"');
        JsonStringEncoder.getInstance().quoteAsString(s, sb);
        sb.append('"');
    }
}
