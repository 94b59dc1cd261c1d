package dev.meterline.promql;

import java.util.ArrayList;
import java.util.List;

/** Splits a PromQL query into tokens, each with its offset in the query; {@code #} starts a comment. */
final class Lexer {

    /** The kinds of token. */
    enum Kind {
        NUMBER, DURATION, STRING, IDENT,
        LBRACE("{"), RBRACE("}"), LPAREN("("), RPAREN(")"), LBRACKET("["), RBRACKET("]"), COMMA(","), COLON(":"),
        AT("@"), ADD("+"), SUB("-"), MUL("*"), DIV("/"), MOD("%"), POW("^"), EQLC("=="), NEQ("!="), LTE("<="),
        LSS("<"), GTE(">="), GTR(">"), ASSIGN("="), EQL_REGEX("=~"), NEQ_REGEX("!~"), EOF("end of input");

        final String text;

        Kind() {
            this.text = null;
        }

        Kind(String text) {
            this.text = text;
        }
    }

    /** One token: its kind, its text (a string's decoded value), and where it starts. */
    record Token(Kind kind, String text, int pos) {

        /** How an error names this token. */
        String describe() {
            return switch (kind) {
                case EOF -> "end of input";
                case STRING -> "string \"" + text + "\"";
                case NUMBER -> "number \"" + text + "\"";
                case DURATION -> "duration \"" + text + "\"";
                case IDENT -> "identifier \"" + text + "\"";
                default -> "\"" + kind.text + "\"";
            };
        }
    }

    private final String src;
    private int i;

    private Lexer(String src) {
        this.src = src;
    }

    static List<Token> tokens(String query) {
        Lexer l = new Lexer(query);
        List<Token> out = new ArrayList<>();
        Token t;
        do {
            t = l.next();
            out.add(t);
        } while (t.kind() != Kind.EOF);
        return out;
    }

    private ParseException error(int pos, String message) {
        return new ParseException(src, pos, message);
    }

    private Token next() {
        while (i < src.length()) {
            char c = src.charAt(i);
            if (c == '#') {
                while (i < src.length() && src.charAt(i) != '\n') {
                    i++;
                }
            } else if (Character.isWhitespace(c)) {
                i++;
            } else {
                break;
            }
        }
        int start = i;
        if (i >= src.length()) {
            return new Token(Kind.EOF, "", start);
        }
        char c = src.charAt(i);
        if (c >= '0' && c <= '9' || c == '.' && i + 1 < src.length() && isDigit(src.charAt(i + 1))) {
            return number(start);
        }
        if (isIdentStart(c)) {
            while (i < src.length() && isIdentPart(src.charAt(i))) {
                i++;
            }
            return new Token(Kind.IDENT, src.substring(start, i), start);
        }
        if (c == '"' || c == '\'' || c == '`') {
            return string(start, c);
        }
        i++;
        char n = i < src.length() ? src.charAt(i) : 0;
        Kind k = switch (c) {
            case '{' -> Kind.LBRACE;
            case '}' -> Kind.RBRACE;
            case '(' -> Kind.LPAREN;
            case ')' -> Kind.RPAREN;
            case '[' -> Kind.LBRACKET;
            case ']' -> Kind.RBRACKET;
            case ',' -> Kind.COMMA;
            case ':' -> Kind.COLON;
            case '@' -> Kind.AT;
            case '+' -> Kind.ADD;
            case '-' -> Kind.SUB;
            case '*' -> Kind.MUL;
            case '/' -> Kind.DIV;
            case '%' -> Kind.MOD;
            case '^' -> Kind.POW;
            case '=' -> n == '=' ? two(Kind.EQLC) : n == '~' ? two(Kind.EQL_REGEX) : Kind.ASSIGN;
            case '!' -> {
                if (n == '=') {
                    yield two(Kind.NEQ);
                }
                if (n == '~') {
                    yield two(Kind.NEQ_REGEX);
                }
                throw error(start, "unexpected character after '!': " + describe(n));
            }
            case '<' -> n == '=' ? two(Kind.LTE) : Kind.LSS;
            case '>' -> n == '=' ? two(Kind.GTE) : Kind.GTR;
            default -> throw error(start, "unexpected character: " + describe(c));
        };
        return new Token(k, src.substring(start, i), start);
    }

