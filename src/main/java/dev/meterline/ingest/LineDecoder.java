package dev.meterline.ingest;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonStreamContext;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.core.exc.StreamReadException;
import dev.meterline.model.Point;
import dev.meterline.model.Reject;
import dev.meterline.model.SeriesKey;
import dev.meterline.telemetry.RejectReason;
import io.netty.buffer.ByteBuf;

import java.io.CharConversionException;
import java.io.IOException;
import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;

/**
 * Splits one connection's bytes into lines and decodes each line with Jackson's streaming parser into a point, a
 * sync request or a reject. Stateful (a partial line carries over between reads) and not thread-safe: one per
 * connection or request.
 */
final class LineDecoder {

    /** Receives what the decoder finds, in input order. */
    interface Output {
        void point(Point point);

        void reject(Reject reject);

        void sync(String id, int line);
    }

    private static final int MAX_PAIRS_TO_COLLECT = 2 * 1024;

    private final JsonFactory json;
    private final int maxLineBytes;
    private final int maxTags;
    private final Output out;

    private byte[] data = new byte[8192];
    private int carry;
    private boolean discarding;
    private int line;
    private long receivedAt;
    private String[] pairs = new String[16];

    LineDecoder(JsonFactory json, int maxLineBytes, int maxTags, Output out) {
        this.json = json;
        this.maxLineBytes = maxLineBytes;
        this.maxTags = maxTags;
        this.out = out;
    }

    /** The number of lines seen so far, counting blank and rejected ones. */
    int lines() {
        return line;
    }

    /** Forgets the started line, if any; it is neither decoded nor counted. */
    void discardPartialLine() {
        carry = 0;
        discarding = false;
    }

    /** True while a line has started but its newline has not come yet. */
    boolean midLine() {
        return carry > 0 || discarding;
    }

    /** Decodes every complete line in {@code buf}; {@code now} stamps points that carry no timestamp. */
    void decode(ByteBuf buf, long now) {
        receivedAt = now;
        int n = buf.readableBytes();
        ensureCapacity(carry + n);
        buf.getBytes(buf.readerIndex(), data, carry, n);
        decode(carry, carry + n);
    }

    /** Decodes {@code len} bytes of {@code bytes}; used by the HTTP body path and tests. */
    void decode(byte[] bytes, int off, int len, long now) {
        receivedAt = now;
        ensureCapacity(carry + len);
        System.arraycopy(bytes, off, data, carry, len);
        decode(carry, carry + len);
    }

    /** Ends the input: a last line without a newline still counts. */
    void finish(long now) {
        receivedAt = now;
        if (discarding) {
            discarding = false;
        } else if (carry > 0) {
            line(0, carry);
        }
        carry = 0;
    }

    private void decode(int scanFrom, int end) {
        int start = 0;
        for (int i = scanFrom; i < end; i++) {
            if (data[i] != '\n') {
                continue;
            }
            if (discarding) {
                discarding = false;
            } else {
                line(start, i);
            }
            start = i + 1;
        }
        int rest = end - start;
        if (discarding) {
            carry = 0;
        } else if (rest > maxLineBytes + 1) {
            // (+1: a trailing \r is not part of the line, and its \n may come in the next read.)
            // The line is already too long and its end is not here yet: answer now, skip to the next newline.
            line++;
            out.reject(tooLong(line));
            discarding = true;
            carry = 0;
        } else {
            if (start > 0 && rest > 0) {
                System.arraycopy(data, start, data, 0, rest);
            }
            carry = rest;
        }
    }

    private void ensureCapacity(int needed) {
        if (data.length < needed) {
            byte[] bigger = new byte[Math.max(needed, data.length * 2)];
            System.arraycopy(data, 0, bigger, 0, carry);
            data = bigger;
        }
    }

    private Reject tooLong(int lineNo) {
        return new Reject(lineNo, RejectReason.LINE_TOO_LONG, "line exceeds " + maxLineBytes + " bytes");
    }

