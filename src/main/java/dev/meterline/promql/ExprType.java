package dev.meterline.promql;

/** The value type of a checked expression, named as Prometheus names it in errors. */
enum ExprType {
    SCALAR("scalar"), VECTOR("instant vector"), MATRIX("range vector"), STRING("string");

    final String text;

    ExprType(String text) {
        this.text = text;
    }

    /** The value type of {@code e}, whose parts the parser has already checked. */
    static ExprType of(Expr e) {
        if (e instanceof Expr.NumberLiteral) {
            return SCALAR;
        } else if (e instanceof Expr.StringLiteral) {
            return STRING;
        } else if (e instanceof Expr.MatrixSelector) {
            return MATRIX;
        } else if (e instanceof Expr.Negation n) {
            return of(n.expr());
        } else if (e instanceof Expr.Binary b) {
            return of(b.lhs()) == SCALAR && of(b.rhs()) == SCALAR ? SCALAR : VECTOR;
        }
        return VECTOR;
    }
}