    private Kind two(Kind k) {
        i++;
        return k;
    }

    private static String describe(char c) {
        return c == 0 ? "end of input" : "'" + c + "'";
    }

    private Token number(int start) {
        if (src.startsWith("0x", i) || src.startsWith("0X", i)) {
            i += 2;
            while (i < src.length() && Character.digit(src.charAt(i), 16) >= 0) {
                i++;
            }
            return new Token(Kind.NUMBER, src.substring(start, i), start);
        }
        while (i < src.length() && isDigit(src.charAt(i))) {
            i++;
        }
        if (i < src.length() && isUnitStart(src, i)) {
            // 5m, 1h30m, 500ms: a duration.
            while (i < src.length() && isDigit(src.charAt(i)) || i < src.length() && isUnitStart(src, i)) {
                if (isDigit(src.charAt(i))) {
                    i++;
                } else {
                    i += src.startsWith("ms", i) ? 2 : 1;
                }
            }
            if (i < src.length() && isIdentPart(src.charAt(i)) && src.charAt(i) != ':') {
                throw error(start, "bad duration syntax: \"" + src.substring(start, i + 1) + "\"");
            }
            return new Token(Kind.DURATION, src.substring(start, i), start);
        }
        if (i < src.length() && src.charAt(i) == '.') {
            i++;
            while (i < src.length() && isDigit(src.charAt(i))) {
                i++;
            }
        }
        if (i < src.length() && (src.charAt(i) == 'e' || src.charAt(i) == 'E')) {
            int mark = i;
            i++;
            if (i < src.length() && (src.charAt(i) == '+' || src.charAt(i) == '-')) {
                i++;
            }
            if (i < src.length() && isDigit(src.charAt(i))) {
                while (i < src.length() && isDigit(src.charAt(i))) {
                    i++;
                }
            } else {
                i = mark;
            }
        }
        if (i < src.length() && isIdentPart(src.charAt(i))) {
            throw error(start, "bad number or duration syntax: \"" + src.substring(start, i + 1) + "\"");
        }
        return new Token(Kind.NUMBER, src.substring(start, i), start);
    }

    private Token string(int start, char quote) {
        i++;
        StringBuilder sb = new StringBuilder();
        while (true) {
            if (i >= src.length()) {
                throw error(start, "unterminated quoted string " + quote);
            }
            char c = src.charAt(i++);
            if (c == quote) {
                return new Token(Kind.STRING, sb.toString(), start);
            }
            if (c == '\\' && quote != '`') {
                if (i >= src.length()) {
                    throw error(start, "unterminated quoted string " + quote);
                }
                char e = src.charAt(i++);
                switch (e) {
                    case 'n' -> sb.append('\n');
                    case 't' -> sb.append('\t');
                    case 'r' -> sb.append('\r');
                    case 'a' -> sb.append('\007');
                    case 'b' -> sb.append('\b');
                    case 'f' -> sb.append('\f');
                    case 'v' -> sb.append('\013');
                    case '\\', '"', '\'' -> sb.append(e);
                    case 'x' -> sb.append((char) hex(2, i - 2));
                    case 'u' -> sb.append((char) hex(4, i - 2));
                    case 'U' -> sb.appendCodePoint(hex(8, i - 2));
                    default -> throw error(i - 2, "unknown escape sequence '\\" + e + "' in string");
                }
            } else if (c == '\n' && quote != '`') {
                throw error(start, "unterminated quoted string " + quote);
            } else {
                sb.append(c);
            }
        }
    }

    private int hex(int digits, int at) {
        if (i + digits > src.length()) {
            throw error(at, "bad escape sequence in string");
        }
        try {
            int v = Integer.parseInt(src.substring(i, i + digits), 16);
            i += digits;
            return v;
        } catch (NumberFormatException e) {
            throw error(at, "bad escape sequence in string");
        }
    }

    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }

    private static boolean isUnitStart(String s, int at) {
        char c = s.charAt(at);
        return c == 's' || c == 'm' || c == 'h' || c == 'd' || c == 'w' || c == 'y';
    }

    static boolean isIdentStart(char c) {
        return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_';
    }

    static boolean isIdentPart(char c) {
        return isIdentStart(c) || isDigit(c) || c == ':';
    }
}
