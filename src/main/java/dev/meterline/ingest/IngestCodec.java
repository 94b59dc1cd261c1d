package dev.meterline.ingest;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.io.JsonStringEncoder;
import dev.meterline.model.Reject;
import dev.meterline.model.SeriesKeyCache;

/**
 * The wire format at the edge: a hardened Jackson factory for decoding lines, and the JSON reply lines
 * ({@code {"error":…,"line":n}}, {@code {"synced":…}}) written back to clients.
 */
public final class IngestCodec {

    private final JsonFactory json;
    private final int maxLineBytes;
    private final int maxTags;
    /** One series key cache per decoding thread (event loops), so repeated series reuse their keys. */
    private final ThreadLocal<SeriesKeyCache> keyCaches = ThreadLocal.withInitial(() -> new SeriesKeyCache(8192));

    public IngestCodec(int maxLineBytes, int maxTags) {
        this.maxLineBytes = maxLineBytes;
        this.maxTags = maxTags;
        this.json = JsonFactory.builder()
                .streamReadConstraints(StreamReadConstraints.builder()
                        .maxNestingDepth(32)
                        .maxNumberLength(32)
                        .maxStringLength(maxLineBytes)
                        .build())
                // FastDoubleParser: the same correctly rounded doubles as Double.parseDouble, in less time.
                .enable(StreamReadFeature.USE_FAST_DOUBLE_PARSER)
                .build();
    }

    LineDecoder decoder(LineDecoder.Output out) {
        return new LineDecoder(json, maxLineBytes, maxTags, out, keyCaches::get);
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
