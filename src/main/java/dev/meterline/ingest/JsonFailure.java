package dev.meterline.ingest;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonStreamContext;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.core.exc.StreamReadException;
import dev.meterline.model.Reject;
import dev.meterline.model.RejectReason;

import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * Names the reject of a line Jackson could not read from the exception's type, the parser's state and the line's
 * own bytes, never from an exception's message, so that a Jackson upgrade cannot change what clients are told.
 */
final class JsonFailure {

    static final String CONTROL_CHARACTER = "invalid JSON: control character (escape it as \\u00XX)";
    static final String TOO_DEEP = "invalid JSON: nested deeper than " + IngestCodec.MAX_NESTING + " levels";
    static final String NUMBER_TOO_LONG = "invalid JSON: number longer than " + IngestCodec.MAX_NUMBER_CHARS
            + " characters";

    /** The same limits as the strict factory but no duplicate detection: finds the first duplicate name itself. */
    private final JsonFactory lenient;

    JsonFailure(JsonFactory lenient) {
        this.lenient = lenient;
    }

    /**
     * The reject for line {@code lineNo}, bytes {@code [off, off + len)} of {@code data}, on which the strict parser
     * {@code p} threw {@code e} while reading field {@code field} (null when unknown).
     */
    Reject classify(IOException e, JsonParser p, String field, byte[] data, int off, int len, int lineNo) {
        if (e instanceof StreamConstraintsException) {
            // String and name lengths are bounded by the line length, so a broken constraint is either the depth
            // (the parser has entered the level one too deep) or a number's length.
            if (p != null && p.getParsingContext().getNestingDepth() > IngestCodec.MAX_NESTING) {
                return new Reject(lineNo, RejectReason.INVALID_JSON, TOO_DEEP);
            }
            if ("value".equals(field)) {
                return Reject.of(lineNo, RejectReason.VALUE_INVALID);
            }
            if ("timestamp".equals(field)) {
                return Reject.of(lineNo, RejectReason.TIMESTAMP_INVALID);
            }
            return new Reject(lineNo, RejectReason.INVALID_JSON, NUMBER_TOO_LONG);
        }
        if (!(e instanceof StreamReadException)) {
            return Reject.of(lineNo, RejectReason.INVALID_JSON);
        }
        // How far the parser read: the byte it failed on is the last one it took.
        long read = consumed((StreamReadException) e, p);
        Reject duplicate = p == null ? null : duplicate(p, e, read, data, off, len, lineNo);
        if (duplicate != null) {
            return duplicate;
        }
        // Jackson skips a UTF-8 byte order mark (its offsets still count it): the text starts after one.
        int text = len >= 3 && (data[off] & 0xFF) == 0xEF && (data[off + 1] & 0xFF) == 0xBB
                && (data[off + 2] & 0xFF) == 0xBF ? off + 3 : off;
        // Jackson decodes UTF-8 inside strings as it reads them, and a value that starts outside the ASCII range: a
        // malformed sequence there before the failure point is what it failed on.
        int bad = Utf8Bytes.firstInvalidUtf8(data, off, off + len);
        if (bad >= 0 && bad - off < read) {
            int quote = openingQuote(data, text, bad);
            if (quote >= 0) {
                return nameOrString(data, quote, off + len, lineNo);
            } else if (read - (bad - off) <= 4 && valuePosition(data, text, bad)) {
                // A value starting with a malformed sequence: the parser read it whole, and a byte more.
                return Reject.of(lineNo, RejectReason.INVALID_UTF8);
            }
        }
        if (read > 0 && read <= len) {
            Reject r = read - 1 < text - off ? null : unexpectedCharacter(data, text, off + (int) read - 1, lineNo);
            if (r != null) {
                return r;
            }
        }
        if ("value".equals(field) && p != null && p.currentToken() == JsonToken.FIELD_NAME
                && bareWordValue(p, data, off, len)) {
            return Reject.of(lineNo, RejectReason.VALUE_INVALID);
        }
        return Reject.of(lineNo, RejectReason.INVALID_JSON);
    }

    /** The number of the line's bytes the parser had read when it failed, or -1 when it does not say. */
    private static long consumed(StreamReadException e, JsonParser p) {
        JsonLocation loc = p != null ? p.currentLocation() : e.getLocation();
        return loc == null ? -1 : loc.getByteOffset();
    }

