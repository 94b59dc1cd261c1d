package dev.meterline.config;

import java.time.Duration;

/**
 * Process lifecycle: the graceful-shutdown budget, the stats log interval (zero turns the log off) and the nice value
 * (0 to {@value #MAX_NICE}) the threads that take in and store points run at (zero leaves them at the default).
 */
public record LifecycleConfig(Duration shutdownTimeout, Duration statsInterval, int ingestNice) {

    /** The lowest scheduling priority Linux has. */
    public static final int MAX_NICE = 19;
}
