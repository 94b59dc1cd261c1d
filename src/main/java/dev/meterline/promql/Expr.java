package dev.meterline.promql;

import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Pattern;

/** The PromQL syntax tree of the subset Meterline evaluates. */
sealed interface Expr {

    /** {@code 2}, {@code 1e3}, {@code Inf}. */
    record NumberLiteral(double value) implements Expr {
    }

    /** {@code "text"}: valid PromQL, only ever a function argument here. */
    record StringLiteral(String value) implements Expr {
    }

    /**
     * A label matcher; {@code pattern} is the anchored regular expression of {@code =~} and {@code !~}, and
     * {@code exhausted} is set once a match ran out of steps, after which every match fails at once.
     */
    record Matcher(String name, MatchOp op, String value, Pattern pattern, AtomicBoolean exhausted) {

        Matcher(String name, MatchOp op, String value, Pattern pattern) {
            this(name, op, value, pattern, new AtomicBoolean());
        }

        /**
         * Java's regular expressions backtrack, so one match may take exponential time where RE2 takes linear time:
         * a match reads at most this many characters, then fails the query instead of holding a thread.
         */
        static final int MAX_REGEX_STEPS = 1_000_000;

        boolean matches(String v) {
            String s = v == null ? "" : v;
            return switch (op) {
                case EQ -> s.equals(value);
                case NE -> !s.equals(value);
                case RE -> regex(s);
                case NRE -> !regex(s);
            };
        }

        private boolean regex(String s) {
            if (exhausted.get()) {
                throw tooLong();
            }
            return pattern.matcher(new BoundedChars(s, this)).matches();
        }

        PromException tooLong() {
            exhausted.set(true);
            return PromException.execution("the regular expression of " + this + " needs more than "
                    + MAX_REGEX_STEPS + " steps on one label value (its nested repetition backtracks); simplify it");
        }

        @Override
        public String toString() {
            return name + op.text + '"' + value + '"';
        }
    }

    /** A label value that fails a match once the regular expression has read it too often. */
    final class BoundedChars implements CharSequence {
        private final String s;
        private final Matcher matcher;
        private int steps;

        BoundedChars(String s, Matcher matcher) {
            this.s = s;
            this.matcher = matcher;
        }

        @Override
        public char charAt(int index) {
            if (++steps > Matcher.MAX_REGEX_STEPS) {
                throw matcher.tooLong();
            }
            return s.charAt(index);
        }

        @Override
        public int length() {
            return s.length();
        }

        @Override
        public CharSequence subSequence(int start, int end) {
            return s.subSequence(start, end);
        }

        @Override
        public String toString() {
            return s;
        }
    }


    /** The four matcher operators. */
    enum MatchOp {
        EQ("="), NE("!="), RE("=~"), NRE("!~");

        final String text;

        MatchOp(String text) {
            this.text = text;
        }
    }

    /** {@code name{matchers} offset d}: the {@code __name__} matcher, if any, is among {@code matchers}. */
    record VectorSelector(List<Matcher> matchers, long offsetMs) implements Expr {
    }

    /** {@code selector[range]}. */
    record MatrixSelector(VectorSelector selector, long rangeMs) implements Expr {
    }

    /** {@code -expr}. */
    record Negation(Expr expr) implements Expr {
    }

    /** Binary operators, by precedence from low to high; {@code set} ones apply to vectors only. */
    enum BinaryOp {
        OR("or", 1), AND("and", 2), UNLESS("unless", 2),
        EQLC("==", 3), NEQ("!=", 3), LTE("<=", 3), LSS("<", 3), GTE(">=", 3), GTR(">", 3),
        ADD("+", 4), SUB("-", 4), MUL("*", 5), DIV("/", 5), MOD("%", 5), POW("^", 6);

        final String text;
        final int precedence;

        BinaryOp(String text, int precedence) {
            this.text = text;
            this.precedence = precedence;
        }

        boolean comparison() {
            return precedence == 3;
        }

        boolean set() {
            return precedence <= 2;
        }
    }

    /** {@code on(labels)} ({@code on} true) or {@code ignoring(labels)}. */
    record Matching(boolean on, List<String> labels) {
    }

    /** {@code lhs op bool on(…) rhs}; {@code matching} is null without {@code on}/{@code ignoring}. */
    record Binary(BinaryOp op, Expr lhs, Expr rhs, boolean returnBool, Matching matching) implements Expr {
    }

    /** The aggregation operators evaluated here. */
    enum AggregateOp {
        SUM, AVG, MIN, MAX, COUNT, TOPK, BOTTOMK;

        boolean takesParameter() {
            return this == TOPK || this == BOTTOMK;
        }
    }

    /** {@code op by|without (labels) (param, expr)}; {@code grouping} is empty and {@code without} false for neither. */
    record Aggregation(AggregateOp op, Expr param, Expr expr, boolean without, List<String> grouping)
            implements Expr {
    }

    /** {@code fn(args)} of a function in the subset. */
    record Call(Function function, List<Expr> args) implements Expr {
    }

    /** The functions evaluated here. */
    enum Function {
        SUM_OVER_TIME, AVG_OVER_TIME, MIN_OVER_TIME, MAX_OVER_TIME, COUNT_OVER_TIME, LAST_OVER_TIME, RATE, INCREASE,
        HISTOGRAM_QUANTILE;

        String promName() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }
}
