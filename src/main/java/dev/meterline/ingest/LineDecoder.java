package dev.meterline.ingest;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.core.exc.StreamReadException;
import dev.meterline.model.Point;
import dev.meterline.model.Reject;
import dev.meterline.model.RejectReason;
import dev.meterline.model.SeriesKey;
import dev.meterline.model.SeriesKeyCache;
import io.netty.buffer.ByteBuf;

import java.io.CharConversionException;
import java.io.IOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
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
    private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    private static final long NEWLINES = 0x0A0A0A0A0A0A0A0AL;

    private final JsonFactory json;
    private final JsonFactory sharedJson;
    private final int maxLineBytes;
    private final int maxTags;
    private final Output out;
    private final Supplier<SeriesKeyCache> caches;
    private final JsonFailure failures;

    private byte[] data = new byte[8192];
    private int carry;
    private boolean discarding;
    private int line;
    private long receivedAt;
    private String[] pairs = new String[16];
    /**
     * False to decode every line with a Jackson parser of its own (the reference path; tests compare both), true
     * for the fast paths: the plain reader first, then a Jackson parser shared by the lines of a read.
     */
    private boolean shareParser = true;
    private final PlainLine plain;
    /** Lines taken by the plain reader, for tests. */
    private long plainLines;

    /** The parser shared by the lines of the current read, from {@code sharedFrom} to {@code sharedEnd}; or null. */
    private JsonParser shared;
    private int sharedFrom;
    private int sharedEnd;
    /** Offset of the current object's first byte, relative to {@code sharedFrom}. */
    private long objectStart;
    /**
     * Set once the shared parser has read past the end of a line in the current read (an object left open on its
     * line): the rest of the read is decoded line by line, so hostile input cannot make parsers rescan it.
     */
    private boolean sharedOverran;
    /** Lines taken by the shared parser, for tests. */
    private long sharedLines;

    // What readLine found on the current line.
    private String metric;
    private double value;
    private long timestamp;
    private int tagCount;
    private String syncId;
    private boolean isSync;
    private String field;
    /** This thread's series key cache during a decode call, or null. */
    private SeriesKeyCache cache;

    /**
     * With {@code json} for a line's own parser, {@code sharedJson} for the parser shared by the lines of a read
     * (the same but for duplicate detection, see {@link IngestCodec}), and {@code caches} giving the calling
     * thread's series key cache (or null for none).
     */
    LineDecoder(JsonFactory json, JsonFactory sharedJson, int maxLineBytes, int maxTags, Output out,
                Supplier<SeriesKeyCache> caches) {
        this.caches = caches;
        this.json = json;
        this.sharedJson = sharedJson;
        this.maxLineBytes = maxLineBytes;
        this.maxTags = maxTags;
        this.out = out;
        this.plain = new PlainLine(maxTags);
        this.failures = new JsonFailure(sharedJson);
    }

    /** Turns the parser shared by the lines of a read off or on; outcomes are the same either way. */
    LineDecoder shareParser(boolean share) {
        this.shareParser = share;
        return this;
    }

    /** The number of lines the shared parser decoded. */
    long sharedLines() {
        return sharedLines;
    }

    /** The number of lines the plain reader decoded (the rest went through Jackson). */
    long plainLines() {
        return plainLines;
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
            line(0, carry, false);
        }
        carry = 0;
    }

    private void decode(int scanFrom, int end) {
        int start = 0;
        sharedEnd = end;
        sharedOverran = false;
        cache = caches == null ? null : caches.get();
        try {
            for (int i = nextNewline(scanFrom, end); i < end; i = nextNewline(start, end)) {
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

    /** The index of the first newline in {@code data[from, end)}, or {@code end}; eight bytes per step. */
    private int nextNewline(int from, int end) {
        int i = from;
        for (; i + 8 <= end; i += 8) {
            long x = (long) LONGS.get(data, i) ^ NEWLINES;
            // A byte of x is zero where a newline is; this sets the top bit of the first such byte (and maybe of
            // later ones, never of earlier ones).
            long zeros = (x - 0x0101010101010101L) & ~x & 0x8080808080808080L;
            if (zeros != 0) {
                return i + (Long.numberOfTrailingZeros(zeros) >>> 3);
            }
        }
        for (; i < end; i++) {
            if (data[i] == '\n') {
                return i;
            }
        }
        return end;
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
        try {
            // A plain line is neither blank nor one that Jackson could take for UTF-16 or UTF-32: it goes first.
            if (shareParser && plain.read(data, from, to)) {
                // The shared parser (if any) stands before this line: it must not read it again.
                dropShared();
                plainLines++;
                emitPlain();
                return;
            }
            if (isBlank(from, to)) {
                return;
            }
            Reject early = encodingHazard(from, to);
            if (early != null) {
                dropShared();
                out.reject(early);
                return;
            }
            if (!sharable || !shareParser || sharedOverran || !parseShared(from, to)) {
                parse(from, to - from);
            }
        } catch (RuntimeException e) {
            // Never expected (the fuzz tests look for it); one line must not end the connection even so.
            dropShared();
            out.reject(Reject.of(line, RejectReason.INTERNAL_ERROR));
        }
    }

    /**
     * Jackson guesses UTF-16 or UTF-32 from a NUL among the first bytes or from their byte order marks; lines are
     * UTF-8 only, so such lines are refused here before the guess can happen. A UTF-8 byte order mark is let
     * through (Jackson skips it). Checked for every line before either parser sees it, so a shared parser only
     * ever starts on a line whose first bytes passed this check.
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

    static final String CONTROL_CHARACTER = JsonFailure.CONTROL_CHARACTER;
    static final String TOO_DEEP = JsonFailure.TOO_DEEP;
    static final String NUMBER_TOO_LONG = JsonFailure.NUMBER_TOO_LONG;
    static final String ONE_OBJECT = "invalid JSON: one object per line";
    /** Never answered: tells the shared parse to leave a line with an unknown field to a parser of its own. */
    private static final Reject UNKNOWN_FIELD = new Reject(0, RejectReason.INVALID_JSON, "unknown field");
    static final String UNPAIRED_SURROGATE = "invalid UTF-8: unpaired surrogate escape";

    /**
     * Decodes one line with a parser of its own: the reference path, which applies every rule and classifies every
     * failure, and the fallback of the shared one.
     */
    private void parse(int off, int len) {
        field = null;
        JsonParser p = null;
        try {
            p = json.createParser(data, off, len);
            Reject r = readLine(p, true);
            if (r != null) {
                out.reject(r);
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
            out.reject(failures.classify(e, p, at, data, off, len, line));
            return;
        } finally {
            if (p != null) {
                closeQuietly(p);
            }
        }
        emit();
    }

    /**
     * Decodes line {@code [from, to)} with the parser shared by the lines of this read, which saves creating a
     * parser per line. Only a clean point or sync that ends within its line is taken; anything else returns false
     * (and drops the shared parser), and the line is decoded again on its own, so outcomes never differ.
     */
    private boolean parseShared(int from, int to) {
        if (shared == null && (data[from] & 0xFF) == 0xEF) {
            // A UTF-8 byte order mark is left to a parser of the line's own (Jackson skips one only at a start).
            return false;
        }
        try {
            if (shared == null) {
                shared = sharedJson.createParser(data, from, sharedEnd - from);
                sharedFrom = from;
            }
            // Every rule of readLine holds here too (surrogates, duplicates, depth, number length...): a line that
            // breaks one, or has an unknown field, is not taken, and the per-line parse gives its exact answer.
            if (readLine(shared, false) != null) {
                return fallBack(to);
            }
            int first = from;
            while (first < to && isJsonSpace(data[first])) {
                first++;
            }
            int end = sharedFrom + (int) shared.currentLocation().getByteOffset();
            if (objectStart + sharedFrom != first || end > to) {
                return fallBack(to);
            }
            for (int i = end; i < to; i++) {
                if (!isJsonSpace(data[i])) {
                    return fallBack(to);
                }
            }
        } catch (IOException | RuntimeException e) {
            return fallBack(to);
        }
        sharedLines++;
        emit();
        return true;
    }

    /** Gives line {@code [.., to)} up to the per-line parser; returns false for {@link #parseShared}. */
    private boolean fallBack(int to) {
        if (shared != null) {
            try {
                if (sharedFrom + shared.currentLocation().getByteOffset() > to) {
                    sharedOverran = true;
                }
            } catch (RuntimeException e) {
                sharedOverran = true;
            }
        }
        dropShared();
        return false;
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
        String[] tags = tagCount == 0 ? NO_PAIRS : java.util.Arrays.copyOf(pairs, tagCount * 2);
        out.point(new Point(SeriesKey.ofPairs(metric, tags, tagCount), value, timestamp, line));
    }

    /**
     * Hands the point that {@link PlainLine} read to the output. Its series key comes from the cache when the same
     * metric and tags bytes came before; else it is built, with the cache's shared name strings.
     */
    private void emitPlain() {
        PlainLine l = plain;
        long ts = l.hasTimestamp ? l.timestamp : receivedAt;
        SeriesKey key;
        if (cache == null) {
            key = plainKey(null);
        } else {
            int h = SeriesKeyCache.hash(data, l.metricFrom, l.metricTo, l.tagsFrom, l.tagsTo);
            key = cache.find(h, data, l.metricFrom, l.metricTo, l.tagsFrom, l.tagsTo);
            if (key == null) {
                key = plainKey(cache);
                cache.put(h, data, l.metricFrom, l.metricTo, l.tagsFrom, l.tagsTo, key);
            }
        }
        out.point(new Point(key, l.value, ts, line));
    }

    private SeriesKey plainKey(SeriesKeyCache names) {
        PlainLine l = plain;
        String metric = name(names, l.metricFrom, l.metricTo);
        if (l.tagCount == 0) {
            return SeriesKey.ofPairs(metric, NO_PAIRS, 0);
        }
        String[] tags = new String[2 * l.tagCount];
        int[] at = l.tags;
        for (int t = 0; t < l.tagCount; t++) {
            tags[2 * t] = name(names, at[4 * t], at[4 * t + 1]);
            tags[2 * t + 1] = new String(data, at[4 * t + 2], at[4 * t + 3] - at[4 * t + 2], StandardCharsets.ISO_8859_1);
        }
        return SeriesKey.ofPairs(metric, tags, l.tagCount);
    }

    /** The ASCII string of {@code data[from, to)}, shared through {@code names} when there is one. */
    private String name(SeriesKeyCache names, int from, int to) {
        return names == null ? new String(data, from, to - from, StandardCharsets.ISO_8859_1)
                : names.name(data, from, to);
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
                if (!whole) {
                    // The shared parser does not detect duplicate keys: an unknown field (which may repeat, or
                    // hold an object that does) is left to a strict parser of the line's own.
                    return UNKNOWN_FIELD;
                }
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
                        if (hasUnpairedSurrogate(metric)) {
                            return new Reject(line, RejectReason.INVALID_UTF8, UNPAIRED_SURROGATE);
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
                                return new Reject(line, RejectReason.INVALID_UTF8, UNPAIRED_SURROGATE);
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
                            return new Reject(line, RejectReason.INVALID_UTF8, UNPAIRED_SURROGATE);
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
        if (whole && p.nextToken() != null) {
            return new Reject(line, RejectReason.INVALID_JSON, ONE_OBJECT);
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

    private static void closeQuietly(JsonParser p) {
        try {
            p.close();
        } catch (IOException ignored) {
            // a byte-array parser holds nothing to release
        }
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
