package dev.meterline.promql;

import dev.meterline.promql.Expr.AggregateOp;
import dev.meterline.promql.Expr.BinaryOp;
import dev.meterline.promql.Expr.Function;
import dev.meterline.promql.Expr.MatchOp;
import dev.meterline.promql.Expr.Matcher;
import dev.meterline.promql.Lexer.Kind;
import dev.meterline.promql.Lexer.Token;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * A recursive-descent PromQL parser with precedence climbing for binary operators. Valid PromQL outside the subset
 * (subqueries, {@code @}, {@code group_left}, functions and aggregations not evaluated here) fails with
 * {@link PromException} of type bad_data naming the feature; invalid PromQL fails with {@link ParseException}.
 */
final class Parser {

    /** The value types of expressions, named as Prometheus names them in errors. */
    enum Type {
        SCALAR("scalar"), VECTOR("instant vector"), MATRIX("range vector"), STRING("string");

        final String text;

        Type(String text) {
            this.text = text;
        }
    }

    /** Every aggregation operator of PromQL; the ones outside {@link AggregateOp} are reported unsupported. */
    private static final Set<String> AGGREGATIONS = Set.of("sum", "avg", "min", "max", "count", "topk", "bottomk",
            "group", "stddev", "stdvar", "quantile", "count_values", "limitk", "limit_ratio");
    /** Every function of PromQL, so that one outside the subset is told from a misspelling. */
    private static final Set<String> FUNCTIONS = Set.of("abs", "absent", "absent_over_time", "acos", "acosh", "asin",
            "asinh", "atan", "atanh", "avg_over_time", "ceil", "changes", "clamp", "clamp_max", "clamp_min", "cos",
            "cosh", "count_over_time", "days_in_month", "day_of_month", "day_of_week", "day_of_year", "deg", "delta",
            "deriv", "exp", "floor", "histogram_avg", "histogram_count", "histogram_fraction", "histogram_quantile",
            "histogram_sum", "histogram_stddev", "histogram_stdvar", "double_exponential_smoothing", "holt_winters",
            "hour", "idelta", "increase", "irate", "label_replace", "label_join", "last_over_time", "ln", "log10",
            "log2", "mad_over_time", "max_over_time", "min_over_time", "minute", "month", "pi", "predict_linear",
            "present_over_time", "quantile_over_time", "rad", "rate", "resets", "round", "scalar", "sgn", "sin",
            "sinh", "sort", "sort_desc", "sort_by_label", "sort_by_label_desc", "sqrt", "stddev_over_time",
            "stdvar_over_time", "sum_over_time", "tan", "tanh", "time", "timestamp", "vector", "year");
    private static final Map<String, BinaryOp> WORD_OPS = Map.of("and", BinaryOp.AND, "or", BinaryOp.OR,
            "unless", BinaryOp.UNLESS);

    private final String query;
    private final List<Token> tokens;
    private final int maxRegexLength;
    private int at;

    private Parser(String query, int maxRegexLength) {
        this.query = query;
        this.tokens = Lexer.tokens(query);
        this.maxRegexLength = maxRegexLength;
    }

    /** Parses a whole query. */
    static Expr parse(String query, int maxRegexLength) {
        Parser p = new Parser(query, maxRegexLength);
        if (p.peek().kind() == Kind.EOF) {
            throw p.error(p.peek(), "no expression found in input");
        }
        Expr e = p.expr(0);
        if (p.peek().kind() != Kind.EOF) {
            throw p.error(p.peek(), "unexpected " + p.peek().describe());
        }
        if (typeOf(e) == Type.STRING) {
            throw PromException.unsupported("a string expression");
        }
        return e;
    }

    /** The value type of a checked expression. */
    static Type typeOf(Expr e) {
        if (e instanceof Expr.NumberLiteral) {
            return Type.SCALAR;
        } else if (e instanceof Expr.StringLiteral) {
            return Type.STRING;
        } else if (e instanceof Expr.MatrixSelector) {
            return Type.MATRIX;
        } else if (e instanceof Expr.Negation n) {
            return typeOf(n.expr());
        } else if (e instanceof Expr.Binary b) {
            return typeOf(b.lhs()) == Type.SCALAR && typeOf(b.rhs()) == Type.SCALAR ? Type.SCALAR : Type.VECTOR;
        }
        return Type.VECTOR;
    }

    private Token peek() {
        return tokens.get(at);
    }

    private Token peek(int ahead) {
        return tokens.get(Math.min(at + ahead, tokens.size() - 1));
    }

    private Token take() {
        Token t = tokens.get(at);
        if (t.kind() != Kind.EOF) {
            at++;
        }
        return t;
    }

