package dev.meterline.ingest;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.core.exc.StreamReadException;
import dev.meterline.model.Point;
import dev.meterline.model.Reject;
import dev.meterline.model.RejectReason;
import dev.meterline.model.SeriesKey;
import dev.meterline.model.SeriesRules;
import io.netty.buffer.ByteBuf;

import java.io.CharConversionException;
import java.io.IOException;
import java.util.function.Supplier;

/**
 * Splits one connection's bytes into lines and hands each line to the first of its decoders that takes it: the
 * plain reader ({@link PlainLine}), the parser shared by a read's lines ({@link SharedParser}) or a Jackson parser
 * of the line's own, whose failures {@link JsonFailure} names. Stateful (a partial line carries over between reads)
 * and not thread-safe: one per connection or request.
 *
 * <p>The lines of a read go in groups of up to {@link #GROUP}: the plain reader reads each line of the group (one
 * reader per line, so each keeps its findings), then, when the series key cache is large, the group's set words, its
 * candidate slots and then the hashes inside their keys are read in three tight passes, so that their cache misses
 * overlap instead of following one another; when it is small, the plain reader looks each line's series up in it as
 * it reads, without counting, to skip parsing tags the cache holds, trying first the series that followed the line
 * before's the last time (clients repeat their series in the same order). Only then are the lines decoded in order,
 * their look-ups hitting near caches. Neither the reading ahead nor those look-ups change any state but that hint of
 * which series follows which, which is checked against the bytes before it is used, so the points and rejects, their
 * order, and the cache's contents and counters are those of one line at a time.
 */
final class LineDecoder {

    /** Receives what the decoder finds, in input order. */
    interface Output {
        void point(Point point);

        void reject(Reject reject);

        void sync(String id, int line);
    }

    static final String CONTROL_CHARACTER = JsonFailure.CONTROL_CHARACTER;
    static final String TOO_DEEP = JsonFailure.TOO_DEEP;
    static final String NUMBER_TOO_LONG = JsonFailure.NUMBER_TOO_LONG;
    static final String ONE_OBJECT = JsonFields.ONE_OBJECT;
    static final String UNPAIRED_SURROGATE = JsonFields.UNPAIRED_SURROGATE;

    private static final long NEWLINES = Words.repeated('\n');

    /** Lines per group: enough look-ups in flight to keep the memory system busy, few enough to stay in L1. */
    static final int GROUP = 16;
    /** What the first pass found of a line of the group. */
    private static final byte OTHER = 0;
    private static final byte PLAIN = 1;
    private static final byte TOO_LONG = 2;
    private static final byte FAILED = 3;

    private final JsonFactory json;
    private final int maxLineBytes;
    private final Output out;
    private final Supplier<SeriesKeyCache> caches;
    private final JsonFailure failures;

    /** The most bytes of one read decoded at a time (see {@link #decode(ByteBuf, long)}). */
    static final int SLICE_BYTES = 65_536;

    private byte[] data = new byte[8192];
    private int carry;
    private boolean discarding;
    private int line;
    private long receivedAt;
    /**
     * False to decode every line with a Jackson parser of its own (the reference path; tests compare both), true
     * for the fast paths: the plain reader first, then a Jackson parser shared by the lines of a read.
     */
    private boolean shareParser = true;
    private final int maxTags;
    /** Per line of the group: its reader (made when a group first needs it), bounds, kind and series hash. */
    private PlainLine[] plains;
    private int[] froms;
    private int[] tos;
    private byte[] kinds;
    private int[] hashes;
    /**
     * Per line of the group: the cache slot the reading ahead found, or -1. Slots rather than keys: storing a key in
     * a long-lived array would cost a card-marking barrier per line.
     */
    private int[] slots;
    /** What the reading ahead loaded, kept so that the loads are not left out as unused. */
    private long touched;
    private final PlainKeys plainKeys;
    /** The key cache slot where the plain reader found the last line read, or -1; see {@link PlainLine#read}. */
    private int lastSlot = -1;
    /** Followers compared in a row that were not the line's series, up to 2. */
    private int followerMisses;
    /** Lines taken by the plain reader, for tests. */
    private long plainLines;
    /** Plain lines whose series the reader recognised in the key cache, for tests. */
    private long knownLines;
    /** Of those, the lines found as the series that followed the line before's, for tests. */
    private long followedLines;

    /** What the last line read through Jackson held. */
    private final JsonFields fields;
    private final SharedParser shared;
    /** This thread's series key cache during a decode call, or null. */
    private SeriesKeyCache cache;
    /** The thread that decoded last and its cache, so that a connection's reads ask the thread-local once. */
    private Thread cacheThread;
    private SeriesKeyCache threadCache;

