package dev.meterline.store;

import dev.meterline.model.SeriesKey;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The canonical stored form of a tag set: a JSON object with keys in {@link SeriesKey}'s sorted order and a fixed
 * escaping, so that one series always has one text and text equality is series equality.
 */
final class TagsJson {

    private TagsJson() {
    }

    /** A tag as it appears within every text of a series that has it: {@code "key":"value"}, escaped alike. */
    static String pair(String key, String value) {
        StringBuilder sb = new StringBuilder(key.length() + value.length() + 5);
        quote(sb, key);
        sb.append(':');
        quote(sb, value);
        return sb.toString();
    }

    /**
     * A tag value as it appears within every text of a series that has it under any key: {@code :"value"}, escaped
     * alike. Outside a value it can appear only where a quoted string's text ends in {@code :}, since a quote within
     * a string is always escaped: a read that finds texts by it still tests the series it finds.
     */
    static String value(String value) {
        StringBuilder sb = new StringBuilder(value.length() + 3).append(':');
        quote(sb, value);
        return sb.toString();
    }

    static String encode(SeriesKey key) {
        StringBuilder sb = new StringBuilder(2 + key.tagCount() * 24).append('{');
        for (int i = 0; i < key.tagCount(); i++) {
            if (i > 0) {
                sb.append(',');
            }
            quote(sb, key.tagKey(i));
            sb.append(':');
            quote(sb, key.tagValue(i));
        }
        return sb.append('}').toString();
    }

    /**
     * Encodes as {@link TagsJson#encode} does, as UTF-8 into buffers it keeps, so that a flush of many new series makes
     * no object per text: the caller copies the bytes where it keeps them. A key whose strings are all
     * ASCII and shorter than 128 characters (each one length byte and then its characters in the key's content, see
     * {@link SeriesKey#copyContent}) is read from its content; any other goes the string way. One thread at a time.
     */
    static final class Encoder {

        private static final byte[] HEX = "0123456789abcdef".getBytes(StandardCharsets.US_ASCII);

        private byte[] content = new byte[256];
        private byte[] text = new byte[512];

        /**
         * Writes the tag text of {@code key} as UTF-8 at the start of {@link #bytes()} and returns its length; the
         * bytes stay there until the next call.
         */
        int encode(SeriesKey key) {
            int n = key.contentLength();
            if (content.length < n) {
                content = new byte[Math.max(n, 2 * content.length)];
            }
            byte[] c = content;
            key.copyContent(c, 0);
            for (int i = 0; i < n; i++) {
                if (c[i] < 0) {
                    byte[] utf8 = TagsJson.encode(key).getBytes(StandardCharsets.UTF_8);
                    if (text.length < utf8.length) {
                        text = new byte[Math.max(utf8.length, 2 * text.length)];
                    }
                    System.arraycopy(utf8, 0, text, 0, utf8.length);
                    return utf8.length;
                }
            }
            // A character takes at most six (a control character's escape), a string's length byte pays for its
            // quotes, and each tag adds a ':' and a ',' or a brace.
            int max = 6 * n + 2 * key.tagCount() + 2;
            if (text.length < max) {
                text = new byte[Math.max(max, 2 * text.length)];
            }
            byte[] t = text;
            int p = 0;
            t[p++] = '{';
            int at = 1 + c[0];
            for (int i = 0; i < key.tagCount(); i++) {
                if (i > 0) {
                    t[p++] = ',';
                }
                p = quote(c, at, t, p);
                at += 1 + c[at];
                t[p++] = ':';
                p = quote(c, at, t, p);
                at += 1 + c[at];
            }
            t[p++] = '}';
            return p;
        }

        /** The buffer {@link #encode} writes into. */
        byte[] bytes() {
            return text;
        }

        /** Writes the ASCII string whose length byte is {@code c[at]} at {@code p}, quoted and escaped. */
        private static int quote(byte[] c, int at, byte[] t, int p) {
            t[p++] = '"';
            for (int i = at + 1, end = at + 1 + c[at]; i < end; i++) {
                byte b = c[i];
                switch (b) {
                    case '"', '\\' -> {
                        t[p++] = '\\';
                        t[p++] = b;
                    }
                    case '\n' -> {
                        t[p++] = '\\';
                        t[p++] = 'n';
                    }
                    case '\r' -> {
                        t[p++] = '\\';
                        t[p++] = 'r';
                    }
                    case '\t' -> {
                        t[p++] = '\\';
                        t[p++] = 't';
                    }
                    default -> {
                        if (b < 0x20) {
                            t[p++] = '\\';
                            t[p++] = 'u';
                            t[p++] = '0';
                            t[p++] = '0';
                            t[p++] = HEX[b >>> 4];
                            t[p++] = HEX[b & 0xF];
                        } else {
                            t[p++] = b;
                        }
                    }
                }
            }
            t[p++] = '"';
            return p;
        }
    }

    private static void quote(StringBuilder sb, String s) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (c < 0x20) {
                        sb.append(String.format("\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        sb.append('"');
    }

    /** Parses a stored tag object; any JSON object of string values is accepted, not only the canonical form. */
    static Map<String, String> decode(String json) {
        return new Parser(json).object();
    }

    private static final class Parser {
        private final String s;
        private int i;

        Parser(String s) {
            this.s = s;
        }

        Map<String, String> object() {
            Map<String, String> tags = new LinkedHashMap<>();
            skipSpace();
            expect('{');
            skipSpace();
            if (peek() == '}') {
                i++;
                return tags;
            }
            while (true) {
                skipSpace();
                String k = string();
                skipSpace();
                expect(':');
                skipSpace();
                tags.put(k, string());
                skipSpace();
                char c = next();
                if (c == '}') {
                    return tags;
                }
                if (c != ',') {
                    throw error("',' or '}'");
                }
            }
        }

        private String string() {
            expect('"');
            StringBuilder sb = new StringBuilder();
            while (true) {
                char c = next();
                if (c == '"') {
                    return sb.toString();
                }
                if (c != '\\') {
                    sb.append(c);
                    continue;
                }
                char e = next();
                switch (e) {
                    case '"', '\\', '/' -> sb.append(e);
                    case 'b' -> sb.append('\b');
                    case 'f' -> sb.append('\f');
                    case 'n' -> sb.append('\n');
                    case 'r' -> sb.append('\r');
                    case 't' -> sb.append('\t');
                    case 'u' -> {
                        if (i + 4 > s.length()) {
                            throw error("four hex digits");
                        }
                        sb.append((char) Integer.parseInt(s.substring(i, i + 4), 16));
                        i += 4;
                    }
                    default -> throw error("an escape character");
                }
            }
        }

        private void skipSpace() {
            while (i < s.length() && Character.isWhitespace(s.charAt(i))) {
                i++;
            }
        }

        private char peek() {
            if (i >= s.length()) {
                throw error("more input");
            }
            return s.charAt(i);
        }

        private char next() {
            char c = peek();
            i++;
            return c;
        }

        private void expect(char c) {
            if (next() != c) {
                throw error("'" + c + "'");
            }
        }

        private StoreException error(String expected) {
            return new StoreException("stored tags '" + s + "' at offset " + i + " (expected: " + expected + ")");
        }
    }
}
