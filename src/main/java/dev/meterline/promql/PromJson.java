package dev.meterline.promql;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import dev.meterline.store.StoreException;
import io.netty.handler.codec.http.HttpResponseStatus;

import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** The JSON of the Prometheus API: the success and error envelopes, and the values, labels and points in them. */
final class PromJson {

    private static final JsonFactory JSON = new JsonFactory();

    /** Writes the {@code data} member of a success envelope. */
    interface Data {
        void write(JsonGenerator g) throws IOException;
    }

    /** Prometheus's warning on a listing cut by its {@code limit} parameter. */
    static final String TRUNCATED = "results truncated due to limit";

    /** Data with warnings, written after it in the envelope. */
    record Warned(Data data, List<String> warnings) implements Data {
        @Override
        public void write(JsonGenerator g) throws IOException {
            data.write(g);
        }
    }

    /** A response: its status and its JSON body. */
    record Reply(HttpResponseStatus status, String body) {
    }

    private PromJson() {
    }

    static Reply success(Data data) {
        return new Reply(HttpResponseStatus.OK, json(g -> {
            g.writeStartObject();
            g.writeStringField("status", "success");
            g.writeFieldName("data");
            data.write(g);
            if (data instanceof Warned w) {
                g.writeArrayFieldStart("warnings");
                for (String warning : w.warnings()) {
                    g.writeString(warning);
                }
                g.writeEndArray();
            }
            g.writeEndObject();
        }));
    }

    /** The error envelope for {@code e}, with the error type and status Prometheus would give it. */
    static Reply failure(Throwable e) {
        PromException p;
        if (e instanceof PromException pe) {
            p = pe;
        } else if (e instanceof ParseException pe) {
            p = PromException.badQuery(pe);
        } else if (e instanceof IllegalArgumentException) {
            // A malformed percent-encoding in the URL or the form body.
            p = PromException.badData("invalid request: " + e.getMessage());
        } else if (e instanceof StoreException) {
            p = new PromException(PromException.Type.UNAVAILABLE, "storage unreachable: " + e.getMessage());
        } else {
            p = new PromException(PromException.Type.INTERNAL, String.valueOf(e));
        }
        return new Reply(HttpResponseStatus.valueOf(p.type().status), json(g -> {
            g.writeStartObject();
            g.writeStringField("status", "error");
            g.writeStringField("errorType", p.type().wire);
            g.writeStringField("error", p.getMessage());
            g.writeEndObject();
        }));
    }

    private static String json(Data body) {
        StringWriter w = new StringWriter(256);
        try (JsonGenerator g = JSON.createGenerator(w)) {
            body.write(g);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return w.toString();
    }

    /** An array of at most {@code limit} of {@code values}. */
    static void writeStrings(JsonGenerator g, Iterable<String> values, int limit) throws IOException {
        g.writeStartArray();
        int n = 0;
        for (String v : values) {
            if (n++ == limit) {
                break;
            }
            g.writeString(v);
        }
        g.writeEndArray();
    }

    /** A label set as an object, its names in order. */
    static void writeLabels(JsonGenerator g, Map<String, String> labels) throws IOException {
        g.writeStartObject();
        for (Map.Entry<String, String> l : new TreeMap<>(labels).entrySet()) {
            g.writeStringField(l.getKey(), l.getValue());
        }
        g.writeEndObject();
    }

    private static void writePoint(JsonGenerator g, long t, double v) throws IOException {
        g.writeStartArray();
        g.writeNumber(PromTime.seconds(t));
        g.writeString(PromTime.value(v));
        g.writeEndArray();
    }

    /** A query's result with its {@code resultType}; a scalar or vector is stamped with {@code t}. */
    static void writeValue(JsonGenerator g, Evaluator.Value v, long t) throws IOException {
        g.writeStartObject();
        if (v instanceof Evaluator.Scalar s) {
            g.writeStringField("resultType", "scalar");
            g.writeFieldName("result");
            writePoint(g, t, s.value());
        } else if (v instanceof Evaluator.Vector vec) {
            g.writeStringField("resultType", "vector");
            g.writeArrayFieldStart("result");
            for (Evaluator.Sample s : vec.samples()) {
                g.writeStartObject();
                g.writeFieldName("metric");
                writeLabels(g, s.labels());
                g.writeFieldName("value");
                writePoint(g, t, s.value());
                g.writeEndObject();
            }
            g.writeEndArray();
        } else {
            g.writeStringField("resultType", "matrix");
            g.writeArrayFieldStart("result");
            for (Evaluator.Range r : ((Evaluator.Matrix) v).series()) {
                g.writeStartObject();
                g.writeFieldName("metric");
                writeLabels(g, r.labels());
                g.writeArrayFieldStart("values");
                for (int i = 0; i < r.times().length; i++) {
                    writePoint(g, r.times()[i], r.values()[i]);
                }
                g.writeEndArray();
                g.writeEndObject();
            }
            g.writeEndArray();
        }
        g.writeEndObject();
    }
}