    private Token expect(Kind kind, String context) {
        Token t = peek();
        if (t.kind() != kind) {
            throw error(t, "unexpected " + t.describe() + " " + context + ", expected \"" + kind.text + "\"");
        }
        return take();
    }

    private ParseException error(Token t, String message) {
        return new ParseException(query, t.pos(), message);
    }

    private boolean isWord(Token t, String word) {
        return t.kind() == Kind.IDENT && t.text().equalsIgnoreCase(word);
    }

    private BinaryOp binaryOp(Token t) {
        return switch (t.kind()) {
            case ADD -> BinaryOp.ADD;
            case SUB -> BinaryOp.SUB;
            case MUL -> BinaryOp.MUL;
            case DIV -> BinaryOp.DIV;
            case MOD -> BinaryOp.MOD;
            case POW -> BinaryOp.POW;
            case EQLC -> BinaryOp.EQLC;
            case NEQ -> BinaryOp.NEQ;
            case LTE -> BinaryOp.LTE;
            case LSS -> BinaryOp.LSS;
            case GTE -> BinaryOp.GTE;
            case GTR -> BinaryOp.GTR;
            case IDENT -> {
                if (t.text().equalsIgnoreCase("atan2")) {
                    throw PromException.unsupported("the binary operator atan2");
                }
                yield WORD_OPS.get(t.text().toLowerCase(Locale.ROOT));
            }
            default -> null;
        };
    }

    private Expr expr(int minPrecedence) {
        Expr lhs = unary();
        while (true) {
            Token opToken = peek();
            BinaryOp op = binaryOp(opToken);
            if (op == null || op.precedence < minPrecedence) {
                return lhs;
            }
            take();
            boolean returnBool = false;
            if (isWord(peek(), "bool")) {
                take();
                returnBool = true;
            }
            Expr.Matching matching = null;
            if (isWord(peek(), "on") || isWord(peek(), "ignoring")) {
                boolean on = isWord(take(), "on");
                matching = new Expr.Matching(on, labelList());
            }
            if (isWord(peek(), "group_left") || isWord(peek(), "group_right")) {
                throw PromException.unsupported("many-to-one matching (" + peek().text() + ")");
            }
            Expr rhs = expr(op == BinaryOp.POW ? op.precedence : op.precedence + 1);
            lhs = binary(opToken, op, lhs, rhs, returnBool, matching);
        }
    }

    private Expr binary(Token opToken, BinaryOp op, Expr lhs, Expr rhs, boolean returnBool, Expr.Matching matching) {
        Type l = typeOf(lhs);
        Type r = typeOf(rhs);
        for (Type t : List.of(l, r)) {
            if (t != Type.SCALAR && t != Type.VECTOR) {
                throw error(opToken, "binary expression must contain only scalar and instant vector types");
            }
        }
        if (returnBool && !op.comparison()) {
            throw error(opToken, "bool modifier can only be used on comparison operators");
        }
        if (op.comparison() && l == Type.SCALAR && r == Type.SCALAR && !returnBool) {
            throw error(opToken, "comparisons between scalars must use BOOL modifier");
        }
        if (op.set() && (l != Type.VECTOR || r != Type.VECTOR)) {
            throw error(opToken, "set operator \"" + op.text + "\" not allowed in binary scalar expression");
        }
        if (matching != null && (l != Type.VECTOR || r != Type.VECTOR)) {
            throw error(opToken, "vector matching only allowed between instant vectors");
        }
        return new Expr.Binary(op, lhs, rhs, returnBool, matching);
    }

    private Expr unary() {
        Token t = peek();
        if (t.kind() == Kind.SUB || t.kind() == Kind.ADD) {
            take();
            Expr e = expr(BinaryOp.POW.precedence);
            Type type = typeOf(e);
            if (type != Type.SCALAR && type != Type.VECTOR) {
                throw error(t, "unary expression only allowed on expressions of type scalar or instant vector, got \""
                        + type.text + "\"");
            }
            if (t.kind() == Kind.ADD) {
                return e;
            }
            return e instanceof Expr.NumberLiteral n ? new Expr.NumberLiteral(-n.value()) : new Expr.Negation(e);
        }
        return postfix(primary());
    }

