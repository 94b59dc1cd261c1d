package dev.meterline.ingest;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.core.exc.StreamReadException;
import dev.meterline.model.Point;
import dev.meterline.model.Reject;
import dev.meterline.model.SeriesKey;
import dev.meterline.model.SeriesKeyCache;
import dev.meterline.telemetry.RejectReason;
import io.netty.buffer.ByteBuf;

import java.io.CharConversionException;
import java.io.IOException;
import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.function.Supplier;

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
    private static final String[] NO_PAIRS = new String[0];

    private final JsonFactory json;
    private final int maxLineBytes;
    private final int maxTags;
    private final Output out;
    private final Supplier<SeriesKeyCache> caches;

    private byte[] data = new byte[8192];
    private int carry;
    private boolean discarding;
    private int line;
    private long receivedAt;
    private String[] pairs = new String[16];

    /** The parser shared by the lines of the current read, from {@code sharedFrom} to {@code sharedEnd}; or null. */
    private JsonParser shared;
    private int sharedFrom;
    private int sharedEnd;
    /** Offset of the current object's first byte, relative to {@code sharedFrom}. */
    private long objectStart;

    // What readLine found on the current line.
    private String metric;
    private double value;
    private long timestamp;
    private int tagCount;
    private String syncId;
    private boolean isSync;
    private String field;
    /** The tags object's bytes, relative to {@code sharedFrom}; empty unless read by the shared parser. */
    private int tagsFrom;
    private int tagsTo;
    /** This thread's series key cache during a decode call, or null. */
    private SeriesKeyCache cache;

    LineDecoder(JsonFactory json, int maxLineBytes, int maxTags, Output out) {
        this(json, maxLineBytes, maxTags, out, null);
    }

    /** With {@code caches} giving the calling thread's series key cache (or null for none). */
    LineDecoder(JsonFactory json, int maxLineBytes, int maxTags, Output out, Supplier<SeriesKeyCache> caches) {
        this.caches = caches;
        this.json = json;
        this.maxLineBytes = maxLineBytes;
        this.maxTags = maxTags;
        this.out = out;
    }

    /** The number of lines seen so far, counting blank and rejected ones. */
    int lines() {
        return line;
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
            line(0, carry, false);
        }
        carry = 0;
    }

    private void decode(int scanFrom, int end) {
        int start = 0;
        sharedEnd = end;
        cache = caches == null ? null : caches.get();
        try {
            for (int i = scanFrom; i < end; i++) {
                if (data[i] != '\n') {
                    continue;
                }
                if (discarding) {
                    discarding = false;
                } else {
                    line(start, i, true);
                }
                start = i + 1;
            }
        } finally {
            dropShared();
            cache = null;
        }
        int rest = end - start;
        if (discarding) {
            carry = 0;
        } else if (rest > maxLineBytes) {
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

    /** Decodes one line; {@code sharable} when it may go through the parser shared by this read's lines. */
    private void line(int from, int to, boolean sharable) {
        line++;
        if (to > from && data[to - 1] == '\r') {
            to--;
        }
        if (to - from > maxLineBytes) {
            dropShared();
            out.reject(tooLong(line));
            return;
        }
        if (isBlank(from, to)) {
            return;
        }
        if (!sharable || !parseShared(from, to)) {
            parse(from, to - from);
        }
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

    /** Decodes one line with a parser of its own: the reference path, and the fallback of the shared one. */
    private void parse(int off, int len) {
        field = null;
        try (JsonParser p = json.createParser(data, off, len)) {
            Reject r = readLine(p, true);
            if (r != null) {
                out.reject(r);
                return;
            }
        } catch (CharConversionException e) {
            out.reject(Reject.of(line, RejectReason.INVALID_UTF8));
            return;
        } catch (IOException e) {
            String at = field;
            if (e instanceof StreamReadException sre && sre.getProcessor() != null) {
                at = sre.getProcessor().getParsingContext().getCurrentName();
            }
            out.reject(Reject.of(line, classify(e, at)));
            return;
        }
        emit();
    }

    /**
     * Decodes line {@code [from, to)} with the parser shared by the lines of this read, which saves creating a
     * parser per line. Only a clean point or sync that ends within its line is taken; anything else returns false
     * (and drops the shared parser), and the line is decoded again on its own, so outcomes never differ.
     */
    private boolean parseShared(int from, int to) {
        try {
            if (shared == null) {
                shared = json.createParser(data, from, sharedEnd - from);
                sharedFrom = from;
            }
            if (readLine(shared, false) != null) {
                dropShared();
                return false;
            }
            int first = from;
            while (first < to && isJsonSpace(data[first])) {
                first++;
            }
            int end = sharedFrom + (int) shared.currentLocation().getByteOffset();
            if (objectStart + sharedFrom != first || end > to) {
                dropShared();
                return false;
            }
            for (int i = end; i < to; i++) {
                if (!isJsonSpace(data[i])) {
                    dropShared();
                    return false;
                }
            }
        } catch (IOException | RuntimeException e) {
            dropShared();
            return false;
        }
        emit();
        return true;
    }

    private void dropShared() {
        if (shared != null) {
            try {
                shared.close();
            } catch (IOException e) {
                // a byte-array parser has nothing to release that can fail
            }
            shared = null;
        }
    }

    private static boolean isJsonSpace(byte b) {
        return b == ' ' || b == '\t' || b == '\r' || b == '\n';
    }

    /** Hands the point or sync that {@link #readLine} found to the output. */
    private void emit() {
        if (isSync) {
            out.sync(syncId, line);
            return;
        }
        SeriesKey key = null;
        boolean cacheable = cache != null && tagsTo > tagsFrom;
        if (cacheable) {
            key = cache.find(metric, data, sharedFrom + tagsFrom, sharedFrom + tagsTo);
        }
        if (key == null) {
            String[] tags = tagCount == 0 ? NO_PAIRS : java.util.Arrays.copyOf(pairs, tagCount * 2);
            key = SeriesKey.ofPairs(metric, tags, tagCount);
            if (cacheable) {
                cache.put(metric, data, sharedFrom + tagsFrom, sharedFrom + tagsTo, key);
            }
        }
        out.point(new Point(key, value, timestamp, line));
    }

    /**
     * Reads one line's object from {@code p} into the fields; returns its reject, or null for a point or a sync.
     * With {@code whole}, the parser holds exactly the line, and a second value on it is an error.
     */
    private Reject readLine(JsonParser p, boolean whole) throws IOException {
        metric = null;
        value = 0;
        timestamp = receivedAt;
        tagCount = 0;
        tagsFrom = 0;
        tagsTo = 0;
        syncId = null;
        isSync = false;
        int seen = 0;
        RejectReason problem = null;
        if (p.nextToken() != JsonToken.START_OBJECT) {
            return Reject.of(line, RejectReason.NOT_AN_OBJECT);
        }
        if (!whole) {
            objectStart = p.currentTokenLocation().getByteOffset();
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
                return new Reject(line, RejectReason.DUPLICATE_FIELD, "duplicate field '" + field + "'");
            }
            seen |= bit;
            switch (bit) {
                case METRIC -> {
                    if (t == JsonToken.VALUE_STRING) {
                        metric = p.getText();
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
                        if (!whole) {
                            tagsFrom = (int) p.currentTokenLocation().getByteOffset();
                        }
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
                            addPair(tagCount++, key, p.getText());
                        }
                        if (!whole) {
                            tagsTo = (int) p.currentLocation().getByteOffset();
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
        if (whole && p.nextToken() != null) {
            return new Reject(line, RejectReason.INVALID_JSON, "invalid JSON: one object per line");
        }
        if ((seen & SYNC) != 0 && problem == null) {
            isSync = true;
            return null;
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
        return problem == null ? null : Reject.of(line, problem);
    }

    private static RejectReason classify(IOException e, String field) {
        if (e instanceof StreamConstraintsException) {
            return "value".equals(field) ? RejectReason.VALUE_INVALID : RejectReason.INVALID_JSON;
        }
        String msg = String.valueOf(e.getMessage());
        if (msg.contains("UTF-8") || msg.contains("UTF8")) {
            return RejectReason.INVALID_UTF8;
        }
        if ("value".equals(field) && (msg.contains("NaN") || msg.contains("Infinity") || msg.contains("Non-standard token")
                || msg.contains("unexpected character") || msg.contains("Unrecognized token"))) {
            return RejectReason.VALUE_INVALID;
        }
        return RejectReason.INVALID_JSON;
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