    /**
     * The reject named by the character the parser stopped at, {@code data[at]}: a control character inside a
     * string or between tokens, or, outside strings, a byte that does not decode as UTF-8 or decodes to a control
     * character; null when the character names nothing (a word's end, a misplaced printable character).
     */
    private static Reject unexpectedCharacter(byte[] data, int off, int at, int lineNo) {
        int b = data[at] & 0xFF;
        boolean inString = openingQuote(data, off, at) >= 0;
        if (b < 0x20) {
            if (inString) {
                return new Reject(lineNo, RejectReason.INVALID_JSON, CONTROL_CHARACTER);
            }
            // Between tokens only white space may stand, but a number that wants another digit takes even white
            // space for a misplaced character; right after a word the byte ended the word, which is the failure.
            boolean space = b == '\t' || b == '\r' || b == '\n';
            if (leadingPlus(data, off, at - 1)) {
                // A number may not start with a plus sign: that is the failure; the parser read one byte further.
                return null;
            }
            if (space ? !unfinishedNumber(data, off, at) : afterWord(data, off, at)) {
                return null;
            }
            return new Reject(lineNo, RejectReason.INVALID_JSON, CONTROL_CHARACTER);
        }
        if (b < 0x80 || inString) {
            return null;
        }
        int lead = at;
        while (lead > off && at - lead < 3 && (data[lead] & 0xC0) == 0x80) {
            lead--;
        }
        if ((data[lead] & 0xFF) < 0xC0 || openingQuote(data, off, lead) >= 0) {
            lead = at;
        }
        if (!valuePosition(data, off, lead)) {
            // Where no value may start, the byte is named as it stands, not decoded.
            return Character.isISOControl(data[lead] & 0xFF) ? new Reject(lineNo, RejectReason.INVALID_JSON, CONTROL_CHARACTER) : null;
        }
        int c = Utf8Bytes.lenientCodePoint(data, lead, data.length);
        if (c < 0) {
            return Reject.of(lineNo, RejectReason.INVALID_UTF8);
        }
        return Character.isISOControl(c) ? new Reject(lineNo, RejectReason.INVALID_JSON, CONTROL_CHARACTER) : null;
    }

    /** True when a value may start at {@code data[at]}: first on the line, or after a colon or an opening bracket. */
    private static boolean valuePosition(byte[] data, int off, int at) {
        int i = at - 1;
        while (i >= off && (data[i] == ' ' || data[i] == '\t' || data[i] == '\r')) {
            i--;
        }
        return i < off || data[i] == ':' || data[i] == '[';
    }

    /** True when {@code data[at]} ends a bare word (letters, digits, {@code _}, {@code $}, non-ASCII; not a number). */
    private static boolean afterWord(byte[] data, int off, int at) {
        int i = at;
        while (i > off && wordPart(data[i - 1])) {
            i--;
        }
        if (i == at || data[i] >= '0' && data[i] <= '9' || literal(data, i, at)) {
            return false;
        }
        return !(at - i == 1 && data[i] == 'I' && i > off && data[i - 1] == '-');
    }

    /** True when {@code data[from, to)} is {@code true}, {@code false} or {@code null}, which end at any byte below '0'. */
    private static boolean literal(byte[] data, int from, int to) {
        int n = to - from;
        if (n != 4 && n != 5) {
            return false;
        }
        String w = new String(data, from, n, StandardCharsets.ISO_8859_1);
        return w.equals("true") || w.equals("false") || w.equals("null");
    }

    /** True when {@code data[at]} is a plus sign where a value starts (not an exponent's sign). */
    private static boolean leadingPlus(byte[] data, int off, int at) {
        return at >= off && data[at] == '+' && !(at > off && (data[at - 1] == 'e' || data[at - 1] == 'E'));
    }

    /** A byte Jackson reads as part of a word: a Java identifier part (which counts most control characters). */
    private static boolean wordPart(byte b) {
        return b < 0 || Character.isJavaIdentifierPart((char) b);
    }

    /** True when {@code data[at]} follows a number that still needs a digit ({@code -}, {@code 1.}, {@code 1e}). */
    private static boolean unfinishedNumber(byte[] data, int off, int at) {
        if (at == off) {
            return false;
        }
        byte prev = data[at - 1];
        if (prev == '-' || prev == '.' || prev == '+') {
            return true;
        }
        if (prev == 'I' && at - 2 >= off && data[at - 2] == '-') {
            // -I that does not go on as -Infinity is a minus sign without its digit
            return true;
        }
        if (prev != 'e' && prev != 'E') {
            return false;
        }
        int i = at - 1;
        while (i > off && (data[i - 1] >= '0' && data[i - 1] <= '9' || data[i - 1] == '.' || data[i - 1] == '-')) {
            i--;
        }
        return i < at - 1 && (data[i] == '-' || data[i] >= '0' && data[i] <= '9');
    }

