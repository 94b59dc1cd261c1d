package dev.meterline.config;

import java.time.Duration;

/** Process lifecycle: the graceful-shutdown budget and the stats log interval (zero turns the log off). */
public record LifecycleConfig(Duration shutdownTimeout, Duration statsInterval) {
}