    private void line(int from, int to) {
        line++;
        if (to > from && data[to - 1] == '\r') {
            to--;
        }
        if (to - from > maxLineBytes) {
            out.reject(tooLong(line));
            return;
        }
        if (isBlank(from, to)) {
            return;
        }
        Reject early = encodingHazard(from, to);
        if (early != null) {
            out.reject(early);
            return;
        }
        try {
            parse(from, to - from);
        } catch (RuntimeException e) {
            // Never expected (the fuzz tests look for it); one line must not end the connection even so.
            out.reject(Reject.of(line, RejectReason.INTERNAL_ERROR));
        }
    }

    /**
     * Jackson guesses UTF-16 or UTF-32 from a NUL among the first bytes or from their byte order marks; lines are
     * UTF-8 only, so such lines are refused here before the guess can happen. A UTF-8 byte order mark is let
     * through (Jackson skips it).
     */
    private Reject encodingHazard(int from, int to) {
        int end = Math.min(to, from + 8);
        for (int i = from; i < end; i++) {
            if (data[i] == 0) {
                return new Reject(line, RejectReason.INVALID_JSON, CONTROL_CHARACTER);
            }
        }
        int b0 = data[from] & 0xFF;
        if (b0 == 0xFE || b0 == 0xFF) {
            return Reject.of(line, RejectReason.INVALID_UTF8);
        }
        return null;
    }

    private boolean isBlank(int from, int to) {
        for (int i = from; i < to; i++) {
            byte b = data[i];
            if (b != ' ' && b != '\t' && b != '\r') {
                return false;
            }
        }
        return true;
    }

    /** Field bits, for duplicate detection without a per-object set. */
    private static final int METRIC = 1;
    private static final int VALUE = 2;
    private static final int TIMESTAMP = 4;
    private static final int TAGS = 8;
    private static final int SYNC = 16;

    static final String CONTROL_CHARACTER = "invalid JSON: control character (escape it as \\u00XX)";
    static final String TOO_DEEP = "invalid JSON: nested deeper than " + IngestCodec.MAX_NESTING + " levels";
    static final String NUMBER_TOO_LONG = "invalid JSON: number longer than " + IngestCodec.MAX_NUMBER_CHARS
            + " characters";
    static final String ONE_OBJECT = "invalid JSON: one object per line";
    static final String UNPAIRED_SURROGATE = "invalid UTF-8: unpaired surrogate escape";