    private Expr postfix(Expr e) {
        while (true) {
            Token t = peek();
            if (t.kind() == Kind.LBRACKET) {
                take();
                Token d = expect(Kind.DURATION, "in range");
                long range = duration(d);
                if (peek().kind() == Kind.COLON) {
                    throw PromException.unsupported("a subquery");
                }
                expect(Kind.RBRACKET, "in range");
                if (!(e instanceof Expr.VectorSelector v) || v.offsetMs() != 0) {
                    throw error(t, "ranges only allowed for vector selectors");
                }
                if (range <= 0) {
                    throw error(d, "range must be positive");
                }
                e = new Expr.MatrixSelector(v, range);
            } else if (isWord(t, "offset")) {
                take();
                boolean negative = false;
                if (peek().kind() == Kind.SUB || peek().kind() == Kind.ADD) {
                    negative = take().kind() == Kind.SUB;
                }
                long offset = duration(expect(Kind.DURATION, "in offset")) * (negative ? -1 : 1);
                if (e instanceof Expr.VectorSelector v && v.offsetMs() == 0) {
                    e = new Expr.VectorSelector(v.matchers(), offset);
                } else if (e instanceof Expr.MatrixSelector m && m.selector().offsetMs() == 0) {
                    e = new Expr.MatrixSelector(new Expr.VectorSelector(m.selector().matchers(), offset), m.rangeMs());
                } else {
                    throw error(t, "offset modifier must be preceded by an instant vector selector or range vector "
                            + "selector, once");
                }
            } else if (t.kind() == Kind.AT) {
                throw PromException.unsupported("the @ modifier");
            } else {
                return e;
            }
        }
    }

    private Expr primary() {
        Token t = peek();
        switch (t.kind()) {
            case NUMBER -> {
                take();
                return new Expr.NumberLiteral(number(t));
            }
            case STRING -> {
                take();
                return new Expr.StringLiteral(t.text());
            }
            case LPAREN -> {
                take();
                Expr e = expr(0);
                expect(Kind.RPAREN, "in parenthesized expression");
                return e;
            }
            case LBRACE -> {
                return selector(null, t);
            }
            case IDENT -> {
                String word = t.text();
                String lower = word.toLowerCase(Locale.ROOT);
                if (lower.equals("inf") || lower.equals("nan")) {
                    take();
                    return new Expr.NumberLiteral(lower.equals("inf") ? Double.POSITIVE_INFINITY : Double.NaN);
                }
                Kind next = peek(1).kind();
                if (AGGREGATIONS.contains(lower) && (next == Kind.LPAREN || isWord(peek(1), "by")
                        || isWord(peek(1), "without"))) {
                    return aggregation();
                }
                if (next == Kind.LPAREN) {
                    return call();
                }
                take();
                return selector(word, t);
            }
            default -> throw error(t, "unexpected " + t.describe());
        }
    }

