package dev.meterline.store;

/** A store operation that failed; the message says which operation and why, and the cause is the driver's error. */
public final class StoreException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public StoreException(String message) {
        super(message);
    }

    public StoreException(String message, Throwable cause) {
        super(message, cause);
    }
}
