package dev.meterline.config;

/** What ingest does when the bounded buffer is full. */
public enum Overflow {
    /** Stop reading from sockets until there is room: TCP flow control slows the senders, nothing is dropped. */
    BLOCK,
    /** Drop the points that do not fit, count them, and tell the client. */
    DROP
}
