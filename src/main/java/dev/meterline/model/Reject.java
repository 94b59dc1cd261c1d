package dev.meterline.model;

/** A rejected input line, with the message the client is sent. */
public record Reject(int line, RejectReason reason, String message) {

    public static Reject of(int line, RejectReason reason) {
        return new Reject(line, reason, reason.message());
    }
}
