package dev.meterline.promql;

import dev.meterline.model.PrometheusNames;
import dev.meterline.model.SeriesKey;
import dev.meterline.store.TagValues;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The tag values a selector's matchers name: what reads find series by, which must never lose a series. */
class TagNarrowingTest {

    private static List<Expr.Matcher> matchers(String selector) {
        return ((Expr.VectorSelector) Parser.parse(selector, 1_000)).matchers();
    }

    private static TagValues of(String selector) {
        return TagNarrowing.of(matchers(selector));
    }

    @Test
    void aLabelOfItsOwnKeyNamesItsValuesUnderThatKey() {
        assertEquals(new TagValues(Map.of("host", List.of("web-1")), List.of()), of("cpu_sum{host=\"web-1\"}"));
        assertEquals(new TagValues(Map.of("host", List.of("a", "b")), List.of()), of("cpu_sum{host=~\"a|b\"}"));
        assertEquals(new TagValues(Map.of("host", List.of("b")), List.of()),
                of("cpu_sum{host=~\"a|b\", host=\"b\"}"), "two matchers of one label: the values both pass");
        assertEquals(new TagValues(Map.of("host", List.of("a"), "dc", List.of("eu")), List.of()),
                of("{__name__=\"cpu_sum\", host=\"a\", dc=\"eu\", le=\"+Inf\"}"));
    }

    @Test
    void aLabelThatOtherKeysMayGiveNamesItsValuesUnderAnyKey() {
        assertEquals(new TagValues(Map.of(), List.of(List.of("x"))), of("cpu_sum{host_name=\"x\"}"));
        assertEquals(new TagValues(Map.of(), List.of(List.of("x"))), of("cpu_sum{tag_le=\"x\"}"));
        assertEquals(new TagValues(Map.of(), List.of(List.of("x", "y"))), of("cpu_sum{host_name_2=~\"x|y\"}"));
        assertEquals(new TagValues(Map.of("dc", List.of("eu")), List.of(List.of("x"))),
                of("cpu_sum{host_name=\"x\", dc=\"eu\"}"));
    }

    @Test
    void anAlternationInOneGroupOrWithEscapedPunctuationNamesItsLiterals() {
        assertEquals(new TagValues(Map.of("host", List.of("a", "b")), List.of()), of("cpu_sum{host=~\"(a|b)\"}"));
        assertEquals(new TagValues(Map.of("host", List.of("a", "b")), List.of()), of("cpu_sum{host=~\"(?:a|b)\"}"));
        assertEquals(new TagValues(Map.of("host", List.of("web.1")), List.of()), of("cpu_sum{host=~\"web\\\\.1\"}"));
        assertEquals(new TagValues(Map.of("host", List.of("web.1", "web-2", "a|b")), List.of()),
                of("cpu_sum{host=~\"(web\\\\.1|web\\\\-2|a\\\\|b)\"}"));
        assertEquals(new TagValues(Map.of("host", List.of("a)")), List.of()), of("cpu_sum{host=~\"a\\\\)\"}"));
    }

    /**
     * Values escaped and grouped as Grafana writes a multi-value variable name exactly the series the compiled
     * expression matches: each value, and none of its near misses.
     */
    @Test
    void escapedLiteralsNameWhatTheExpressionMatches() {
        SplittableRandom random = new SplittableRandom(11);
        String chars = "ab-_.:/()[]{}|*+?^$\\ é1";
        for (int t = 0; t < 2_000; t++) {
            List<String> values = new ArrayList<>();
            int n = 1 + random.nextInt(4);
            for (int i = 0; i < n; i++) {
                StringBuilder v = new StringBuilder();
                int len = 1 + random.nextInt(6);
                for (int j = 0; j < len; j++) {
                    v.append(chars.charAt(random.nextInt(chars.length())));
                }
                values.add(v.toString());
            }
            StringBuilder re = new StringBuilder(random.nextBoolean() ? "(" : "(?:");
            for (int i = 0; i < values.size(); i++) {
                re.append(i == 0 ? "" : "|").append(escaped(values.get(i)));
            }
            re.append(')');
            String regex = re.toString();
            List<String> literals = TagNarrowing.literals(regex);
            assertEquals(values, literals, regex);
            Expr.Matcher compiled = matchers("m{host=~\"" + regex.replace("\\", "\\\\") + "\"}").get(1);
            for (String v : values) {
                assertTrue(compiled.matches(v), v + " by " + regex);
                for (String miss : List.of(v + "x", "x" + v, v.substring(1))) {
                    assertEquals(literals.contains(miss), compiled.matches(miss), miss + " by " + regex);
                }
            }
        }
    }

    /** Every character but letters, digits, spaces and non-ASCII ones behind a backslash. */
    private static String escaped(String value) {
        StringBuilder out = new StringBuilder();
        for (char c : value.toCharArray()) {
            if (c < 128 && c != ' ' && !Character.isLetterOrDigit(c)) {
                out.append('\\');
            }
            out.append(c);
        }
        return out.toString();
    }