    private void parse(int off, int len) {
        String metric = null;
        double value = 0;
        long timestamp = receivedAt;
        int tagCount = 0;
        String syncId = null;
        int seen = 0;
        RejectReason problem = null;
        String field = null;
        JsonParser p = null;
        try {
            p = json.createParser(data, off, len);
            if (p.nextToken() != JsonToken.START_OBJECT) {
                out.reject(Reject.of(line, RejectReason.NOT_AN_OBJECT));
                return;
            }
            while ((field = p.nextFieldName()) != null) {
                JsonToken t = p.nextToken();
                int bit = switch (field) {
                    case "metric" -> METRIC;
                    case "value" -> VALUE;
                    case "timestamp" -> TIMESTAMP;
                    case "tags" -> TAGS;
                    case "sync" -> SYNC;
                    default -> 0;
                };
                if (bit == 0) {
                    p.skipChildren();
                    continue;
                }
                if ((seen & bit) != 0) {
                    out.reject(new Reject(line, RejectReason.DUPLICATE_FIELD, "duplicate field '" + field + "'"));
                    return;
                }
                seen |= bit;
                switch (bit) {
                    case METRIC -> {
                        if (t == JsonToken.VALUE_STRING) {
                            metric = p.getText();
                            if (hasUnpairedSurrogate(metric)) {
                                out.reject(new Reject(line, RejectReason.INVALID_UTF8, UNPAIRED_SURROGATE));
                                return;
                            }
                        } else if (problem == null) {
                            problem = RejectReason.METRIC_INVALID;
                        }
                        p.skipChildren();
                    }
                    case VALUE -> {
                        if (t == JsonToken.VALUE_NUMBER_INT || t == JsonToken.VALUE_NUMBER_FLOAT) {
                            value = p.getDoubleValue();
                            if (!Double.isFinite(value) && problem == null) {
                                problem = RejectReason.VALUE_INVALID;
                            }
                        } else {
                            p.skipChildren();
                            if (problem == null) {
                                problem = RejectReason.VALUE_INVALID;
                            }
                        }
                    }
                    case TIMESTAMP -> {
                        if (t == JsonToken.VALUE_NUMBER_INT && p.getNumberType() != JsonParser.NumberType.BIG_INTEGER) {
                            timestamp = p.getLongValue();
                        } else if (t == JsonToken.VALUE_STRING) {
                            long parsed = parseRfc3339(p.getText());
                            if (parsed == Long.MIN_VALUE && problem == null) {
                                problem = RejectReason.TIMESTAMP_INVALID;
                            }
                            timestamp = parsed;
                        } else if (t != JsonToken.VALUE_NULL) {
                            p.skipChildren();
                            if (problem == null) {
                                problem = RejectReason.TIMESTAMP_INVALID;
                            }
                        }
                    }
                    case TAGS -> {
                        if (t == JsonToken.START_OBJECT) {
                            RejectReason tagProblem = null;
                            String key;
                            while ((key = p.nextFieldName()) != null) {
                                JsonToken vt = p.nextToken();
                                if (vt != JsonToken.VALUE_STRING) {
                                    p.skipChildren();
                                    if (tagProblem == null) {
                                        tagProblem = RejectReason.TAG_VALUE_INVALID;
                                    }
                                    continue;
                                }
                                if (tagProblem != null) {
                                    continue;
                                }
                                if (tagCount >= maxTags) {
                                    tagProblem = RejectReason.TOO_MANY_TAGS;
                                    continue;
                                }
                                if (indexOfKey(key, tagCount) >= 0) {
                                    tagProblem = RejectReason.TAG_DUPLICATE;
                                    continue;
                                }
                                String tagValue = p.getText();
                                if (hasUnpairedSurrogate(key) || hasUnpairedSurrogate(tagValue)) {
                                    out.reject(new Reject(line, RejectReason.INVALID_UTF8, UNPAIRED_SURROGATE));
                                    return;
                                }
                                addPair(tagCount++, key, tagValue);
                            }
                            if (tagProblem != null && problem == null) {
                                problem = tagProblem;
                            }
                        } else if (t != JsonToken.VALUE_NULL) {
                            p.skipChildren();
                            if (problem == null) {
                                problem = RejectReason.TAGS_INVALID;
                            }
                        }
                    }
                    case SYNC -> {
                        if (t == JsonToken.VALUE_STRING) {
                            syncId = p.getText();
                            if (hasUnpairedSurrogate(syncId)) {
                                out.reject(new Reject(line, RejectReason.INVALID_UTF8, UNPAIRED_SURROGATE));
                                return;
                            }
                        } else {
                            p.skipChildren();
                            if (problem == null) {
                                problem = RejectReason.SYNC_INVALID;
                            }
                        }
                    }
                    default -> throw new IllegalStateException(field);
                }
            }
            if (p.nextToken() != null) {
                out.reject(new Reject(line, RejectReason.INVALID_JSON, ONE_OBJECT));
                return;
            }
        } catch (CharConversionException e) {
            out.reject(Reject.of(line, RejectReason.INVALID_UTF8));
            return;
        } catch (IOException e) {
            // nextFieldName() may read the value after the name too, so the failing field is the parser's, if known.
            String at = field;
            if (e instanceof StreamReadException sre && sre.getProcessor() != null) {
                at = sre.getProcessor().getParsingContext().getCurrentName();
            } else if (e instanceof StreamConstraintsException && p != null) {
                at = p.getParsingContext().getCurrentName();
            }
            out.reject(failure(e, at));
            return;
        } finally {
            if (p != null) {
                closeQuietly(p);
            }
        }
        if ((seen & SYNC) != 0 && problem == null) {
            out.sync(syncId, line);
            return;
        }
        if (problem == null) {
            if ((seen & SYNC) != 0) {
                problem = RejectReason.SYNC_INVALID;
            } else if (metric == null) {
                problem = (seen & METRIC) != 0 ? RejectReason.METRIC_INVALID : RejectReason.METRIC_MISSING;
            } else if ((seen & VALUE) == 0) {
                problem = RejectReason.VALUE_MISSING;
            }
        }
        if (problem != null) {
            out.reject(Reject.of(line, problem));
            return;
        }
        String[] tags = tagCount == 0 ? null : java.util.Arrays.copyOf(pairs, tagCount * 2);
        SeriesKey key = SeriesKey.ofPairs(metric, tags == null ? new String[0] : tags, tagCount);
        out.point(new Point(key, value, timestamp, line));
    }

