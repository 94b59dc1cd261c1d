package dev.meterline.ingest;

import java.nio.charset.StandardCharsets;

/**
 * Reads the common shape of a point line straight from its bytes, without Jackson: an object with a {@code metric}
 * string, a {@code value} number, an optional integer {@code timestamp} and an optional flat {@code tags} object of
 * strings, every string printable ASCII without escapes, separated by spaces or tabs at most.
 *
 * <p>Anything else (an escape, a byte outside printable ASCII, another field or value type, a repeated field or
 * tag, too many tags, a number of more than {@link #MAX_NUMBER_CHARS} characters or one that overflows, a
 * {@code sync} line...) makes {@link #read} return false, and the line goes to Jackson, which gives the exact
 * answer. So this reader only ever accepts lines that Jackson decodes into the same point; the decoder tests feed
 * both the same random lines and compare.
 *
 * <p>What it found stays in its fields until the next read: offsets into the array read, the value and the
 * timestamp. Not thread-safe: one per decoder.
 */
final class PlainLine {

    /** Longer number literals are left to Jackson (its own limit, 32, answers them). */
    static final int MAX_NUMBER_CHARS = 24;

    private static final int METRIC = 1;
    private static final int VALUE = 2;
    private static final int TIMESTAMP = 4;
    private static final int TAGS = 8;

    private static final double[] POWERS_OF_TEN = {
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19,
        1e20, 1e21, 1e22,
    };
    /** Doubles hold every integer up to 2^53 exactly. */
    private static final long EXACT_LIMIT = 1L << 53;

    private final int maxTags;

    /** The metric's characters, without the quotes. */
    int metricFrom;
    int metricTo;
    double value;
    boolean hasTimestamp;
    long timestamp;
    /** The tags object, braces included; empty when the line has none. */
    int tagsFrom;
    int tagsTo;
    int tagCount;
    /** Per tag: key from, key to, value from, value to; grows up to {@code 4 * maxTags}. */
    int[] tags = new int[4 * 8];

    /** Set by {@link #number} and {@link #plainString}: where the token ended. */
    private int end;

    PlainLine(int maxTags) {
        this.maxTags = maxTags;
    }

    /** True when {@code b[from, to)} is a point line of the plain shape; its parts are then in the fields. */
    boolean read(byte[] b, int from, int to) {
        tagsFrom = 0;
        tagsTo = 0;
        tagCount = 0;
        hasTimestamp = false;
        int i = skipSpace(b, from, to);
        if (i >= to || b[i] != '{') {
            return false;
        }
        int seen = 0;
        while (true) {
            i = skipSpace(b, i + 1, to);
            if (i >= to || b[i] != '"' || !plainString(b, i + 1, to)) {
                return false;
            }
            int field = field(b, i + 1, end);
            if (field == 0 || (seen & field) != 0) {
                return false;
            }
            seen |= field;
            i = skipSpace(b, end + 1, to);
            if (i >= to || b[i] != ':') {
                return false;
            }
            i = skipSpace(b, i + 1, to);
            if (i >= to) {
                return false;
            }
            switch (field) {
                case METRIC -> {
                    if (b[i] != '"' || !plainString(b, i + 1, to)) {
                        return false;
                    }
                    metricFrom = i + 1;
                    metricTo = end;
                    i = end + 1;
                }
                case VALUE -> {
                    if (!number(b, i, to, false)) {
                        return false;
                    }
                    i = end;
                }
                case TIMESTAMP -> {
                    if (!number(b, i, to, true)) {
                        return false;
                    }
                    hasTimestamp = true;
                    i = end;
                }
                default -> {
                    if (!tags(b, i, to)) {
                        return false;
                    }
                    i = end;
                }
            }
            i = skipSpace(b, i, to);
            if (i >= to) {
                return false;
            }
            if (b[i] == '}') {
                break;
            }
            if (b[i] != ',') {
                return false;
            }
        }
        return skipSpace(b, i + 1, to) == to && (seen & (METRIC | VALUE)) == (METRIC | VALUE);
    }

    /** The field that the name {@code b[from, to)} is, or 0 for any other name. */
    private static int field(byte[] b, int from, int to) {
        return switch (to - from) {
            case 6 -> equals(b, from, "metric") ? METRIC : 0;
            case 5 -> equals(b, from, "value") ? VALUE : 0;
            case 9 -> equals(b, from, "timestamp") ? TIMESTAMP : 0;
            case 4 -> equals(b, from, "tags") ? TAGS : 0;
            default -> 0;
        };
    }

    private static boolean equals(byte[] b, int from, String ascii) {
        for (int k = 0; k < ascii.length(); k++) {
            if (b[from + k] != ascii.charAt(k)) {
                return false;
            }
        }
        return true;
    }

