package dev.meterline.promql;

import dev.meterline.promql.Expr.AggregateOp;
import dev.meterline.promql.Expr.BinaryOp;
import dev.meterline.promql.Expr.Function;
import dev.meterline.promql.Lexer.Kind;
import dev.meterline.promql.Lexer.Token;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import static dev.meterline.promql.TokenCursor.isWord;

/**
 * A recursive-descent PromQL parser with precedence climbing for binary operators. Valid PromQL outside the subset
 * (subqueries, {@code @}, {@code group_left}, functions and aggregations not evaluated here) fails with
 * {@link PromException} of type bad_data naming the feature; invalid PromQL fails with {@link ParseException}.
 */
final class Parser {

    private final TokenCursor in;
    private final int maxRegexLength;

    private Parser(String query, int maxRegexLength) {
        this.in = new TokenCursor(query);
        this.maxRegexLength = maxRegexLength;
    }

    /** Parses a whole query. */
    static Expr parse(String query, int maxRegexLength) {
        Parser p = new Parser(query, maxRegexLength);
        TokenCursor in = p.in;
        if (in.peek().kind() == Kind.EOF) {
            throw in.error(in.peek(), "no expression found in input");
        }
        Expr e = p.expr(0);
        if (in.peek().kind() != Kind.EOF) {
            throw in.error(in.peek(), "unexpected " + in.peek().describe());
        }
        if (ExprType.of(e) == ExprType.STRING) {
            throw PromException.unsupported("a string expression");
        }
        return e;
    }

