package dev.meterline.lifecycle;

import org.slf4j.Logger;
import reactor.core.publisher.Mono;

import java.time.Duration;

/** Runs the steps of start-up and shutdown one after another, logging each step's duration. */
public final class Phases {

    private final Logger log;

    public Phases(Logger log) {
        this.log = log;
    }

    /** Wraps {@code step} so that its completion (or failure) is logged with how long it took. */
    public Mono<Void> step(String name, Mono<?> step) {
        return Mono.defer(() -> {
            long t0 = System.nanoTime();
            return step.then()
                    .doOnSuccess(v -> log.info("{} done in {} ms", name, Duration.ofNanos(System.nanoTime() - t0).toMillis()))
                    .doOnError(e -> log.error("{} failed after {} ms: {}", name,
                            Duration.ofNanos(System.nanoTime() - t0).toMillis(), e.toString()));
        });
    }
}
