package dev.meterline.ingest;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The plain reader's word-at-a-time steps give what a byte-at-a-time reading gives, and the numbers it takes are
 * the doubles {@link Double#parseDouble} gives, bit for bit.
 */
class PlainLineTest {

    private final PlainLine plain = new PlainLine(8);

    @Test
    void stopsFindsTheFirstByteThatEndsAPlainString() {
        SplittableRandom rnd = new SplittableRandom(0x57095);
        byte[] interesting = {'"', '\\', 0x1F, 0x20, 0x21, 0x7E, 0x7F, (byte) 0x80, (byte) 0xFF, 0, 'a', '\n', '#'};
        for (int t = 0; t < 200_000; t++) {
            byte[] b = new byte[8];
            for (int k = 0; k < 8; k++) {
                b[k] = rnd.nextInt(3) == 0 ? interesting[rnd.nextInt(interesting.length)] : (byte) rnd.nextInt(256);
            }
            long x = word(b);
            int expected = 8;
            for (int k = 0; k < 8; k++) {
                int c = b[k] & 0xFF;
                if (c == '"' || c == '\\' || c < 0x20 || c > 0x7E) {
                    expected = k;
                    break;
                }
            }
            assertEquals(expected, Long.numberOfTrailingZeros(PlainLine.stops(x)) >>> 3, hex(b));
        }
    }

    @Test
    void leadingDigitsCountsWhatAByteLoopCounts() {
        SplittableRandom rnd = new SplittableRandom(0xd161);
        byte[] near = {'/', '0', '5', '9', ':', '.', 'e', '-', '+', 0, (byte) 0xF9, (byte) 0xFA, (byte) 0xFF,
            (byte) 0xB0, (byte) 0xB9, 0x2A};
        for (int t = 0; t < 200_000; t++) {
            byte[] b = new byte[8];
            for (int k = 0; k < 8; k++) {
                b[k] = switch (rnd.nextInt(4)) {
                    case 0 -> near[rnd.nextInt(near.length)];
                    case 1 -> (byte) rnd.nextInt(256);
                    default -> (byte) ('0' + rnd.nextInt(10));
                };
            }
            int expected = 0;
            while (expected < 8 && b[expected] >= '0' && b[expected] <= '9') {
                expected++;
            }
            assertEquals(expected, PlainLine.leadingDigits(word(b)), hex(b));
            if (expected > 0) {
                String digits = new String(b, 0, expected, StandardCharsets.ISO_8859_1);
                assertEquals(Long.parseLong(digits), PlainLine.digitsValue(word(b), expected), hex(b));
            }
        }
    }

    /**
     * Random decimals of every length, with and without fractions and exponents, at every alignment in the line and
     * with the line ending right after the number: what is read is Double.parseDouble's double, and every decimal of
     * at most 24 characters without leading zeros is read (not left to Jackson).
     */
    @Test
    void valuesAreExactlyWhatParseDoubleGives() {
        SplittableRandom rnd = new SplittableRandom(0xc11);
        int read = 0;
        for (int t = 0; t < 300_000; t++) {
            String n = randomNumber(rnd);
            String pad = " ".repeat(rnd.nextInt(8));
            String line = rnd.nextBoolean()
                    ? "{\"metric\":\"m\",\"value\":" + pad + n + "}"
                    : "{\"metric\":\"m\",\"timestamp\":1,\"value\":" + pad + n + ",\"tags\":{\"a\":\"b\"}}";
            byte[] b = line.getBytes(StandardCharsets.ISO_8859_1);
            boolean ok = plain.read(b, 0, b.length);
            double expected = Double.parseDouble(n);
            if (ok) {
                read++;
                if (n.matches("-?\\d+")) {
                    // an integer literal converts as a long does
                    expected = (double) Long.parseLong(n);
                }
                assertEquals(Double.doubleToRawLongBits(expected), Double.doubleToRawLongBits(plain.value), n);
            } else {
                boolean plainShape = n.matches("-?(0|[1-9]\\d{0,17})(\\.\\d+)?([eE][-+]?\\d{1,4})?")
                        && n.length() <= PlainLine.MAX_NUMBER_CHARS && Double.isFinite(expected);
                assertFalse(plainShape, "not read: " + n);
            }
        }
        assertTrue(read > 200_000, "read " + read);
    }

    @Test
    void edgeCaseValues() {
        List<String> numbers = new ArrayList<>(List.of(
                "0", "0.0", "1", "0.1", "0.2", "0.3", "9007199254740991", "9007199254740992",
                "9007199254740993", "900719925474099.3", "9007199254740.993", "0.9007199254740993", "1e22", "1e-22",
                "1.0e22", "123456789012345678", "12345678.12345678", "1234567890123456.7", "0.000000000000000000001",
                "0.0000000000000000000001", "0.00000000000000000000001", "4.9e-324", "2.2250738585072014E-308",
                "1.7976931348623157e308", "99999999999999999", "999999999999999999", "0.1e1", "17.5e-3", "1e0",
                "12345678", "123456789", "1234567", "12345678.9", "1.23456789", "55.00000000", "3.14159265358979"));
        for (int digits = 1; digits <= 18; digits++) {
            numbers.add("9".repeat(digits));
            numbers.add("1" + "0".repeat(digits - 1));
            numbers.add("0." + "9".repeat(digits));
            numbers.add("0." + "0".repeat(digits - 1) + "1");
        }
        for (String n : numbers) {
            for (String sign : new String[] {"", "-"}) {
                String s = sign + n;
                byte[] b = ("{\"metric\":\"m\",\"value\":" + s + "}").getBytes(StandardCharsets.ISO_8859_1);
                if (s.length() > PlainLine.MAX_NUMBER_CHARS) {
                    assertFalse(plain.read(b, 0, b.length), "longer than the limit: " + s);
                    continue;
                }
                assertTrue(plain.read(b, 0, b.length), s);
                double expected = s.matches("-?\\d+") ? (double) Long.parseLong(s) : Double.parseDouble(s);
                assertEquals(Double.doubleToRawLongBits(expected), Double.doubleToRawLongBits(plain.value), s);
            }
        }
    }

    /**
     * Values in the compact form with enough of the line after them for the one-word-per-part reading: integers and
     * both parts of decimals of 1 to 19 digits, signs, leading zeros, exponents, a point without digits and the
     * bytes that may follow; each reads as the byte-by-byte rules and Double.parseDouble say, bit for bit.
     */
    @Test
    void compactValuesOfEveryDigitCountReadExactly() {
        List<String> numbers = new ArrayList<>();
        String counting = "1234567890123456789";
        String ending = "9876543210987654321";
        for (int d = 1; d <= 19; d++) {
            String part = counting.substring(0, d);
            numbers.addAll(List.of(part, "9".repeat(d), "0" + part, "0".repeat(d), part + ".", part + "e3",
                    part + "E-2", part + ".5e1", "0." + "0".repeat(d - 1) + "7"));
            for (int f = 1; f <= 19; f++) {
                String fraction = ending.substring(0, f);
                numbers.addAll(List.of(part + "." + fraction, "0." + fraction, part + "." + "0".repeat(f),
                        "0" + part + "." + fraction, part + "." + fraction + "e1", part + "." + fraction + "E+0"));
            }
        }
        numbers.addAll(List.of("0", "-0", "0.0", "5.", ".5", "1..2", "1.-2", "1.e2", "0x10", "1_000"));
        String[] tails = {
            ",\"timestamp\":1796034088114,\"tags\":{\"host\":\"web-1\",\"region\":\"eu\"}}",
            ",\"tags\":{\"host\":\"web-1\"}}                ",
            "}                         ",
            "x}                        ",
            " }                        ",
            "\u00fa}                       ",
            "\u00ff5}                      ",
            "\u00299}                      ",
        };
        int read = 0;
        for (String n : numbers) {
            for (String sign : new String[] {"", "-", "+"}) {
                String s = sign + n;
                for (String tail : tails) {
                    byte[] b = ("{\"metric\":\"app.metric000\",\"value\":" + s + tail)
                            .getBytes(StandardCharsets.ISO_8859_1);
                    boolean shape = s.matches("-?(0|[1-9]\\d{0,17})(\\.\\d+)?([eE][-+]?\\d{1,4})?")
                            && s.length() <= PlainLine.MAX_NUMBER_CHARS && (tail.charAt(0) == ',' || tail.charAt(0) == '}'
                            || tail.charAt(0) == ' ');
                    double expected = Double.NaN;
                    if (shape) {
                        expected = s.matches("-?\\d+") ? (double) Long.parseLong(s) : Double.parseDouble(s);
                    }
                    String line = new String(b, StandardCharsets.ISO_8859_1);
                    assertEquals(shape, plain.read(b, 0, b.length), line);
                    if (shape) {
                        read++;
                        assertEquals(Double.doubleToRawLongBits(expected), Double.doubleToRawLongBits(plain.value),
                                line);
                    }
                }
            }
        }
        assertTrue(read > 5_000, "read " + read);
    }

    @Test
    void timestampsAreExactIntegers() {
        SplittableRandom rnd = new SplittableRandom(0x7157);
        for (int t = 0; t < 100_000; t++) {
            long ts = rnd.nextLong(-999_999_999_999_999_999L, 1_000_000_000_000_000_000L) / (1L << rnd.nextInt(60));
            String line = "{\"metric\":\"m\",\"value\":1,\"timestamp\":" + " ".repeat(rnd.nextInt(8)) + ts
                    + (rnd.nextBoolean() ? "}" : ",\"tags\":{\"a\":\"b\"}}");
            byte[] b = line.getBytes(StandardCharsets.ISO_8859_1);
            assertTrue(plain.read(b, 0, b.length), line);
            assertTrue(plain.hasTimestamp);
            assertEquals(ts, plain.timestamp, line);
        }
        byte[] nineteen = "{\"metric\":\"m\",\"value\":1,\"timestamp\":1000000000000000000}"
                .getBytes(StandardCharsets.ISO_8859_1);
        assertFalse(plain.read(nineteen, 0, nineteen.length), "19 digits are left to Jackson");
    }

    /**
     * Random strings at random alignments read plain exactly when a byte loop says they are plain, and the names
     * and values found are their bytes.
     */
    @Test
    void stringsArePlainExactlyWhenEveryByteIs() {
        SplittableRandom rnd = new SplittableRandom(0x5791);
        int taken = 0;
        for (int t = 0; t < 100_000; t++) {
            String metric = randomString(rnd);
            String value = randomString(rnd);
            String line = " ".repeat(rnd.nextInt(8)) + "{\"metric\":\"" + metric + "\",\"value\":1,\"tags\":{\"k\":\""
                    + value + "\"}}";
            byte[] b = line.getBytes(StandardCharsets.UTF_8);
            boolean expected = isPlain(metric) && isPlain(value);
            assertEquals(expected, plain.read(b, 0, b.length), line);
            if (expected) {
                taken++;
                assertEquals(metric, new String(b, plain.metricFrom, plain.metricTo - plain.metricFrom,
                        StandardCharsets.ISO_8859_1));
                assertEquals(value, new String(b, plain.tags[2], plain.tags[3] - plain.tags[2],
                        StandardCharsets.ISO_8859_1));
            }
        }
        assertTrue(taken > 30_000, "taken " + taken);
    }

    @Test
    void fieldNamesMatchOnlyWholeNames() {
        String[] lines = {
            "{\"metric\":\"m\",\"value\":1}",
            "{\"metricx\":\"m\",\"value\":1}",
            "{\"metri\":\"m\",\"value\":1}",
            "{\"metric\":\"m\",\"values\":1}",
            "{\"metric\":\"m\",\"valu\":1}",
            "{\"metric\":\"m\",\"value\":1,\"timestamp\":5}",
            "{\"metric\":\"m\",\"value\":1,\"timestamq\":5}",
            "{\"metric\":\"m\",\"value\":1,\"timestamps\":5}",
            "{\"metric\":\"m\",\"value\":1,\"tags\":{}}",
            "{\"metric\":\"m\",\"value\":1,\"tag\":{}}",
            "{\"metric\":\"m\",\"value\":1,\"tagsx\":{}}",
            "{\"value\":1,\"metric\":\"m\"}",
            "{\"value\":1,\"timestamp\":5,\"metric\":\"m\"}",
        };
        boolean[] plainShape = {true, false, false, false, false, true, false, false, true, false, false, true, true};
        for (int k = 0; k < lines.length; k++) {
            byte[] b = lines[k].getBytes(StandardCharsets.ISO_8859_1);
            assertEquals(plainShape[k], plain.read(b, 0, b.length), lines[k]);
            // and where the name's last bytes are the line's last, so fewer than eight bytes follow its start
            byte[] cut = lines[k].substring(0, lines[k].lastIndexOf('"') + 1).getBytes(StandardCharsets.ISO_8859_1);
            assertFalse(plain.read(cut, 0, cut.length), lines[k]);
        }
    }

    /**
     * Numbers of 1 to 20 digits in either part, with leading zeros, signs and exponents, followed by 0 to 20 more
     * bytes of the line: those read from two whole words, those that need more and those that end near the line's
     * end are all read as the byte-by-byte rules say.
     */
    @Test
    void numbersReadTheSameWhereverTheyEnd() {
        List<String> numbers = new ArrayList<>();
        for (int d = 1; d <= 20; d++) {
            String nines = "9".repeat(d);
            String counting = "1234567890123456789012".substring(0, d);
            numbers.addAll(List.of(nines, counting, "0" + counting, "1" + "0".repeat(d - 1), "0." + counting,
                    counting + ".5", counting + "." + counting, counting + "e2", counting + ".0E-3", counting + "e+1",
                    counting + ".", counting + "e", "0" + "0".repeat(d)));
        }
        numbers.addAll(List.of("-", "-0", "0", "+1", "--1", "1.2.3", "1e99999", "1x", "9223372036854775807",
                "-9223372036854775808", "18446744073709551616"));
        String[] tails = {"}", ",\"tags\":{\"a\":\"b\"}}", " }", "\t,\"tags\":{}}  "};
        for (String n : numbers) {
            for (String sign : new String[] {"", "-"}) {
                String s = sign + n;
                for (String tail : tails) {
                    for (int pad = 0; pad <= 20; pad += 2) {
                        String more = " ".repeat(pad) + tail;
                        checkValue(s, more);
                        checkTimestamp(s, more);
                    }
                }
            }
        }
    }

    private void checkValue(String s, String rest) {
        byte[] b = ("{\"metric\":\"m\",\"value\":" + s + rest).getBytes(StandardCharsets.ISO_8859_1);
        double expected = Double.NaN;
        boolean shape = s.matches("-?(0|[1-9]\\d{0,17})(\\.\\d+)?([eE][-+]?\\d{1,4})?")
                && s.length() <= PlainLine.MAX_NUMBER_CHARS;
        if (shape) {
            expected = s.matches("-?\\d+") ? (double) Long.parseLong(s) : Double.parseDouble(s);
            shape = Double.isFinite(expected);
        }
        assertEquals(shape, plain.read(b, 0, b.length), s + rest);
        if (shape) {
            assertEquals(Double.doubleToRawLongBits(expected), Double.doubleToRawLongBits(plain.value), s + rest);
        }
    }

    private void checkTimestamp(String s, String rest) {
        byte[] b = ("{\"metric\":\"m\",\"value\":1,\"timestamp\":" + s + rest).getBytes(StandardCharsets.ISO_8859_1);
        boolean shape = s.matches("-?(0|[1-9]\\d{0,17})");
        assertEquals(shape, plain.read(b, 0, b.length), s + rest);
        if (shape) {
            assertTrue(plain.hasTimestamp);
            assertEquals(Long.parseLong(s), plain.timestamp, s + rest);
        }
    }

    /** Spaces and tabs on either side of a colon, or none, give the same findings. */
    @Test
    void spacesAroundColonsChangeNothing() {
        String[] gaps = {"", " ", "\t", "  ", " \t "};
        String base = "{\"metric\"%s:%s\"cpu\",\"value\"%s:%s2.5,\"timestamp\"%s:%s1700000000123,"
                + "\"tags\"%s:%s{\"host\"%s:%s\"a\",\"dc\"%s:%s\"b\"}}";
        for (String before : gaps) {
            for (String after : gaps) {
                String line = String.format(base, before, after, before, after, before, after, before, after,
                        before, after, before, after);
                byte[] b = line.getBytes(StandardCharsets.ISO_8859_1);
                assertTrue(plain.read(b, 0, b.length), line);
                assertEquals("cpu", new String(b, plain.metricFrom, plain.metricTo - plain.metricFrom,
                        StandardCharsets.ISO_8859_1), line);
                assertEquals(2.5, plain.value, line);
                assertEquals(1700000000123L, plain.timestamp, line);
                assertEquals(2, plain.tagCount, line);
                assertEquals("b", new String(b, plain.tags[6], plain.tags[7] - plain.tags[6],
                        StandardCharsets.ISO_8859_1), line);
            }
        }
        for (String broken : new String[] {
            "{\"metric\"::\"m\",\"value\":1}", "{\"metric\":\"m\",\"value\":1,\"tags\":{\"a\"::\"b\"}}",
            "{\"metric\" \"m\",\"value\":1}", "{\"metric\":\"m\",\"value\":1,\"tags\":{\"a\" \"b\"}}",
            "{\"metric\":\n\"m\",\"value\":1}", "{\"metric\":\"m\",\"value\":1,\"tags\":{\"a\":1}}",
            "{\"metric\":", "{\"metric\":\"m\",\"value\":1,\"tags\":{\"a\":",
        }) {
            byte[] b = broken.getBytes(StandardCharsets.ISO_8859_1);
            assertFalse(plain.read(b, 0, b.length), broken);
        }
    }

    /** A field name that differs from a known one only in its last byte is another field. */
    @Test
    void aNameOffByItsLastByteIsAnotherField() {
        String[] lines = {
            "{\"metrid\":\"m\",\"value\":1,\"tags\":{\"a\":\"b\"}}",
            "{\"metric\":\"m\",\"valuf\":1,\"tags\":{\"a\":\"b\"}}",
            "{\"metric\":\"m\",\"value\":1,\"tagt\":{\"a\":\"b\"}}",
            "{\"metric\":\"m\",\"value\":1,\"timestamo\":1700000000123,\"tags\":{}}",
        };
        for (String line : lines) {
            byte[] b = line.getBytes(StandardCharsets.ISO_8859_1);
            assertFalse(plain.read(b, 0, b.length), line);
        }
    }

    private static String randomNumber(SplittableRandom rnd) {
        String sign = rnd.nextInt(4) == 0 ? "-" : "";
        return switch (rnd.nextInt(8)) {
            case 0 -> sign + Double.toString(Double.longBitsToDouble(rnd.nextLong()) % 1e20).replace("-", "");
            case 1 -> sign + rnd.nextLong(1L << 53 + 1);
            case 2 -> sign + digits(rnd, 1 + rnd.nextInt(19)) + "." + fraction(rnd, 1 + rnd.nextInt(23));
            case 3 -> sign + rnd.nextInt(1000) + "." + fraction(rnd, 1 + rnd.nextInt(4));
            case 4 -> sign + digits(rnd, 1 + rnd.nextInt(16)) + "." + fraction(rnd, 1 + rnd.nextInt(8))
                    + "e" + (rnd.nextInt(60) - 30);
            case 5 -> sign + "0." + "0".repeat(rnd.nextInt(20)) + digits(rnd, 1 + rnd.nextInt(8));
            case 6 -> sign + Double.toString(rnd.nextDouble() * Math.pow(10, rnd.nextInt(-25, 25)));
            default -> sign + digits(rnd, 1 + rnd.nextInt(18));
        };
    }

    /** Digits without a leading zero (a lone 0 aside). */
    private static String digits(SplittableRandom rnd, int n) {
        StringBuilder sb = new StringBuilder();
        sb.append(n == 1 ? (char) ('0' + rnd.nextInt(10)) : (char) ('1' + rnd.nextInt(9)));
        for (int k = 1; k < n; k++) {
            sb.append((char) ('0' + rnd.nextInt(10)));
        }
        return sb.toString();
    }

    private static String fraction(SplittableRandom rnd, int n) {
        StringBuilder sb = new StringBuilder();
        for (int k = 0; k < n; k++) {
            sb.append((char) ('0' + (rnd.nextInt(3) == 0 ? 0 : rnd.nextInt(10))));
        }
        return sb.toString();
    }

    private static String randomString(SplittableRandom rnd) {
        StringBuilder sb = new StringBuilder();
        int n = rnd.nextInt(24);
        for (int k = 0; k < n; k++) {
            int c = rnd.nextInt(40) == 0 ? rnd.nextInt(0x100) : 0x21 + rnd.nextInt(0x5E);
            sb.append(c == '"' ? 'q' : (char) c);
        }
        return sb.toString();
    }

    /** A string whose UTF-8 bytes are all printable ASCII other than a backslash (it holds no quote). */
    private static boolean isPlain(String s) {
        for (int k = 0; k < s.length(); k++) {
            char c = s.charAt(k);
            if (c < 0x20 || c > 0x7E || c == '\\') {
                return false;
            }
        }
        return true;
    }

    private static long word(byte[] b) {
        long w = 0;
        for (int k = 7; k >= 0; k--) {
            w = w << 8 | (b[k] & 0xFF);
        }
        return w;
    }

    private static String hex(byte[] b) {
        StringBuilder sb = new StringBuilder();
        for (byte x : b) {
            sb.append(String.format("%02x ", x & 0xFF));
        }
        return sb.toString();
    }
}