    private static BinaryOp binaryOp(Token t) {
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
            case IDENT -> PromqlNames.wordOperator(t.text());
            default -> null;
        };
    }

    private Expr expr(int minPrecedence) {
        Expr lhs = unary();
        while (true) {
            Token opToken = in.peek();
            BinaryOp op = binaryOp(opToken);
            if (op == null || op.precedence < minPrecedence) {
                return lhs;
            }
            in.take();
            boolean returnBool = false;
            if (in.atWord("bool")) {
                in.take();
                returnBool = true;
            }
            Expr.Matching matching = null;
            if (in.atWord("on") || in.atWord("ignoring")) {
                boolean on = isWord(in.take(), "on");
                matching = new Expr.Matching(on, labelList());
            }
            if (in.atWord("group_left") || in.atWord("group_right")) {
                throw PromException.unsupported("many-to-one matching (" + in.peek().text() + ")");
            }
            Expr rhs = expr(op == BinaryOp.POW ? op.precedence : op.precedence + 1);
            lhs = binary(opToken, op, lhs, rhs, returnBool, matching);
        }
    }

    private Expr binary(Token opToken, BinaryOp op, Expr lhs, Expr rhs, boolean returnBool, Expr.Matching matching) {
        ExprType l = ExprType.of(lhs);
        ExprType r = ExprType.of(rhs);
        for (ExprType t : List.of(l, r)) {
            if (t != ExprType.SCALAR && t != ExprType.VECTOR) {
                throw in.error(opToken, "binary expression must contain only scalar and instant vector types");
            }
        }
        if (returnBool && !op.comparison()) {
            throw in.error(opToken, "bool modifier can only be used on comparison operators");
        }
        if (op.comparison() && l == ExprType.SCALAR && r == ExprType.SCALAR && !returnBool) {
            throw in.error(opToken, "comparisons between scalars must use BOOL modifier");
        }
        if (op.set() && (l != ExprType.VECTOR || r != ExprType.VECTOR)) {
            throw in.error(opToken, "set operator \"" + op.text + "\" not allowed in binary scalar expression");
        }
        if (matching != null && (l != ExprType.VECTOR || r != ExprType.VECTOR)) {
            throw in.error(opToken, "vector matching only allowed between instant vectors");
        }
        return new Expr.Binary(op, lhs, rhs, returnBool, matching);
    }

    private Expr unary() {
        Token t = in.peek();
        if (t.kind() == Kind.SUB || t.kind() == Kind.ADD) {
            in.take();
            Expr e = expr(BinaryOp.POW.precedence);
            ExprType type = ExprType.of(e);
            if (type != ExprType.SCALAR && type != ExprType.VECTOR) {
                throw in.error(t, "unary expression only allowed on expressions of type scalar or instant vector, "
                        + "got \"" + type.text + "\"");
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
            Token t = in.peek();
            if (t.kind() == Kind.LBRACKET) {
                in.take();
                Token d = in.expect(Kind.DURATION, "in range");
                long range = in.duration(d);
                if (in.peek().kind() == Kind.COLON) {
                    throw PromException.unsupported("a subquery");
                }
                in.expect(Kind.RBRACKET, "in range");
                if (!(e instanceof Expr.VectorSelector v) || v.offsetMs() != 0) {
                    throw in.error(t, "ranges only allowed for vector selectors");
                }
                if (range <= 0) {
                    throw in.error(d, "range must be positive");
                }
                e = new Expr.MatrixSelector(v, range);
            } else if (isWord(t, "offset")) {
                in.take();
                boolean negative = false;
                if (in.peek().kind() == Kind.SUB || in.peek().kind() == Kind.ADD) {
                    negative = in.take().kind() == Kind.SUB;
                }
                long offset = in.duration(in.expect(Kind.DURATION, "in offset")) * (negative ? -1 : 1);
                if (e instanceof Expr.VectorSelector v && v.offsetMs() == 0) {
                    e = new Expr.VectorSelector(v.matchers(), offset);
                } else if (e instanceof Expr.MatrixSelector m && m.selector().offsetMs() == 0) {
                    e = new Expr.MatrixSelector(new Expr.VectorSelector(m.selector().matchers(), offset), m.rangeMs());
                } else {
                    throw in.error(t, "offset modifier must be preceded by an instant vector selector or range "
                            + "vector selector, once");
                }
            } else if (t.kind() == Kind.AT) {
                throw PromException.unsupported("the @ modifier");
            } else {
                return e;
            }
        }
    }

    private Expr primary() {
        Token t = in.peek();
        switch (t.kind()) {
            case NUMBER -> {
                in.take();
                return new Expr.NumberLiteral(in.number(t));
            }
            case STRING -> {
                in.take();
                return new Expr.StringLiteral(t.text());
            }
            case LPAREN -> {
                in.take();
                Expr e = expr(0);
                in.expect(Kind.RPAREN, "in parenthesized expression");
                return e;
            }
            case LBRACE -> {
                return SelectorParser.selector(in, null, t, maxRegexLength);
            }
            case IDENT -> {
                String word = t.text();
                String lower = word.toLowerCase(Locale.ROOT);
                if (lower.equals("inf") || lower.equals("nan")) {
                    in.take();
                    return new Expr.NumberLiteral(lower.equals("inf") ? Double.POSITIVE_INFINITY : Double.NaN);
                }
                Kind next = in.peek(1).kind();
                if (PromqlNames.isAggregation(lower) && (next == Kind.LPAREN || isWord(in.peek(1), "by")
                        || isWord(in.peek(1), "without"))) {
                    return aggregation();
                }
                if (next == Kind.LPAREN) {
                    return call();
                }
                in.take();
                return SelectorParser.selector(in, word, t, maxRegexLength);
            }
            default -> throw in.error(t, "unexpected " + t.describe());
        }
    }

    private Expr aggregation() {
        Token name = in.take();
        String lower = name.text().toLowerCase(Locale.ROOT);
        AggregateOp op = PromqlNames.aggregation(lower);
        boolean without = false;
        List<String> grouping = List.of();
        boolean grouped = false;
        if (in.atWord("by") || in.atWord("without")) {
            without = isWord(in.take(), "without");
            grouping = labelList();
            grouped = true;
        }
        in.expect(Kind.LPAREN, "in aggregation");
        Expr param = null;
        if (op.takesParameter()) {
            param = expr(0);
            in.expect(Kind.COMMA, "in aggregation " + lower + " (it takes a parameter and an expression)");
        }
        Expr inner = expr(0);
        in.expect(Kind.RPAREN, "in aggregation");
        if (!grouped && (in.atWord("by") || in.atWord("without"))) {
            without = isWord(in.take(), "without");
            grouping = labelList();
        }
        if (ExprType.of(inner) != ExprType.VECTOR) {
            throw in.error(name, "expected type instant vector in aggregation expression, got "
                    + ExprType.of(inner).text);
        }
        if (param != null && ExprType.of(param) != ExprType.SCALAR) {
            throw in.error(name, "expected type scalar in aggregation parameter, got " + ExprType.of(param).text);
        }
        return new Expr.Aggregation(op, param, inner, without, grouping);
    }

    private List<String> labelList() {
        in.expect(Kind.LPAREN, "in grouping");
        List<String> labels = new ArrayList<>();
        while (in.peek().kind() != Kind.RPAREN) {
            Token l = in.peek();
            if (l.kind() != Kind.IDENT || l.text().contains(":")) {
                throw in.error(l, "unexpected " + l.describe() + " in grouping, expected label");
            }
            labels.add(in.take().text());
            in.separator(Kind.RPAREN, "in grouping");
        }
        in.take();
        return List.copyOf(labels);
    }

    private Expr call() {
        Token name = in.take();
        String fn = name.text();
        if (!PromqlNames.isFunction(fn)) {
            throw in.error(name, "unknown function with name \"" + fn + "\"");
        }
        Function f = PromqlNames.function(fn);
        in.expect(Kind.LPAREN, "in call");
        List<Expr> args = new ArrayList<>();
        while (in.peek().kind() != Kind.RPAREN) {
            args.add(expr(0));
            in.separator(Kind.RPAREN, "in call");
        }
        in.take();
        List<ExprType> want = f == Function.HISTOGRAM_QUANTILE ? List.of(ExprType.SCALAR, ExprType.VECTOR)
                : List.of(ExprType.MATRIX);
        if (args.size() != want.size()) {
            throw in.error(name, "expected " + want.size() + " argument(s) in call to \"" + fn + "\", got "
                    + args.size());
        }
        for (int i = 0; i < want.size(); i++) {
            ExprType got = ExprType.of(args.get(i));
            if (got != want.get(i)) {
                throw in.error(name, "expected type " + want.get(i).text + " in call to function \"" + fn
                        + "\", got " + got.text);
            }
        }
        return new Expr.Call(f, List.copyOf(args));
    }
}
