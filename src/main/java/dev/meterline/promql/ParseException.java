package dev.meterline.promql;

/** A PromQL syntax error at a line and column of the query (both from 1), worded as Prometheus words them. */
final class ParseException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final int line;
    private final int column;

    ParseException(String query, int offset, String message) {
        super(message, null, false, false);
        int l = 1;
        int c = 1;
        for (int i = 0; i < Math.min(offset, query.length()); i++) {
            if (query.charAt(i) == '\n') {
                l++;
                c = 1;
            } else {
                c++;
            }
        }
        this.line = l;
        this.column = c;
    }

    int line() {
        return line;
    }

    int column() {
        return column;
    }

    /** {@code 1:5: parse error: unexpected …}, as Prometheus prints it. */
    String positioned() {
        return line + ":" + column + ": parse error: " + getMessage();
    }
}