    /** A flat object of plain strings starting at {@code b[i]}; sets {@link #end} past its closing brace. */
    private boolean tags(byte[] b, int i, int to) {
        if (b[i] != '{') {
            return false;
        }
        tagsFrom = i;
        i = skipSpace(b, i + 1, to);
        if (i < to && b[i] == '}') {
            tagsTo = end = i + 1;
            return true;
        }
        while (true) {
            if (i >= to || b[i] != '"' || !plainString(b, i + 1, to)) {
                return false;
            }
            int keyFrom = i + 1;
            int keyTo = end;
            i = skipSpace(b, keyTo + 1, to);
            if (i >= to || b[i] != ':') {
                return false;
            }
            i = skipSpace(b, i + 1, to);
            if (i >= to || b[i] != '"' || !plainString(b, i + 1, to)) {
                return false;
            }
            if (tagCount == maxTags || hasKey(b, keyFrom, keyTo)) {
                return false;
            }
            int t = 4 * tagCount++;
            if (t == tags.length) {
                tags = java.util.Arrays.copyOf(tags, tags.length * 2);
            }
            tags[t] = keyFrom;
            tags[t + 1] = keyTo;
            tags[t + 2] = i + 1;
            tags[t + 3] = end;
            i = skipSpace(b, end + 1, to);
            if (i >= to) {
                return false;
            }
            if (b[i] == '}') {
                tagsTo = end = i + 1;
                return true;
            }
            if (b[i] != ',') {
                return false;
            }
            i = skipSpace(b, i + 1, to);
        }
    }

    private boolean hasKey(byte[] b, int from, int to) {
        int len = to - from;
        for (int t = 0; t < 4 * tagCount; t += 4) {
            if (tags[t + 1] - tags[t] == len && java.util.Arrays.equals(b, tags[t], tags[t + 1], b, from, to)) {
                return true;
            }
        }
        return false;
    }

    /**
     * A string body of printable ASCII without escapes from {@code b[from]} up to its closing quote, which
     * {@link #end} is set to.
     */
    private boolean plainString(byte[] b, int from, int to) {
        for (int i = from; i < to; i++) {
            byte c = b[i];
            if (c == '"') {
                end = i;
                return true;
            }
            if (c < 0x20 || c > 0x7E || c == '\\') {
                return false;
            }
        }
        return false;
    }

    /**
     * A JSON number at {@code b[from]} into {@link #value}, or with {@code integer} an integer of at most 18 digits
     * into {@link #timestamp}; sets {@link #end} past it. Integers convert as Jackson converts them (an exact long,
     * then rounded to a double), decimals are rounded correctly like Jackson's parsers: exactly with one division or
     * multiplication when both operands are exact, else by {@link Double#parseDouble}.
     */
    private boolean number(byte[] b, int from, int to, boolean integer) {
        int i = from;
        boolean negative = i < to && b[i] == '-';
        if (negative) {
            i++;
        }
        int intFrom = i;
        long mantissa = 0;
        while (i < to && b[i] >= '0' && b[i] <= '9') {
            mantissa = mantissa * 10 + (b[i] - '0');
            i++;
        }
        int intDigits = i - intFrom;
        if (intDigits == 0 || (intDigits > 1 && b[intFrom] == '0') || intDigits > 18) {
            return false;
        }
        int digits = intDigits;
        int scale = 0;
        boolean decimal = false;
        if (i < to && b[i] == '.') {
            decimal = true;
            int fracFrom = ++i;
            while (i < to && b[i] >= '0' && b[i] <= '9') {
                if (digits < 18) {
                    mantissa = mantissa * 10 + (b[i] - '0');
                    scale--;
                }
                digits++;
                i++;
            }
            if (i == fracFrom) {
                return false;
            }
        }
        int exponent = 0;
        if (i < to && (b[i] == 'e' || b[i] == 'E')) {
            decimal = true;
            i++;
            boolean negativeExponent = i < to && b[i] == '-';
            if (i < to && (b[i] == '-' || b[i] == '+')) {
                i++;
            }
            int expFrom = i;
            while (i < to && b[i] >= '0' && b[i] <= '9' && i - expFrom < 4) {
                exponent = exponent * 10 + (b[i] - '0');
                i++;
            }
            if (i == expFrom || (i < to && b[i] >= '0' && b[i] <= '9')) {
                return false;
            }
            if (negativeExponent) {
                exponent = -exponent;
            }
        }
        if (i - from > MAX_NUMBER_CHARS) {
            return false;
        }
        end = i;
        if (integer) {
            if (decimal) {
                return false;
            }
            timestamp = negative ? -mantissa : mantissa;
            return true;
        }
        if (!decimal) {
            value = (double) (negative ? -mantissa : mantissa);
            return true;
        }
        int power = scale + exponent;
        double v;
        if (digits <= 18 && mantissa <= EXACT_LIMIT && power >= -22 && power <= 22) {
            v = power >= 0 ? mantissa * POWERS_OF_TEN[power] : mantissa / POWERS_OF_TEN[-power];
            v = negative ? -v : v;
        } else {
            v = Double.parseDouble(new String(b, from, i - from, StandardCharsets.ISO_8859_1));
        }
        if (!Double.isFinite(v)) {
            return false;
        }
        value = v;
        return true;
    }

    private static int skipSpace(byte[] b, int i, int to) {
        while (i < to && (b[i] == ' ' || b[i] == '\t')) {
            i++;
        }
        return i;
    }
}