    /** The reject for a line Jackson could not read, with the field it was reading when known. */
    private Reject failure(IOException e, String field) {
        String msg = String.valueOf(e.getMessage());
        if (e instanceof StreamConstraintsException) {
            if (msg.contains("nesting depth")) {
                return new Reject(line, RejectReason.INVALID_JSON, TOO_DEEP);
            }
            if (msg.startsWith("Number")) {
                if ("value".equals(field)) {
                    return Reject.of(line, RejectReason.VALUE_INVALID);
                }
                if ("timestamp".equals(field)) {
                    return Reject.of(line, RejectReason.TIMESTAMP_INVALID);
                }
                return new Reject(line, RejectReason.INVALID_JSON, NUMBER_TOO_LONG);
            }
            return Reject.of(line, RejectReason.INVALID_JSON);
        }
        if (msg.startsWith("Duplicate field")) {
            JsonStreamContext ctx = e instanceof StreamReadException sre && sre.getProcessor() != null
                    ? sre.getProcessor().getParsingContext() : null;
            String name = ctx == null ? null : ctx.getCurrentName();
            JsonStreamContext parent = ctx == null ? null : ctx.getParent();
            if (parent != null && parent.getParent() != null && parent.getParent().inRoot()
                    && "tags".equals(parent.getCurrentName())) {
                return Reject.of(line, RejectReason.TAG_DUPLICATE);
            }
            return new Reject(line, RejectReason.DUPLICATE_FIELD,
                    name == null ? "duplicate field" : "duplicate field '" + truncate(name) + "'");
        }
        if (msg.contains("UTF-8") || msg.contains("UTF8")) {
            return Reject.of(line, RejectReason.INVALID_UTF8);
        }
        if (msg.contains("CTRL-CHAR")) {
            return new Reject(line, RejectReason.INVALID_JSON, CONTROL_CHARACTER);
        }
        if ("value".equals(field) && (msg.contains("NaN") || msg.contains("Infinity") || msg.contains("Non-standard token")
                || msg.contains("unexpected character") || msg.contains("Unrecognized token"))) {
            return Reject.of(line, RejectReason.VALUE_INVALID);
        }
        return Reject.of(line, RejectReason.INVALID_JSON);
    }

    private static void closeQuietly(JsonParser p) {
        try {
            p.close();
        } catch (IOException ignored) {
            // a byte-array parser holds nothing to release
        }
    }

    /** Field names echoed in error messages are cut short: a reply line stays small whatever the input. */
    private static String truncate(String name) {
        return name.length() <= 64 ? name : name.substring(0, 64) + "…";
    }

    /** True when {@code s} holds a surrogate that is not half of a pair (only possible through a JSON escape). */
    static boolean hasUnpairedSurrogate(String s) {
        for (int i = 0, len = s.length(); i < len; i++) {
            char c = s.charAt(i);
            if (c < Character.MIN_SURROGATE || c > Character.MAX_SURROGATE) {
                continue;
            }
            if (Character.isHighSurrogate(c) && i + 1 < len && Character.isLowSurrogate(s.charAt(i + 1))) {
                i++;
                continue;
            }
            return true;
        }
        return false;
    }

    private int indexOfKey(String key, int count) {
        for (int i = 0; i < count; i++) {
            if (pairs[2 * i].equals(key)) {
                return i;
            }
        }
        return -1;
    }

    private void addPair(int index, String key, String value) {
        if (pairs.length < 2 * index + 2) {
            pairs = java.util.Arrays.copyOf(pairs, Math.min(MAX_PAIRS_TO_COLLECT, pairs.length * 2));
        }
        pairs[2 * index] = key;
        pairs[2 * index + 1] = value;
    }

    /** Epoch milliseconds of an RFC 3339 timestamp, or Long.MIN_VALUE when it is not one. */
    static long parseRfc3339(String text) {
        try {
            return OffsetDateTime.parse(text, DateTimeFormatter.ISO_OFFSET_DATE_TIME).toInstant().toEpochMilli();
        } catch (DateTimeParseException | ArithmeticException e) {
            return Long.MIN_VALUE;
        }
    }
}
