package dev.meterline.promql;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.List;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The PromQL parser: a table of expressions and their trees, of syntax errors with positions, and of features outside the subset. */
class ParserTest {

    /** A fully parenthesized form of a tree, so a table can state precedence and structure in one string. */
    static String show(Expr e) {
        if (e instanceof Expr.NumberLiteral n) {
            return PromTime.value(n.value());
        } else if (e instanceof Expr.StringLiteral s) {
            return "\"" + s.value() + "\"";
        } else if (e instanceof Expr.VectorSelector v) {
            String m = v.matchers().stream().map(Expr.Matcher::toString).collect(Collectors.joining(","));
            return "{" + m + "}" + (v.offsetMs() != 0 ? " offset " + v.offsetMs() + "ms" : "");
        } else if (e instanceof Expr.MatrixSelector m) {
            return show(m.selector()) + "[" + m.rangeMs() + "ms]";
        } else if (e instanceof Expr.Negation n) {
            return "-(" + show(n.expr()) + ")";
        } else if (e instanceof Expr.Binary b) {
            String mod = (b.returnBool() ? " bool" : "") + (b.matching() == null ? ""
                    : (b.matching().on() ? " on" : " ignoring") + b.matching().labels());
            return "(" + show(b.lhs()) + " " + b.op().text + mod + " " + show(b.rhs()) + ")";
        } else if (e instanceof Expr.Aggregation a) {
            return a.op().name().toLowerCase() + (a.grouping().isEmpty() && !a.without() ? ""
                    : (a.without() ? " without" : " by") + a.grouping()) + "("
                    + (a.param() == null ? "" : show(a.param()) + ", ") + show(a.expr()) + ")";
        } else if (e instanceof Expr.Call c) {
            return c.function().promName() + "(" + c.args().stream().map(ParserTest::show)
                    .collect(Collectors.joining(", ")) + ")";
        }
        throw new IllegalArgumentException(String.valueOf(e));
    }

