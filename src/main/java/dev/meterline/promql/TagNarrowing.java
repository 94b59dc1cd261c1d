package dev.meterline.promql;

import dev.meterline.model.PrometheusNames;
import dev.meterline.store.TagValues;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The tag values a selector's matchers imply a series has, so that reads find its series by them: each equality
 * matcher with a value ({@code label="v"}) and each {@code =~} whose expression is literals joined by {@code |},
 * optionally in one group.
 *
 * <p>A label is a tag key's sanitised name, with {@code tag_} before a name the view reserves and {@code _2},
 * {@code _3} after names that clash (see {@link PrometheusNames#labels}), so a label does not always name one key. A
 * label without {@code _} that is its own sanitised name and not reserved comes from the key of its own name only:
 * sanitising, the prefix and the suffixes each add a {@code _}. Its values are named under that key. Any other label
 * of a tag names its values under any key: the series has one of them as some tag's value. Reserved labels
 * ({@code __name__}, {@code le}, {@code quantile}, {@value PrometheusNames#METRIC_LABEL}) are never a tag's and name
 * nothing; nor do matchers that an empty value passes, which match series without the label.
 */
final class TagNarrowing {

    /** Characters with a meaning in a regular expression; an alternative without any is the literal it spells. */
    private static final String META = "\\.+*?()[]{}^$|";

    private TagNarrowing() {
    }

    /** The values {@code matchers} imply, {@link TagValues#NONE} when none does. */
    static TagValues of(List<Expr.Matcher> matchers) {
        Map<String, List<String>> byKey = new LinkedHashMap<>();
        List<List<String>> anyKey = new ArrayList<>();
        for (Expr.Matcher m : matchers) {
            List<String> values = values(m);
            if (values == null || PrometheusNames.reserved(m.name())) {
                continue;
            }
            if (ownKey(m.name())) {
                byKey.merge(m.name(), values, TagNarrowing::both);
            } else {
                anyKey.add(values);
            }
        }
        return byKey.isEmpty() && anyKey.isEmpty() ? TagValues.NONE : new TagValues(byKey, anyKey);
    }

    /**
     * True when {@code named}, the values {@code matchers} name, decide which series pass them: every matcher on a
     * series' labels names values of a label of its own key, and no two of one label leave no value between them. A
     * read then needs no test of its own beyond the values, so a query asked again may be answered from the open
     * windows the shards publish for such reads.
     */
    static boolean decides(List<Expr.Matcher> matchers, TagValues named) {
        for (Expr.Matcher m : matchers) {
            String name = m.name();
            if (name.equals(View.NAME) || name.equals(View.LE) || name.equals(PrometheusNames.QUANTILE_LABEL)) {
                continue;
            }
            if (values(m) == null || !ownKey(name)) {
                return false;
            }
        }
        for (List<String> values : named.byKey().values()) {
            if (values.isEmpty()) {
                return false;
            }
        }
        return true;
    }

    /** True when only the tag key {@code label} gives the label {@code label}. */
    static boolean ownKey(String label) {
        return label.indexOf('_') < 0 && PrometheusNames.labelName(label).equals(label)
                && !PrometheusNames.reserved(label);
    }

    /** The values a label must have one of to pass {@code m}, or null when a series without the label passes too. */
    static List<String> values(Expr.Matcher m) {
        return switch (m.op()) {
            case EQ -> m.value().isEmpty() ? null : List.of(m.value());
            case RE -> literals(m.value());
            case NE, NRE -> null;
        };
    }

    /**
     * The literals {@code re} is an alternation of, or null when it is anything else or matches "". An alternative is
     * plain characters and escaped punctuation ({@code web\.1} is {@code web.1}); the whole alternation may be one
     * group, {@code (a|b)} or {@code (?:a|b)}, as Grafana writes a multi-value variable. Prometheus anchors the
     * expression at both ends, so these match exactly their literals.
     */
    static List<String> literals(String re) {
        String body = re;
        if (body.startsWith("(?:") && body.endsWith(")")) {
            body = body.substring(3, body.length() - 1);
        } else if (body.startsWith("(") && body.endsWith(")")) {
            body = body.substring(1, body.length() - 1);
        }
        List<String> out = new ArrayList<>();
        StringBuilder literal = new StringBuilder();
        for (int i = 0; i <= body.length(); i++) {
            char c = i < body.length() ? body.charAt(i) : '|';
            if (c == '\\') {
                if (++i == body.length() || !escapedLiteral(body.charAt(i))) {
                    return null;
                }
                literal.append(body.charAt(i));
            } else if (c == '|') {
                if (literal.length() == 0) {
                    return null;
                }
                out.add(literal.toString());
                literal.setLength(0);
            } else if (META.indexOf(c) >= 0) {
                return null;
            } else {
                literal.append(c);
            }
        }
        return out;
    }

    /**
     * True when a backslash before {@code c} makes it the character itself: ASCII punctuation, in RE2 as in Java. A
     * letter or digit after a backslash is a class, an anchor or a reference instead.
     */
    private static boolean escapedLiteral(char c) {
        return c < 128 && !Character.isLetterOrDigit(c) && c > ' ';
    }

    /** The values in both lists: a label with two matchers has a value that passes both. */
    private static List<String> both(List<String> a, List<String> b) {
        List<String> out = new ArrayList<>(a);
        out.retainAll(b);
        return out;
    }
}
