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
 * <p>Strings, field names and digits are examined eight bytes at a time where eight bytes remain before the bound.
 * The usual compact form, {@code {"metric":"…","value":…,"timestamp":…,"tags":{…}}} without spaces, timestamp and
 * tags optional, is tried first by a reader of that one field order, which compares each field's name with the
 * separators around it as one or two words; any other line is read again by the general reader, which takes the
 * fields in any order with spaces around them.
 *
 * <p>Given a series key cache to {@link #read(byte[], int, int, SeriesKeyCache) read} with, a tags object after the
 * metric is first taken to end at its first closing brace, and when the cache holds a series of exactly that metric
 * and those bytes, the tags are not parsed: the cache holds only series the reader accepted, and equal bytes read
 * alike (the object read ends at its first closing brace then). The line then carries the series' hash and slot for
 * the look-up ({@link #slot}), and the tags' offsets are read only if the key must be built after all
 * ({@link #readTags}).
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
    private static final long[] LONG_POWERS_OF_TEN = {
        1L, 10L, 100L, 1_000L, 10_000L, 100_000L, 1_000_000L, 10_000_000L, 100_000_000L,
    };

    /** The bytes {@link #stops} looks for, in every byte of a word. */
    private static final long QUOTES = Words.repeated('"');
    private static final long BACKSLASHES = Words.repeated('\\');
    private static final long SPACES = Words.repeated(' ');
    /** The field names with their closing quote, as the first bytes of a word (the timestamp's first eight). */
    private static final long METRIC_NAME = word("metric\"");
    private static final long VALUE_NAME = word("value\"");
    private static final long TAGS_NAME = word("tags\"");
    private static final long TIMESTAMP_NAME = word("timestam");
    /** The compact form's separators: the line's first eight bytes and the three after them. */
    private static final long OPEN_METRIC = word("{\"metric");
    private static final long METRIC_REST = word("\":\"");
    private static final long COMMA_VALUE = word(",\"value\"");
    /** {@code ,"timestamp":} as its first eight bytes and its last eight (overlapping). */
    private static final long COMMA_TIMESTAMP = word(",\"timest");
    private static final long TIMESTAMP_COLON = word("estamp\":");
    private static final long COMMA_TAGS = word(",\"tags\":");
    private static final long CLOSING_BRACES = Words.repeated('}');

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
    /** False when the tags object was recognised in the cache: {@link #tagCount} and {@link #tags} are not read. */
    boolean tagsRead;
    /** The cache slot holding this line's series, found while reading, or -1; then {@link #hash} and {@link #stamp}. */
    int slot;
    int hash;
    int stamp;
    /** True when the series was found as the cache's follower of the line before's ({@link #read}). */
    boolean followed;
    /** True when that follower was compared with the line and was not its series. */
    boolean followerMissed;
    /** The cache probed for the tags object during a read, or null. */
    private SeriesKeyCache known;
    /** The cache slot of the line read before this one, or -1: its follower in the cache is tried first. */
    private int after;
    /** The series that followed {@link #after}'s last time, when it is to be tried first, else -1. */
    private int follower;
    /**
     * The last timestamp the compact reader converted, of 9 to 16 characters: its first eight and its last eight
     * bytes (overlapping), its length (0 for none) and its value. Points of a batch often share their timestamp.
     */
    private long lastHead;
    private long lastTail;
    private int lastLength;
    private long lastTimestamp;

    /** Set by {@link #number} and {@link #plainString}: where the token ended. */
    private int end;
    /** Set by {@link #digits}: the digits it read. */
    private long digitsRead;

    PlainLine(int maxTags) {
        this.maxTags = maxTags;
    }

    /** True when {@code b[from, to)} is a point line of the plain shape; its parts are then in the fields. */
    boolean read(byte[] b, int from, int to) {
        return read(b, from, to, null);
    }

    /**
     * As {@link #read(byte[], int, int)}, recognising a tags object after the metric by the series {@code cache}
     * (or null) holds, unless it ever held a series of more tags than this reader takes.
     */
    boolean read(byte[] b, int from, int to, SeriesKeyCache cache) {
        return read(b, from, to, cache, -1, false);
    }

    /**
     * As {@link #read(byte[], int, int, SeriesKeyCache)}, where the line before was found at the cache slot
     * {@code previous} (or -1). With {@code tryFollower}, a compact line whose tags end right before its closing
     * brace is first compared with the series that followed that slot's last time ({@link SeriesKeyCache#follower}):
     * clients send their series in the same order again and again, so this is usually it, and then neither the
     * series' hash nor its set is computed or searched, nor the tags' end looked for. A series found otherwise is
     * then noted as that slot's follower.
     */
    boolean read(byte[] b, int from, int to, SeriesKeyCache cache, int previous, boolean tryFollower) {
        known = cache != null && cache.mostTags() <= maxTags ? cache : null;
        after = known == null || !tryFollower ? -1 : previous;
        follower = after >= 0 ? known.follower(after) : -1;
        followed = false;
        followerMissed = false;
        slot = -1;
        tagsRead = true;
        int i = compact(b, from, to);
        if (i < 0) {
            slot = -1;
            tagsRead = true;
            i = object(b, from, to);
        }
        return i >= 0 && skipSpace(b, i, to) == to;
    }

    /**
     * Reads the compact form from {@code b[from]}: returns the index past its closing brace, or -1 for a line of any
     * other form (which the general reader then reads). Whatever it accepts, the general reader reads the same way.
     */
    private int compact(byte[] b, int from, int to) {
        tagsFrom = 0;
        tagsTo = 0;
        tagCount = 0;
        hasTimestamp = false;
        int i = from;
        if (i + 16 > to || Words.at(b, i) != OPEN_METRIC || (Words.at(b, i + 8) & 0xFF_FFFFL) != METRIC_REST
                || !plainString(b, i + 11, to)) {
            return -1;
        }
        metricFrom = i + 11;
        metricTo = end;
        i = end + 1;
        if (i + 9 > to || Words.at(b, i) != COMMA_VALUE || b[i + 8] != ':' || !value(b, i + 9, to)) {
            return -1;
        }
        i = end;
        if (i + 13 <= to && Words.at(b, i) == COMMA_TIMESTAMP && Words.at(b, i + 5) == TIMESTAMP_COLON) {
            if (!timestamp(b, i + 13, to)) {
                return -1;
            }
            hasTimestamp = true;
            i = end;
        }
        if (i + 9 <= to && Words.at(b, i) == COMMA_TAGS) {
            if (!followingTags(b, i + 8, to) && !knownTags(b, i + 8, to) && !tags(b, i + 8, to)) {
                return -1;
            }
            i = end;
        }
        return i < to && b[i] == '}' ? i + 1 : -1;
    }

    /**
     * A value at {@code b[from]} (before the bound) as {@link #number} reads it, into {@link #value}; sets
     * {@link #end} past it. The common forms, an integer or a decimal of one to seven digits before and after the
     * point with an optional minus, take a word each here, in a method small enough to be compiled into its caller;
     * any other goes to {@link #number}. The decimal's digits, fourteen at most, and its power of ten are exact, so
     * the one division rounds correctly, as in {@link #number}.
     */
    private boolean value(byte[] b, int from, int to) {
        boolean negative = b[from] == '-';
        int i = negative ? from + 1 : from;
        if (i + 16 <= to) {
            long x = Words.at(b, i);
            long marks = nonDigits(x);
            int n = Words.first(marks);
            if (n >= 1 && n <= 7 && (n == 1 || (byte) x != '0')) {
                // The byte after the digits, from the word already read rather than loaded again.
                long c = x >>> (8 * n) & 0xFF;
                if (c == '.') {
                    // The next mark after the point is exact too (digits and a point carry nothing into it): when
                    // the fraction ends inside this word, its digits join the whole part's for one conversion.
                    int stop = Words.first(marks & (marks - 1));
                    int m = stop - n - 1;
                    if (m >= 1 && stop <= 7 && (x >>> (8 * stop) & 0xDF) != 'E') {
                        long joined = x & ((1L << (8 * n)) - 1) | x >>> (8 * (n + 1)) << (8 * n);
                        double v = digitsValue(joined, n + m) / POWERS_OF_TEN[m];
                        value = negative ? -v : v;
                        end = i + stop;
                        return true;
                    }
                    long whole = digitsValue(x, n);
                    i += n;
                    long y = Words.at(b, i + 1);
                    m = leadingDigits(y);
                    i += m + 1;
                    if (m >= 1 && m <= 7 && (y >>> (8 * m) & 0xDF) != 'E') {
                        double v = (whole * LONG_POWERS_OF_TEN[m] + digitsValue(y, m)) / POWERS_OF_TEN[m];
                        value = negative ? -v : v;
                        end = i;
                        return true;
                    }
                } else if ((c & 0xDF) != 'E') {
                    long whole = digitsValue(x, n);
                    value = (double) (negative ? -whole : whole);
                    end = i + n;
                    return true;
                }
            }
        }
        return number(b, from, to, false);
    }

    /**
     * An integer timestamp at {@code b[i]} as {@link #number} reads it, into {@link #timestamp}; sets {@link #end}
     * past it. When its first bytes are those of the last one converted, it is that one's value without converting
     * again: the compact form then needs a comma or a closing brace right after them, so a longer number (more
     * digits, a fraction, an exponent) fails there and the general reader reads the line.
     */
    private boolean timestamp(byte[] b, int i, int to) {
        int n = lastLength;
        if (n != 0 && i + n < to && Words.at(b, i) == lastHead && Words.at(b, i + n - 8) == lastTail) {
            timestamp = lastTimestamp;
            end = i + n;
            return true;
        }
        if (!number(b, i, to, true)) {
            return false;
        }
        n = end - i;
        if (n >= 9 && n <= 16) {
            lastHead = Words.at(b, i);
            lastTail = Words.at(b, end - 8);
            lastLength = n;
            lastTimestamp = timestamp;
        }
        return true;
    }

    /**
     * True when the bytes from the tags object at {@code b[i]} to the line's last byte, a closing brace, are those of
     * the series that followed the previous line's in the cache, with this line's metric; sets {@link #end} to that
     * last brace and the line's look-up fields, as {@link #knownTags} does. The cached bytes are a whole tags object
     * that the reader accepted, and it reads the same bytes the same way: so the line's tags object is exactly those
     * bytes, followed by the line's closing brace, and the series is the one {@link #knownTags} or the look-up after
     * {@link #tags} would find. Only called once the metric is read.
     */
    private boolean followingTags(byte[] b, int i, int to) {
        int s = follower;
        int last = to - 1;
        if (s < 0 || b[last] != '}' || b[i] != '{') {
            return false;
        }
        SeriesKeyCache cache = known;
        if (!cache.holds(s, b, metricFrom, metricTo, i, last)) {
            followerMissed = true;
            return false;
        }
        followed = true;
        return recognised(cache, i, last, s, cache.hashAt(s));
    }

    /**
     * True when the tags object at {@code b[i]}, taken to end at its first closing brace, is that of a series of
     * this line's metric that the cache holds; sets {@link #end} past it and the line's look-up fields. Only called
     * once the metric is read.
     */
    private boolean knownTags(byte[] b, int i, int to) {
        SeriesKeyCache cache = known;
        if (cache == null || b[i] != '{') {
            return false;
        }
        int close = Words.indexOf(b, i + 1, Math.min(to, i + SeriesKeyCache.MAX_BYTES), CLOSING_BRACES);
        if (close < 0) {
            return false;
        }
        int h = SeriesKeyCache.hash(b, metricFrom, metricTo, i, close + 1);
        int s = cache.probe(h, b, metricFrom, metricTo, i, close + 1);
        if (s < 0) {
            return false;
        }
        if (after >= 0) {
            cache.follow(after, s);
        }
        return recognised(cache, i, close + 1, s, h);
    }

    /**
     * Takes the tags object {@code b[from, to)} as the series the cache holds at {@code s}, of hash {@code h}: sets
     * {@link #end} past it and the line's look-up fields; returns true.
     */
    private boolean recognised(SeriesKeyCache cache, int from, int to, int s, int h) {
        tagsFrom = from;
        tagsTo = end = to;
        tagsRead = false;
        slot = s;
        hash = h;
        stamp = cache.stamp();
        return true;
    }

    /**
     * Reads the offsets of the tags that {@link #read} recognised in the cache without reading them, from the same
     * bytes {@code b}; they read as they did when the cache took them.
     */
    void readTags(byte[] b) {
        if (tagsRead) {
            return;
        }
        tagCount = 0;
        if (!tags(b, tagsFrom, tagsTo) || end != tagsTo) {
            throw new IllegalStateException("a cached tags object no longer reads as plain");
        }
        tagsRead = true;
    }

    /** Reads a point line's object from {@code b[from]}; returns the index past its closing brace, or -1. */
    private int object(byte[] b, int from, int to) {
        tagsFrom = 0;
        tagsTo = 0;
        tagCount = 0;
        hasTimestamp = false;
        int i = skipSpace(b, from, to);
        if (i >= to || b[i] != '{') {
            return -1;
        }
        int seen = 0;
        while (true) {
            i = skipSpace(b, i + 1, to);
            if (i >= to || b[i] != '"') {
                return -1;
            }
            int field = field(b, i + 1, to);
            if (field == 0 || (seen & field) != 0) {
                return -1;
            }
            seen |= field;
            i = skipSpace(b, end + 1, to);
            if (i >= to || b[i] != ':') {
                return -1;
            }
            i = skipSpace(b, i + 1, to);
            if (i >= to) {
                return -1;
            }
            switch (field) {
                case METRIC -> {
                    if (b[i] != '"' || !plainString(b, i + 1, to)) {
                        return -1;
                    }
                    metricFrom = i + 1;
                    metricTo = end;
                    i = end + 1;
                }
                case VALUE -> {
                    if (!number(b, i, to, false)) {
                        return -1;
                    }
                    i = end;
                }
                case TIMESTAMP -> {
                    if (!number(b, i, to, true)) {
                        return -1;
                    }
                    hasTimestamp = true;
                    i = end;
                }
                default -> {
                    if (!((seen & METRIC) != 0 && knownTags(b, i, to)) && !tags(b, i, to)) {
                        return -1;
                    }
                    i = end;
                }
            }
            i = skipSpace(b, i, to);
            if (i >= to) {
                return -1;
            }
            if (b[i] == '}') {
                break;
            }
            if (b[i] != ',') {
                return -1;
            }
        }
        return (seen & (METRIC | VALUE)) == (METRIC | VALUE) ? i + 1 : -1;
    }

    /**
     * The field whose name, with its closing quote, starts at {@code b[from]}, or 0 for any other name or a string
     * that is not plain; sets {@link #end} to the closing quote of a field's name.
     */
    private int field(byte[] b, int from, int to) {
        if (from + 8 > to) {
            if (!plainString(b, from, to)) {
                return 0;
            }
            return switch (end - from) {
                case 6 -> equals(b, from, "metric") ? METRIC : 0;
                case 5 -> equals(b, from, "value") ? VALUE : 0;
                case 9 -> equals(b, from, "timestamp") ? TIMESTAMP : 0;
                case 4 -> equals(b, from, "tags") ? TAGS : 0;
                default -> 0;
            };
        }
        long x = Words.at(b, from);
        if ((x & 0x00FF_FFFF_FFFF_FFFFL) == METRIC_NAME) {
            end = from + 6;
            return METRIC;
        }
        if ((x & 0x0000_FFFF_FFFF_FFFFL) == VALUE_NAME) {
            end = from + 5;
            return VALUE;
        }
        if ((x & 0x0000_00FF_FFFF_FFFFL) == TAGS_NAME) {
            end = from + 4;
            return TAGS;
        }
        if (x == TIMESTAMP_NAME && from + 10 <= to && b[from + 8] == 'p' && b[from + 9] == '"') {
            end = from + 9;
            return TIMESTAMP;
        }
        return 0;
    }

    /** The ASCII bytes of {@code s} (at most eight) as a little-endian word. */
    private static long word(String s) {
        long w = 0;
        for (int k = s.length() - 1; k >= 0; k--) {
            w = w << 8 | s.charAt(k);
        }
        return w;
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
        int i = from;
        for (; i + 8 <= to; i += 8) {
            long stops = stops(Words.at(b, i));
            if (stops != 0) {
                int at = i + Words.first(stops);
                if (b[at] == '"') {
                    end = at;
                    return true;
                }
                return false;
            }
        }
        for (; i < to; i++) {
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
     * The top bit of the lowest byte of {@code x} that ends a plain string body (a quote, a backslash, a byte below
     * 0x20 or above 0x7E) set, and perhaps of later bytes; 0 when no byte does. Borrows and carries only ever run
     * from a byte that is set into later ones, so the lowest set byte is exact.
     */
    static long stops(long x) {
        return Words.zeroBytes(x ^ QUOTES)
                | Words.zeroBytes(x ^ BACKSLASHES)
                | ((x - SPACES) & ~x | (x + Words.ONES) | x) & Words.HIGHS;
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
        i = digits(b, i, to, 0);
        long mantissa = digitsRead;
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
            i = digits(b, i, to, mantissa);
            // Past 18 digits the mantissa has wrapped, but then it is not used: Double.parseDouble decides.
            mantissa = digitsRead;
            scale = fracFrom - i;
            digits += i - fracFrom;
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
        if (digits <= 18 && mantissa <= EXACT_LIMIT && power >= -22 && power <= 22) {
            // Both operands are below 2^53 * 10^22, so the result is finite: nothing waits on it here.
            double v = power >= 0 ? mantissa * POWERS_OF_TEN[power] : mantissa / POWERS_OF_TEN[-power];
            value = negative ? -v : v;
            return true;
        }
        double v = Double.parseDouble(new String(b, from, i - from, StandardCharsets.ISO_8859_1));
        if (!Double.isFinite(v)) {
            return false;
        }
        value = v;
        return true;
    }

    /**
     * Reads the ASCII digits from {@code b[i]} on, eight at a time where it can, into {@link #digitsRead} as
     * {@code m} followed by them (wrapping past 18 digits); returns the index past them. It stops early, at a digit,
     * once more digits than {@link #MAX_NUMBER_CHARS} were read: such a number is too long either way.
     */
    private int digits(byte[] b, int i, int to, long m) {
        int stop = i + MAX_NUMBER_CHARS;
        while (i + 8 <= to && i <= stop) {
            long x = Words.at(b, i);
            int n = leadingDigits(x);
            if (n == 0) {
                digitsRead = m;
                return i;
            }
            m = m * LONG_POWERS_OF_TEN[n] + digitsValue(x, n);
            i += n;
            if (n < 8) {
                digitsRead = m;
                return i;
            }
        }
        while (i < to && i <= stop && b[i] >= '0' && b[i] <= '9') {
            m = m * 10 + (b[i] - '0');
            i++;
        }
        digitsRead = m;
        return i;
    }

    /** How many of the bytes of {@code x}, from the lowest, are ASCII digits before the first that is not. */
    static int leadingDigits(long x) {
        return Words.first(nonDigits(x));
    }

    /**
     * The top bit of each byte of {@code x} that is not an ASCII digit set, exactly up to the first byte of 0xFA or
     * more; 0 when every byte is a digit.
     */
    static long nonDigits(long x) {
        // A byte is a digit when its high nibble is 3 and stays 3 with 6 added; v has a zero byte exactly there
        // (a carry out of a byte of 0xFA or more only reaches the bytes after it).
        long v = ((x & 0xF0F0_F0F0_F0F0_F0F0L) ^ 0x3030_3030_3030_3030L)
                | (((x + 0x0606_0606_0606_0606L) & 0xF0F0_F0F0_F0F0_F0F0L) ^ 0x3030_3030_3030_3030L);
        return (((v & 0x7F7F_7F7F_7F7F_7F7FL) + 0x7F7F_7F7F_7F7F_7F7FL) | v) & Words.HIGHS;
    }

    /** The value of the first {@code n} (1 to 8) bytes of {@code x}, ASCII digits, the first the most significant. */
    static long digitsValue(long x, int n) {
        // Shifted so that the n digits end the word, after 8 - n zeros; then pairs, quads and the eight combine.
        long d = (x - 0x3030_3030_3030_3030L) << (8 * (8 - n));
        d = d * 10 + (d >>> 8);
        return ((d & 0x0000_00FF_0000_00FFL) * (100 + (1_000_000L << 32))
                + ((d >>> 16) & 0x0000_00FF_0000_00FFL) * (1 + (10_000L << 32))) >>> 32;
    }

    private static int skipSpace(byte[] b, int i, int to) {
        while (i < to && (b[i] == ' ' || b[i] == '\t')) {
            i++;
        }
        return i;
    }
}