    private Expr aggregation() {
        Token name = take();
        String lower = name.text().toLowerCase(Locale.ROOT);
        AggregateOp op;
        try {
            op = AggregateOp.valueOf(lower.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw PromException.unsupported("the aggregation " + lower);
        }
        boolean without = false;
        List<String> grouping = List.of();
        boolean grouped = false;
        if (isWord(peek(), "by") || isWord(peek(), "without")) {
            without = isWord(take(), "without");
            grouping = labelList();
            grouped = true;
        }
        expect(Kind.LPAREN, "in aggregation");
        Expr param = null;
        if (op.takesParameter()) {
            param = expr(0);
            expect(Kind.COMMA, "in aggregation " + lower + " (it takes a parameter and an expression)");
        }
        Expr inner = expr(0);
        expect(Kind.RPAREN, "in aggregation");
        if (!grouped && (isWord(peek(), "by") || isWord(peek(), "without"))) {
            without = isWord(take(), "without");
            grouping = labelList();
        }
        if (typeOf(inner) != Type.VECTOR) {
            throw error(name, "expected type instant vector in aggregation expression, got " + typeOf(inner).text);
        }
        if (param != null && typeOf(param) != Type.SCALAR) {
            throw error(name, "expected type scalar in aggregation parameter, got " + typeOf(param).text);
        }
        return new Expr.Aggregation(op, param, inner, without, grouping);
    }

    private List<String> labelList() {
        expect(Kind.LPAREN, "in grouping");
        List<String> labels = new ArrayList<>();
        while (peek().kind() != Kind.RPAREN) {
            Token l = peek();
            if (l.kind() != Kind.IDENT || l.text().contains(":")) {
                throw error(l, "unexpected " + l.describe() + " in grouping, expected label");
            }
            labels.add(take().text());
            if (peek().kind() == Kind.COMMA) {
                take();
            } else if (peek().kind() != Kind.RPAREN) {
                throw error(peek(), "unexpected " + peek().describe() + " in grouping, expected \",\" or \")\"");
            }
        }
        take();
        return List.copyOf(labels);
    }

    private Expr call() {
        Token name = take();
        String fn = name.text();
        if (!FUNCTIONS.contains(fn)) {
            throw error(name, "unknown function with name \"" + fn + "\"");
        }
        Function f;
        try {
            f = Function.valueOf(fn.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw PromException.unsupported("the function " + fn);
        }
        expect(Kind.LPAREN, "in call");
        List<Expr> args = new ArrayList<>();
        while (peek().kind() != Kind.RPAREN) {
            args.add(expr(0));
            if (peek().kind() == Kind.COMMA) {
                take();
            } else if (peek().kind() != Kind.RPAREN) {
                throw error(peek(), "unexpected " + peek().describe() + " in call, expected \",\" or \")\"");
            }
        }
        take();
        List<Type> want = f == Function.HISTOGRAM_QUANTILE ? List.of(Type.SCALAR, Type.VECTOR) : List.of(Type.MATRIX);
        if (args.size() != want.size()) {
            throw error(name, "expected " + want.size() + " argument(s) in call to \"" + fn + "\", got "
                    + args.size());
        }
        for (int i = 0; i < want.size(); i++) {
            Type got = typeOf(args.get(i));
            if (got != want.get(i)) {
                throw error(name, "expected type " + want.get(i).text + " in call to function \"" + fn + "\", got "
                        + got.text);
            }
        }
        return new Expr.Call(f, List.copyOf(args));
    }

    private Expr selector(String name, Token start) {
        List<Matcher> matchers = new ArrayList<>();
        if (name != null) {
            matchers.add(new Matcher("__name__", MatchOp.EQ, name, null));
        }
        if (peek().kind() == Kind.LBRACE) {
            take();
            while (peek().kind() != Kind.RBRACE) {
                Token label = peek();
                if (label.kind() != Kind.IDENT || label.text().contains(":")) {
                    throw error(label, "unexpected " + label.describe() + " in label matching, expected label");
                }
                take();
                Token opToken = take();
                MatchOp op = switch (opToken.kind()) {
                    case ASSIGN -> MatchOp.EQ;
                    case NEQ -> MatchOp.NE;
                    case EQL_REGEX -> MatchOp.RE;
                    case NEQ_REGEX -> MatchOp.NRE;
                    default -> throw error(opToken, "unexpected " + opToken.describe()
                            + " in label matching, expected one of \"=\", \"!=\", \"=~\", \"!~\"");
                };
                Token value = peek();
                if (value.kind() != Kind.STRING) {
                    throw error(value, "unexpected " + value.describe() + " in label matching, expected string");
                }
                take();
                if (name != null && label.text().equals("__name__")) {
                    throw error(label, "metric name must not be set twice: \"" + name + "\" or \"" + value.text()
                            + "\"");
                }
                matchers.add(matcher(label.text(), op, value));
                if (peek().kind() == Kind.COMMA) {
                    take();
                } else if (peek().kind() != Kind.RBRACE) {
                    throw error(peek(), "unexpected " + peek().describe()
                            + " in label matching, expected \",\" or \"}\"");
                }
            }
            take();
        }
        boolean nonEmpty = false;
        for (Matcher m : matchers) {
            nonEmpty |= !m.matches("");
        }
        if (!nonEmpty) {
            throw error(start, "vector selector must contain at least one non-empty matcher");
        }
        return new Expr.VectorSelector(List.copyOf(matchers), 0);
    }

    private Matcher matcher(String label, MatchOp op, Token value) {
        if (op != MatchOp.RE && op != MatchOp.NRE) {
            return new Matcher(label, op, value.text(), null);
        }
        if (value.text().length() > maxRegexLength) {
            throw PromException.badData("the regular expression at " + new ParseException(query, value.pos(), "")
                    .line() + ":" + new ParseException(query, value.pos(), "").column() + " has "
                    + value.text().length() + " characters (expected: at most " + maxRegexLength
                    + ", --prometheus-max-regex-length)");
        }
        try {
            return new Matcher(label, op, value.text(), Pattern.compile("(?:" + javaRegex(value.text()) + ")",
                    Pattern.DOTALL));
        } catch (PatternSyntaxException e) {
            throw error(value, "invalid regular expression \"" + value.text() + "\": " + e.getDescription());
        }
    }

    private static final Pattern POSIX_CLASS = Pattern.compile("\\[:(\\^?)(alnum|alpha|ascii|blank|cntrl|digit|graph|"
            + "lower|print|punct|space|upper|word|xdigit):]");

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

    private double number(Token t) {
        String s = t.text();
        try {
            if (s.startsWith("0x") || s.startsWith("0X")) {
                return Long.parseLong(s.substring(2), 16);
            }
            return Double.parseDouble(s);
        } catch (NumberFormatException e) {
            throw error(t, "bad number syntax: \"" + s + "\"");
        }
    }

    private long duration(Token t) {
        try {
            return PromTime.duration(t.text());
        } catch (IllegalArgumentException e) {
            throw error(t, e.getMessage());
        }
    }
}