    /**
     * With {@code json} for a line's own parser, {@code sharedJson} for the parser shared by the lines of a read
     * (the same but for duplicate detection, see {@link IngestCodec}), and {@code caches} giving the calling
     * thread's series key cache (or null for none); {@code rules} checks and enriches each key built.
     */
    LineDecoder(JsonFactory json, JsonFactory sharedJson, int maxLineBytes, int maxTags, Output out,
                Supplier<SeriesKeyCache> caches, SeriesRules rules) {
        this.caches = caches;
        this.json = json;
        this.maxLineBytes = maxLineBytes;
        this.out = out;
        this.maxTags = maxTags;
        groupSize(GROUP);
        this.plainKeys = new PlainKeys(rules);
        this.fields = new JsonFields(maxTags, rules);
        this.shared = new SharedParser(sharedJson, fields);
        this.failures = new JsonFailure(sharedJson);
    }

    /** Turns the parser shared by the lines of a read off or on; outcomes are the same either way. */
    LineDecoder shareParser(boolean share) {
        this.shareParser = share;
        return this;
    }

    /** Sets the most lines decoded as a group (at least 1; 1 decodes each line on its own); outcomes are the same. */
    LineDecoder groupSize(int size) {
        if (size < 1) {
            throw new IllegalArgumentException("size: " + size + " (expected: at least 1)");
        }
        plains = new PlainLine[size];
        froms = new int[size];
        tos = new int[size];
        kinds = new byte[size];
        hashes = new int[size];
        slots = new int[size];
        return this;
    }

    /** What the reading ahead loaded; read by tests only so that it counts as used. */
    long touched() {
        return touched;
    }

    /** The number of lines the shared parser decoded. */
    long sharedLines() {
        return shared.lines();
    }

    /** The number of lines the plain reader decoded (the rest went through Jackson). */
    long plainLines() {
        return plainLines;
    }

    /** The number of plain lines whose tags were not parsed: the key cache held their series' bytes. */
    long knownLines() {
        return knownLines;
    }

    /** The number of plain lines recognised as the key cache's follower of the line before's series. */
    long followedLines() {
        return followedLines;
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

    /** The bytes of the buffer this decoder keeps for its connection's reads, for tests. */
    int bufferBytes() {
        return data.length;
    }

    /** True while a line has started but its newline has not come yet. */
    boolean midLine() {
        return carry > 0 || discarding;
    }

    /**
     * Decodes every complete line in {@code buf}; {@code now} stamps points that carry no timestamp. A large read is
     * taken {@link #SLICE_BYTES} at a time, so that the buffer this decoder keeps for its connection stays within a
     * slice and a line, whatever the size of the reads.
     */
    void decode(ByteBuf buf, long now) {
        receivedAt = now;
        int at = buf.readerIndex();
        int end = at + buf.readableBytes();
        while (at < end) {
            int n = Math.min(SLICE_BYTES, end - at);
            ensureCapacity(carry + n);
            buf.getBytes(at, data, carry, n);
            decode(carry, carry + n);
            at += n;
        }
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
            froms[0] = 0;
            tos[0] = carry;
            lines(1, false);
        }
        carry = 0;
    }

