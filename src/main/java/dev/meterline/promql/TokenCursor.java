package dev.meterline.promql;

import dev.meterline.promql.Lexer.Kind;
import dev.meterline.promql.Lexer.Token;

import java.util.List;

/** The tokens of one query and the parser's place in them, with errors and literal values that point into the query. */
final class TokenCursor {

    private final String query;
    private final List<Token> tokens;
    private int at;

    TokenCursor(String query) {
        this.query = query;
        this.tokens = Lexer.tokens(query);
    }

    Token peek() {
        return tokens.get(at);
    }

    Token peek(int ahead) {
        return tokens.get(Math.min(at + ahead, tokens.size() - 1));
    }

    /** The next token, moving past it unless it is the end. */
    Token take() {
        Token t = tokens.get(at);
        if (t.kind() != Kind.EOF) {
            at++;
        }
        return t;
    }

    /** Takes the next token, which must be of {@code kind}; {@code context} says where, for the error. */
    Token expect(Kind kind, String context) {
        Token t = peek();
        if (t.kind() != kind) {
            throw error(t, "unexpected " + t.describe() + " " + context + ", expected \"" + kind.text + "\"");
        }
        return take();
    }

    /** After a list item: takes a comma, or leaves the {@code close} that ends the list; anything else is an error. */
    void separator(Kind close, String context) {
        if (peek().kind() == Kind.COMMA) {
            take();
        } else if (peek().kind() != close) {
            throw error(peek(), "unexpected " + peek().describe() + " " + context + ", expected \",\" or \""
                    + close.text + "\"");
        }
    }

    /** True when the next token is the keyword {@code word}, in any case. */
    boolean atWord(String word) {
        return isWord(peek(), word);
    }

    static boolean isWord(Token t, String word) {
        return t.kind() == Kind.IDENT && t.text().equalsIgnoreCase(word);
    }

    ParseException error(Token t, String message) {
        return new ParseException(query, t.pos(), message);
    }

    /** The value of a number token: decimal, scientific or {@code 0x} hexadecimal. */
    double number(Token t) {
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

    /** The milliseconds of a duration token. */
    long duration(Token t) {
        try {
            return PromTime.duration(t.text());
        } catch (IllegalArgumentException e) {
            throw error(t, e.getMessage());
        }
    }
}