    /**
     * What stopped the parser in the string that opens at {@code data[quote]} and holds a malformed UTF-8 sequence.
     * A field name is first scanned to its closing quote, so a control character or the line's end there comes
     * before the decoding; a value is decoded as it is read.
     */
    private static Reject nameOrString(byte[] data, int quote, int end, int lineNo) {
        if (!keyPosition(data, quote)) {
            // A sequence cut short by the line's end is the end of input, not a malformed sequence.
            boolean cut = Utf8Bytes.cutShort(data, Utf8Bytes.firstInvalidUtf8(data, quote, end), end);
            return Reject.of(lineNo, cut ? RejectReason.INVALID_JSON : RejectReason.INVALID_UTF8);
        }
        for (int i = quote + 1; i < end; i++) {
            int b = data[i] & 0xFF;
            if (b == '"') {
                return Reject.of(lineNo, RejectReason.INVALID_UTF8);
            }
            if (b < 0x20) {
                return new Reject(lineNo, RejectReason.INVALID_JSON, CONTROL_CHARACTER);
            }
            if (b == '\\') {
                i++;
            }
        }
        return Reject.of(lineNo, RejectReason.INVALID_JSON);
    }

    /** True when the string opening at {@code data[quote]} stands where an object's field name goes. */
    private static boolean keyPosition(byte[] data, int quote) {
        int i = quote - 1;
        while (i >= 0 && (data[i] == ' ' || data[i] == '\t' || data[i] == '\r')) {
            i--;
        }
        return i >= 0 && (data[i] == '{' || data[i] == ',');
    }

    /**
     * The index of the opening quote of the string that {@code data[at]} lies inside, in the valid JSON that starts
     * at {@code from}, or -1 when it lies outside strings.
     */
    static int openingQuote(byte[] data, int from, int at) {
        int open = -1;
        for (int i = from; i < at; i++) {
            byte b = data[i];
            if (open >= 0 && b == '\\') {
                i++;
            } else if (b == '"') {
                open = open >= 0 ? -1 : i;
            }
        }
        return open;
    }

    /**
     * The reject for the duplicate name the strict parser {@code p} stopped at, or null when it stopped at something
     * else. Duplicate detection is the strict parser's only rule beyond the lenient one's, so a lenient parser that
     * reads the same line further than {@code p} shows that a duplicate stopped {@code p}.
     */
    private Reject duplicate(JsonParser p, IOException strict, long strictRead, byte[] data, int off, int len,
                             int lineNo) {
        try (JsonParser q = lenient.createParser(data, off, len)) {
            try {
                while (q.nextToken() != null) {
                    q.currentToken();
                }
            } catch (IOException | RuntimeException e) {
                long lenientRead = q.currentLocation().getByteOffset();
                // Stopped at the same place for the same kind of reason: not a duplicate.
                if (lenientRead < strictRead || lenientRead == strictRead && e.getClass() == strict.getClass()) {
                    return null;
                }
            }
        } catch (IOException e) {
            return null;
        }
        JsonStreamContext object = p.getParsingContext();
        String name = object.getCurrentName();
        JsonStreamContext parent = object.getParent();
        if (parent != null && parent.getParent() != null && parent.getParent().inRoot()
                && "tags".equals(parent.getCurrentName())) {
            return Reject.of(lineNo, RejectReason.TAG_DUPLICATE);
        }
        return new Reject(lineNo, RejectReason.DUPLICATE_FIELD,
                name == null ? "duplicate field" : "duplicate field '" + truncate(name) + "'");
    }

    /**
     * True when the value after the field name the parser stands on is a bare word (a letter first, or a sign and
     * {@code Inf}): a literal such as {@code NaN} or {@code Infinity} that JSON does not allow.
     */
    private static boolean bareWordValue(JsonParser p, byte[] data, int off, int len) {
        long nameAt = p.currentTokenLocation().getByteOffset();
        if (nameAt < 0 || nameAt >= len || data[off + (int) nameAt] != '"') {
            return false;
        }
        int end = off + len;
        int i = off + (int) nameAt + 1;
        while (i < end && data[i] != '"') {
            i += data[i] == '\\' ? 2 : 1;
        }
        i = skipSpace(data, i + 1, end);
        if (i >= end || data[i] != ':') {
            return false;
        }
        i = skipSpace(data, i + 1, end);
        if (i >= end) {
            return false;
        }
        byte b = data[i];
        if (b == '-' || b == '+') {
            return i + 3 < end && data[i + 1] == 'I' && data[i + 2] == 'n' && data[i + 3] == 'f';
        }
        int c = Utf8Bytes.lenientCodePoint(data, i, end);
        return c >= 0 && Character.isJavaIdentifierStart(c);
    }

    private static int skipSpace(byte[] data, int i, int end) {
        while (i < end && (data[i] == ' ' || data[i] == '\t' || data[i] == '\r' || data[i] == '\n')) {
            i++;
        }
        return i;
    }

    /** Field names echoed in error messages are cut short: a reply line stays small whatever the input. */
    static String truncate(String name) {
        return name.length() <= 64 ? name : name.substring(0, 64) + "…";
    }
}
