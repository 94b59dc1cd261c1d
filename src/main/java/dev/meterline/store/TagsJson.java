package dev.meterline.store;

import dev.meterline.model.SeriesKey;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The canonical stored form of a tag set: a JSON object with keys in {@link SeriesKey}'s sorted order and a fixed
 * escaping, so that one series always has one text and text equality is series equality.
 */
final class TagsJson {

    private TagsJson() {
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