    @Test
    void matchersThatPassSeriesWithoutTheLabelOrNoTagNameNothing() {
        for (String s : List.of("cpu_sum", "cpu_sum{host=\"\"}", "cpu_sum{host!=\"a\"}", "cpu_sum{host!~\"a|b\"}",
                "cpu_sum{host=~\"a|\"}", "cpu_sum{host=~\"|a\"}", "cpu_sum{host=~\"a||b\"}", "cpu_sum{host=~\"a.b\"}",
                "cpu_sum{host=~\"a+\"}", "cpu_sum{host=~\"[ab]\"}", "cpu_sum{host=~\"(a|)\"}", "cpu_sum{host=~\"()\"}",
                "cpu_sum{host=~\"(a)|(b)\"}", "cpu_sum{host=~\"((a|b))\"}", "cpu_sum{host=~\"(a|b)c\"}",
                "cpu_sum{host=~\"a\\\\d\"}", "cpu_sum{host=~\"(?i)a\"}",
                "cpu_sum{host=~\"a?\"}", "cpu_sum{host=~\"a*\"}", "cpu_sum{host=~\"^a$\"}", "cpu_sum{host=~\"a{2}\"}",
                "cpu{quantile=\"0.5\"}", "cpu_bucket{le=\"+Inf\"}", "cpu_sum{meterline_metric=\"cpu\"}",
                "{__name__=~\"cpu_sum|mem_sum\"}", "cpu_sum{__meta=\"x\"}")) {
            assertEquals(TagValues.NONE, of(s), s);
        }
    }

    @Test
    void valuesUnderTheirOwnKeysDecideOnlyWhenEveryLabelMatcherNamesThem() {
        for (String s : List.of("cpu_sum{host=\"a\"}", "cpu_sum{host=~\"a|b\", dc=\"eu\"}",
                "{__name__=~\"cpu_.*\", host=\"a\"}", "cpu{quantile=\"0.5\", host=\"a\"}",
                "cpu_bucket{le=\"+Inf\", host=\"a\"}", "cpu_sum")) {
            assertTrue(TagNarrowing.decides(matchers(s), of(s)), s);
        }
        for (String s : List.of("cpu_sum{host_name=\"a\"}", "cpu_sum{host=\"a\", dc=\"\"}",
                "cpu_sum{host=\"a\", dc!=\"eu\"}", "cpu_sum{host=~\"a.*\"}", "cpu_sum{meterline_metric=\"cpu\"}",
                "cpu_sum{tag_le=\"a\"}", "cpu_sum{host=\"a\", host=\"b\"}")) {
            assertFalse(TagNarrowing.decides(matchers(s), of(s)), s);
        }
    }

    @Test
    void onlyALabelOfOneWordNamesItsOwnKey() {
        assertTrue(TagNarrowing.ownKey("host"));
        assertTrue(TagNarrowing.ownKey("Host9"));
        for (String label : List.of("host_name", "_host", "tag_le", "le", "quantile", "__name__", "9host", "a:b")) {
            assertFalse(TagNarrowing.ownKey(label), label);
        }
    }

    /**
     * Every label of every series, with its value, named by {@code =} and by {@code =~} among other literals, admits
     * the series; random keys from characters that sanitise into one another ({@code .}, {@code -}, {@code _}, a
     * digit first) and names the view reserves.
     */
    @Test
    void everySeriesHasTheValuesItsOwnLabelsName() {
        SplittableRandom random = new SplittableRandom(7);
        String[] parts = {"host", "name", "le", "quantile", "_", ".", "-", "1", "tag", "__", "meterline", "metric",
                "é"};
        String[] values = {"a", "b", "web-1", "x|y", "é", "1"};
        int checked = 0;
        for (int t = 0; t < 3_000; t++) {
            Map<String, String> tags = new LinkedHashMap<>();
            int n = 1 + random.nextInt(5);
            for (int i = 0; i < n; i++) {
                StringBuilder key = new StringBuilder();
                int k = 1 + random.nextInt(3);
                for (int j = 0; j < k; j++) {
                    key.append(parts[random.nextInt(parts.length)]);
                }
                tags.put(key.toString(), values[random.nextInt(values.length)]);
            }
            SeriesKey series = SeriesKey.of("m", tags);
            for (Map.Entry<String, String> label : PrometheusNames.labels(series, random.nextBoolean()).entrySet()) {
                String v = label.getValue();
                List<Expr.Matcher> eq = List.of(new Expr.Matcher(label.getKey(), Expr.MatchOp.EQ, v, null));
                assertTrue(TagNarrowing.of(eq).admits(series), label + " of " + series);
                if (!v.contains("|")) {
                    String re = "zz|" + v + "|b";
                    List<Expr.Matcher> alt = List.of(new Expr.Matcher(label.getKey(), Expr.MatchOp.RE, re,
                            java.util.regex.Pattern.compile("(?:" + re + ")")));
                    assertTrue(TagNarrowing.of(alt).admits(series), label + " =~ " + re + " of " + series);
                }
                List<Expr.Matcher> other = List.of(new Expr.Matcher(label.getKey(), Expr.MatchOp.EQ, v + "!", null));
                if (TagNarrowing.ownKey(label.getKey())) {
                    assertFalse(TagNarrowing.of(other).admits(series), "another value of " + label + " of " + series);
                    checked++;
                }
            }
        }
        assertTrue(checked > 100, "labels of their own key checked: " + checked);
    }

    /** The names of the test above collide as intended: some keys give one label, told apart by suffixes. */
    @Test
    void keysThatSanitiseAlikeGiveSuffixedLabels() {
        SeriesKey k = SeriesKey.of("m", Map.of("host.name", "a", "host_name", "b", "le", "c", "host", "d"));
        Map<String, String> labels = new LinkedHashMap<>(PrometheusNames.labels(k, false));
        assertEquals(Map.of("host_name", "a", "host_name_2", "b", "tag_le", "c", "host", "d"), labels);
        List<String> admitted = new ArrayList<>();
        for (String label : labels.keySet()) {
            if (TagNarrowing.of(matchers("m_sum{" + label + "=\"" + labels.get(label) + "\"}")).admits(k)) {
                admitted.add(label);
            }
        }
        assertEquals(List.copyOf(labels.keySet()), admitted);
    }
}
