package dev.meterline.aggregate;

/** Whether writes to storage are failing, and the last failure's message, for readiness and stats. */
public final class StorageHealth {

    private volatile String lastFailure;

    void failed(Throwable e) {
        String m = e.getMessage();
        lastFailure = (m == null ? e.getClass().getSimpleName() : m).replaceAll("\\s*\\R\\s*", " ").strip();
    }

    void recovered() {
        lastFailure = null;
    }

    /** True from a failed write until the next write succeeds. */
    public boolean failing() {
        return lastFailure != null;
    }

    /** The last failure's one-line message, or null while storage is healthy. */
    public String lastFailure() {
        return lastFailure;
    }
}
