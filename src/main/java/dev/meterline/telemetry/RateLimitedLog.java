package dev.meterline.telemetry;

import org.slf4j.Logger;

import java.util.concurrent.atomic.AtomicLong;

/** Logs an unexpected failure at most once per interval, with how many were suppressed since the last line. */
public final class RateLimitedLog {

    private final Logger log;
    private final long intervalMs;
    private final AtomicLong nextAt = new AtomicLong();
    private final AtomicLong suppressed = new AtomicLong();

    public RateLimitedLog(Logger log, long intervalMs) {
        this.log = log;
        this.intervalMs = intervalMs;
    }

    public void warn(String context, Throwable error) {
        long now = System.currentTimeMillis();
        long at = nextAt.get();
        if (now >= at && nextAt.compareAndSet(at, now + intervalMs)) {
            long skipped = suppressed.getAndSet(0);
            log.warn("{} ({} similar failures suppressed since the last report)", context, skipped, error);
        } else {
            suppressed.incrementAndGet();
        }
    }
}
