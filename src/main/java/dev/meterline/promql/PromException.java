package dev.meterline.promql;

/** A failed query with the error type Prometheus's HTTP API reports it under and the status that goes with it. */
public final class PromException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /** Prometheus's error types used here, with their HTTP statuses. */
    public enum Type {
        BAD_DATA("bad_data", 400), EXECUTION("execution", 422), TIMEOUT("timeout", 503), UNAVAILABLE("unavailable", 503),
        INTERNAL("internal", 500);

        final String wire;
        final int status;

        Type(String wire, int status) {
            this.wire = wire;
            this.status = status;
        }
    }

    private final Type type;

    PromException(Type type, String message) {
        super(message, null, false, false);
        this.type = type;
    }

    static PromException badData(String message) {
        return new PromException(Type.BAD_DATA, message);
    }

    static PromException execution(String message) {
        return new PromException(Type.EXECUTION, message);
    }

    /** A query that does not parse, reported against the {@code query} parameter with its position. */
    static PromException badQuery(ParseException e) {
        return badData("invalid parameter \"query\": " + e.positioned());
    }

    /** A valid PromQL feature this server does not evaluate. */
    static PromException unsupported(String feature) {
        return badData(feature + " is not supported by Meterline's PromQL subset (see docs/prometheus.md)");
    }

    Type type() {
        return type;
    }
}
