package dev.meterline.promql;

import dev.meterline.promql.Expr.MatchOp;
import dev.meterline.promql.Expr.Matcher;
import dev.meterline.promql.Lexer.Kind;
import dev.meterline.promql.Lexer.Token;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/** Parses a vector selector's label matchers, compiling regular expressions written in RE2 syntax for Java. */
final class SelectorParser {

    private static final Pattern POSIX_CLASS = Pattern.compile("\\[:(\\^?)(alnum|alpha|ascii|blank|cntrl|digit|graph|"
            + "lower|print|punct|space|upper|word|xdigit):]");

    private SelectorParser() {
    }

    /**
     * Parses the {@code {…}} after metric {@code name} (null when the selector has none), at the cursor if present;
     * {@code start} is the selector's first token, for the error when no matcher is non-empty.
     */
    static Expr.VectorSelector selector(TokenCursor in, String name, Token start, int maxRegexLength) {
        List<Matcher> matchers = new ArrayList<>();
        if (name != null) {
            matchers.add(new Matcher("__name__", MatchOp.EQ, name, null));
        }
        if (in.peek().kind() == Kind.LBRACE) {
            in.take();
            while (in.peek().kind() != Kind.RBRACE) {
                Token label = in.peek();
                if (label.kind() != Kind.IDENT || label.text().contains(":")) {
                    throw in.error(label, "unexpected " + label.describe() + " in label matching, expected label");
                }
                in.take();
                Token opToken = in.take();
                MatchOp op = switch (opToken.kind()) {
                    case ASSIGN -> MatchOp.EQ;
                    case NEQ -> MatchOp.NE;
                    case EQL_REGEX -> MatchOp.RE;
                    case NEQ_REGEX -> MatchOp.NRE;
                    default -> throw in.error(opToken, "unexpected " + opToken.describe()
                            + " in label matching, expected one of \"=\", \"!=\", \"=~\", \"!~\"");
                };
                Token value = in.peek();
                if (value.kind() != Kind.STRING) {
                    throw in.error(value, "unexpected " + value.describe() + " in label matching, expected string");
                }
                in.take();
                if (name != null && label.text().equals("__name__")) {
                    throw in.error(label, "metric name must not be set twice: \"" + name + "\" or \"" + value.text()
                            + "\"");
                }
                matchers.add(matcher(in, label.text(), op, value, maxRegexLength));
                in.separator(Kind.RBRACE, "in label matching");
            }
            in.take();
        }
        boolean nonEmpty = false;
        for (Matcher m : matchers) {
            nonEmpty |= !m.matches("");
        }
        if (!nonEmpty) {
            throw in.error(start, "vector selector must contain at least one non-empty matcher");
        }
        return new Expr.VectorSelector(List.copyOf(matchers), 0);
    }

    private static Matcher matcher(TokenCursor in, String label, MatchOp op, Token value, int maxRegexLength) {
        if (op != MatchOp.RE && op != MatchOp.NRE) {
            return new Matcher(label, op, value.text(), null);
        }
        if (value.text().length() > maxRegexLength) {
            ParseException at = in.error(value, "");
            throw PromException.badData("the regular expression at " + at.line() + ":" + at.column() + " has "
                    + value.text().length() + " characters (expected: at most " + maxRegexLength
                    + ", --prometheus-max-regex-length)");
        }
        try {
            return new Matcher(label, op, value.text(), Pattern.compile("(?:" + javaRegex(value.text()) + ")",
                    Pattern.DOTALL));
        } catch (PatternSyntaxException e) {
            throw in.error(value, "invalid regular expression \"" + value.text() + "\": " + e.getDescription());
        }
    }

    /** RE2 syntax Java spells otherwise: POSIX classes ({@code [[:digit:]]}) and {@code (?P<name>…)} groups. */
    static String javaRegex(String re2) {
        java.util.regex.Matcher m = POSIX_CLASS.matcher(re2);
        StringBuilder sb = new StringBuilder();
        while (m.find()) {
            String name = m.group(2);
            String java = name.equals("word") ? "\\w" : "\\p{" + (name.equals("ascii") ? "ASCII"
                    : Character.toUpperCase(name.charAt(0)) + name.substring(1).replace("digit", "Digit")) + "}";
            if (!m.group(1).isEmpty()) {
                java = name.equals("word") ? "\\W" : java.replace("\\p{", "\\P{");
            }
            m.appendReplacement(sb, java.replace("\\", "\\\\"));
        }
        m.appendTail(sb);
        return sb.toString().replace("(?P<", "(?<");
    }
}
