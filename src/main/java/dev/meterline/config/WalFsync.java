package dev.meterline.config;

/** When the write-ahead log is fsynced, and so what an acknowledgement promises. */
public enum WalFsync {
    /** Written with write(2) before the acknowledgement, fsynced at most a second later: a process crash loses nothing. */
    INTERVAL,
    /** Fsynced before the acknowledgement, one fsync shared by every client waiting at that moment. */
    ALWAYS,
    /** No log: an acknowledgement means aggregated in memory, and a crash loses the open windows. */
    OFF
}