    private void decode(int scanFrom, int end) {
        int start = 0;
        shared.startRead(end);
        cache = threadCache();
        try {
            int group = froms.length;
            for (int i = nextNewline(scanFrom, end); i < end; ) {
                int n = 0;
                do {
                    if (discarding) {
                        discarding = false;
                    } else {
                        froms[n] = start;
                        tos[n] = i;
                        n++;
                    }
                    start = i + 1;
                    i = nextNewline(start, end);
                } while (i < end && n < group);
                lines(n, true);
            }
        } finally {
            shared.drop();
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

    /** The calling thread's series key cache, or null; asked of {@link #caches} only when the thread changes. */
    private SeriesKeyCache threadCache() {
        Thread t = Thread.currentThread();
        if (t != cacheThread) {
            threadCache = caches == null ? null : caches.get();
            cacheThread = t;
        }
        return threadCache;
    }

    /** The index of the first newline in {@code data[from, end)}, or {@code end}; eight bytes per step. */
    private int nextNewline(int from, int end) {
        int i = Words.indexOf(data, from, end, NEWLINES);
        return i < 0 ? end : i;
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

    /**
     * Decodes the {@code n} lines of the group whose bounds (newline excluded) are in {@link #froms} and
     * {@link #tos}, in order; {@code sharable} when they may go through the parser shared by this read's lines.
     */
    private void lines(int n, boolean sharable) {
        // First pass: each line's kind, and for a plain one its reader's findings and its series' hash. Reading a
        // line changes nothing outside its own reader, so doing it ahead of the earlier lines' decoding is safe.
        // A small cache (one the CPU's near caches hold) also recognises the lines' tags objects while they are read;
        // a large one is read ahead for the whole group instead, and a probe per line would wait on each miss. A
        // crowded one does neither: it looks nothing up.
        SeriesKeyCache c = cache;
        boolean looksUp = c != null && !c.crowded();
        SeriesKeyCache known = looksUp && !c.worthTouching() ? c : null;
        for (int k = 0; k < n; k++) {
            int from = froms[k];
            int to = tos[k];
            if (to > from && data[to - 1] == '\r') {
                tos[k] = --to;
            }
            byte kind = OTHER;
            if (to - from > maxLineBytes) {
                kind = TOO_LONG;
            } else if (shareParser) {
                // A plain line is neither blank nor one that Jackson could take for UTF-16 or UTF-32: it goes first.
                try {
                    PlainLine p = plains[k];
                    if (p == null) {
                        p = plains[k] = new PlainLine(maxTags);
                    }
                    // After two followers in a row that were not the line's series, one line in eight tries: a client
                    // that does not repeat its order would pay for a compare that fails on most lines.
                    boolean plain = p.read(data, from, to, known, lastSlot, followerMisses < 2 || (k & 7) == 0);
                    lastSlot = plain ? p.slot : -1;
                    if (p.followed) {
                        followerMisses = 0;
                    } else if (p.followerMissed && followerMisses < 2) {
                        followerMisses++;
                    }
                    if (plain) {
                        kind = PLAIN;
                        if (p.slot >= 0) {
                            knownLines++;
                            if (p.followed) {
                                followedLines++;
                            }
                            hashes[k] = p.hash;
                        } else if (c != null) {
                            hashes[k] = PlainKeys.hash(data, p);
                        }
                    }
                } catch (RuntimeException e) {
                    kind = FAILED;
                }
            }
            kinds[k] = kind;
        }
        if (looksUp && n > 1 && c.worthTouching()) {
            touchAhead(n);
        }
        for (int k = 0; k < n; k++) {
            line(k, sharable);
        }
    }

    /**
     * Reads the set words of the group's plain lines, then their candidate slots (wire bytes and key reference), then
     * the hash inside each key found, which the line's point reads: each pass's loads are independent of one another,
     * so the CPU has them in flight together.
     */
    private void touchAhead(int n) {
        SeriesKeyCache c = cache;
        long sum = 0;
        for (int k = 0; k < n; k++) {
            if (kinds[k] == PLAIN) {
                sum += c.touchSet(hashes[k]);
            }
        }
        for (int k = 0; k < n; k++) {
            PlainLine p = plains[k];
            slots[k] = kinds[k] != PLAIN ? -1
                    : c.touchSlot(hashes[k], p.metricFrom, p.metricTo, p.tagsFrom, p.tagsTo);
        }
        for (int k = 0; k < n; k++) {
            if (slots[k] >= 0) {
                sum += c.touchKey(slots[k]);
            }
        }
        touched += sum;
    }

    /** Decodes line {@code k} of the group, which the first pass of {@link #lines} has read. */
    private void line(int k, boolean sharable) {
        line++;
        int from = froms[k];
        int to = tos[k];
        byte kind = kinds[k];
        if (kind == TOO_LONG) {
            shared.drop();
            out.reject(tooLong(line));
            return;
        }
        if (kind == FAILED) {
            // As below: the plain reader threw, which is never expected.
            shared.drop();
            out.reject(Reject.of(line, RejectReason.INTERNAL_ERROR));
            return;
        }
        try {
            if (kind == PLAIN) {
                // The shared parser (if any) stands before this line: it must not read it again.
                shared.drop();
                plainLines++;
                PlainLine plain = plains[k];
                SeriesKey key = plainKeys.key(data, plain, cache, hashes[k]);
                if (key == null) {
                    out.reject(Reject.of(line, plainKeys.refused()));
                } else {
                    out.point(new Point(key, plain.value, plain.hasTimestamp ? plain.timestamp : receivedAt, line));
                }
                return;
            }
            if (isBlank(from, to)) {
                return;
            }
            Reject early = encodingHazard(from, to);
            if (early != null) {
                shared.drop();
                out.reject(early);
                return;
            }
            if (sharable && shareParser && !shared.overran() && shared.parse(data, from, to, line, receivedAt)) {
                fields.emit(out, line);
            } else {
                parse(from, to - from);
            }
        } catch (RuntimeException e) {
            // Never expected (the fuzz tests look for it); one line must not end the connection even so.
            shared.drop();
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

    /**
     * Decodes one line with a parser of its own: the reference path, which applies every rule and classifies every
     * failure, and the fallback of the shared one.
     */
    private void parse(int off, int len) {
        fields.field = null;
        JsonParser p = null;
        try {
            p = json.createParser(data, off, len);
            Reject r = fields.read(p, true, line, receivedAt);
            if (r != null) {
                out.reject(r);
                return;
            }
        } catch (CharConversionException e) {
            out.reject(Reject.of(line, RejectReason.INVALID_UTF8));
            return;
        } catch (IOException e) {
            // nextFieldName() may read the value after the name too, so the failing field is the parser's, if known.
            String at = fields.field;
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
        fields.emit(out, line);
    }

    private static void closeQuietly(JsonParser p) {
        try {
            p.close();
        } catch (IOException ignored) {
            // a byte-array parser holds nothing to release
        }
    }
}