    private static Expr parse(String q) {
        return Parser.parse(q, 1024);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', quoteCharacter = '~', value = {
            "1+1                                   | (1 + 1)",
            "1 + 2 * 3                             | (1 + (2 * 3))",
            "(1 + 2) * 3                           | ((1 + 2) * 3)",
            "2 ^ 3 ^ 2                             | (2 ^ (3 ^ 2))",
            "-2 ^ 2                                | -((2 ^ 2))",
            "2 ^ -1                                | (2 ^ -1)",
            "1 - 2 - 3                             | ((1 - 2) - 3)",
            "10 % 3 / 2                            | ((10 % 3) / 2)",
            "1 == bool 1                           | (1 == bool 1)",
            "0x1F + 1e3 + .5 + Inf                 | (((31 + 1000) + 0.5) + +Inf)",
            "NaN                                   | NaN",
            "cpu_usage_count                       | {__name__=\"cpu_usage_count\"}",
            "cpu:usage_count                       | {__name__=\"cpu:usage_count\"}",
            "{__name__=~\"cpu_.+\"}                | {__name__=~\"cpu_.+\"}",
            "a{host=\"x\", region!=\"eu\",}        | {__name__=\"a\",host=\"x\",region!=\"eu\"}",
            "a{host=~'x.y', dc!~`z.*`}             | {__name__=\"a\",host=~\"x.y\",dc!~\"z.*\"}",
            "a offset 5m                           | {__name__=\"a\"} offset 300000ms",
            "a offset -1h30m                       | {__name__=\"a\"} offset -5400000ms",
            "rate(a_count[5m])                     | rate({__name__=\"a_count\"}[300000ms])",
            "increase(a_sum[1h] offset 1d)         | increase({__name__=\"a_sum\"} offset 86400000ms[3600000ms])",
            "sum_over_time(a_count[90s])           | sum_over_time({__name__=\"a_count\"}[90000ms])",
            "sum by (region) (a_count)             | sum by[region]({__name__=\"a_count\"})",
            "sum(a_count) by (region, host)        | sum by[region, host]({__name__=\"a_count\"})",
            "avg without (host) (a_mean)           | avg without[host]({__name__=\"a_mean\"})",
            "topk(3, a_max)                        | topk(3, {__name__=\"a_max\"})",
            "bottomk by (r) (2, a_max)             | bottomk by[r](2, {__name__=\"a_max\"})",
            "count(a_count > 5)                    | count(({__name__=\"a_count\"} > 5))",
            "a_sum / a_count                       | ({__name__=\"a_sum\"} / {__name__=\"a_count\"})",
            "a_sum / on(host) a_count              | ({__name__=\"a_sum\"} / on[host] {__name__=\"a_count\"})",
            "a_sum / ignoring(q) a_count           | ({__name__=\"a_sum\"} / ignoring[q] {__name__=\"a_count\"})",
            "a > bool 3                            | ({__name__=\"a\"} > bool 3)",
            "a and b or c unless d                 | (({__name__=\"a\"} and {__name__=\"b\"}) or ({__name__=\"c\"} unless {__name__=\"d\"}))",
            "a + b > c * 2                         | (({__name__=\"a\"} + {__name__=\"b\"}) > ({__name__=\"c\"} * 2))",
            "histogram_quantile(0.99, sum by (le, region) (rate(a_bucket[5m]))) | histogram_quantile(0.99, sum by[le, region](rate({__name__=\"a_bucket\"}[300000ms])))",
            "sum(a) # a comment                    | sum({__name__=\"a\"})",
            "by{on=\"x\"}                          | {__name__=\"by\",on=\"x\"}",
            "-a_count                              | -({__name__=\"a_count\"})",
    })
    void parses(String query, String tree) {
        assertEquals(tree, show(parse(query)));
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', quoteCharacter = '~', value = {
            "1 +                                   | 1:4: parse error: unexpected end of input",
            "sum(a                                 | 1:6: parse error: unexpected end of input in aggregation, expected \")\"",
            "a{host=\"x\"                          | 1:11: parse error: unexpected end of input in label matching, expected \",\" or \"}\"",
            "a{host=x}                             | 1:8: parse error: unexpected identifier \"x\" in label matching, expected string",
            "a{host==\"x\"}                        | 1:7: parse error: unexpected \"==\" in label matching, expected one of \"=\", \"!=\", \"=~\", \"!~\"",
            "{}                                    | 1:1: parse error: vector selector must contain at least one non-empty matcher",
            "{host=~\".*\"}                        | 1:1: parse error: vector selector must contain at least one non-empty matcher",
            "a{__name__=\"b\"}                     | 1:3: parse error: metric name must not be set twice: \"a\" or \"b\"",
            "rate(a_count)                         | 1:1: parse error: expected type range vector in call to function \"rate\", got instant vector",
            "rate(a_count[5m], 1)                  | 1:1: parse error: expected 1 argument(s) in call to \"rate\", got 2",
            "sum(a_count[5m])                      | 1:1: parse error: expected type instant vector in aggregation expression, got range vector",
            "nosuchfn(a)                           | 1:1: parse error: unknown function with name \"nosuchfn\"",
            "1 > 2                                 | 1:3: parse error: comparisons between scalars must use BOOL modifier",
            "1 and 2                               | 1:3: parse error: set operator \"and\" not allowed in binary scalar expression",
            "a + bool b                            | 1:3: parse error: bool modifier can only be used on comparison operators",
            "1 + on(x) a                           | 1:3: parse error: vector matching only allowed between instant vectors",
            "a[5m] + 1                             | 1:7: parse error: binary expression must contain only scalar and instant vector types",
            "(a + b)[5m]                           | 1:8: parse error: ranges only allowed for vector selectors",
            "a[5x]                                 | 1:3: parse error: bad number or duration syntax: \"5x\"",
            "a{host=\"x}                           | 1:8: parse error: unterminated quoted string \"",
            "a{host=~\"(\"}                        | 1:9: parse error: invalid regular expression \"(\": Unclosed group",
            "a $ b                                 | 1:3: parse error: unexpected character: '$'",
            "''                                    | 1:4: parse error: no expression found in input",
            "1 +\\n  )                              | 2:3: parse error: unexpected \")\"",
            "sum by (a.b) (x)                      | 1:10: parse error: unexpected character: '.'",
            "a offset 5m offset 1m                 | 1:13: parse error: offset modifier must be preceded by an instant vector selector or range vector selector, once",
    })
    void rejectsWithPosition(String query, String message) {
        String q = query.equals("''") ? "   " : query.replace("\\n", "\n");
        ParseException e = assertThrows(ParseException.class, () -> parse(q));
        assertEquals(message, e.positioned());
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', quoteCharacter = '~', value = {
            "rate(a[5m:1m])                        | a subquery",
            "a @ 1609746000                        | the @ modifier",
            "a * on(x) group_left b                | many-to-one matching (group_left)",
            "quantile(0.9, a)                      | the aggregation quantile",
            "stddev by (x) (a)                     | the aggregation stddev",
            "abs(a)                                | the function abs",
            "irate(a[5m])                          | the function irate",
            "label_replace(a, 'x', 'y', 'z', 'w')  | the function label_replace",
            "a atan2 b                             | the binary operator atan2",
            "'text'                                | a string expression",
    })
    void namesUnsupportedFeatures(String query, String feature) {
        PromException e = assertThrows(PromException.class, () -> parse(query));
        assertEquals(PromException.Type.BAD_DATA, e.type());
        assertTrue(e.getMessage().startsWith(feature + " is not supported"), e.getMessage());
    }

    @Test
    void boundsRegularExpressionLength() {
        String re = "x".repeat(33);
        PromException e = assertThrows(PromException.class, () -> Parser.parse("a{h=~\"" + re + "\"}", 32));
        assertEquals(PromException.Type.BAD_DATA, e.type());
        assertEquals("the regular expression at 1:6 has 33 characters (expected: at most 32, "
                + "--prometheus-max-regex-length)", e.getMessage());
        assertEquals(List.of(), List.of());
        Parser.parse("a{h=~\"" + re.substring(1) + "\"}", 32);
    }

    @Test
    void regularExpressionsAreAnchored() {
        Expr.VectorSelector v = (Expr.VectorSelector) parse("a{h=~\"web|db\"}");
        Expr.Matcher m = v.matchers().get(1);
        assertTrue(m.matches("web"));
        assertTrue(m.matches("db"));
        assertTrue(!m.matches("webx") && !m.matches("xdb") && !m.matches(""));
        Expr.Matcher dot = ((Expr.VectorSelector) parse("a{h=~\"a.b\"}")).matchers().get(1);
        assertTrue(dot.matches("a\nb"), "'.' matches a newline, as in Prometheus's (?s) patterns");
    }

    @Test
    void re2SpellingsOfPosixClassesAndNamedGroups() {
        Expr.Matcher digits = ((Expr.VectorSelector) parse("a{h=~\"[[:digit:]]+\"}")).matchers().get(1);
        assertTrue(digits.matches("123"));
        assertTrue(!digits.matches("12a") && !digits.matches(":"));
        Expr.Matcher notSpace = ((Expr.VectorSelector) parse("a{h=~\"[[:^space:]x]+\"}")).matchers().get(1);
        assertTrue(notSpace.matches("ab") && !notSpace.matches("a b"));
        Expr.Matcher named = ((Expr.VectorSelector) parse("a{h=~\"(?P<x>web)-[[:xdigit:]]+\"}")).matchers().get(1);
        assertTrue(named.matches("web-0f") && !named.matches("web-0g"));
    }

    @Test
    void aBacktrackingRegexFailsTheQueryInsteadOfHoldingAThread() {
        Expr.Matcher m = ((Expr.VectorSelector) parse("a{h=~\"(.*x){12}y\"}")).matchers().get(1);
        assertTrue(!m.matches("xxxx"));
        PromException e = assertThrows(PromException.class, () -> m.matches("x".repeat(30)));
        assertEquals(PromException.Type.EXECUTION, e.type());
        assertTrue(e.getMessage().contains("steps"), e.getMessage());
        assertThrows(PromException.class, () -> m.matches("xxxx"), "once out of steps, at once after");
    }
}
