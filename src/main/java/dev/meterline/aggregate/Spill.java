package dev.meterline.aggregate;

import dev.meterline.model.Window;
import reactor.core.publisher.Mono;

import java.util.List;
import java.util.function.Function;

/**
 * A bounded place on disk where windows wait for storage once memory holds its bound; windows keep their flush
 * numbers there, so moving them to storage is idempotent.
 */
public interface Spill {

    /** No spill at all: always full, never holds anything. */
    Spill NONE = new Spill() {
        @Override
        public boolean full() {
            return true;
        }

        @Override
        public long windows() {
            return 0;
        }

        @Override
        public Mono<Void> put(List<Window> windows) {
            return Mono.error(new IllegalStateException("no spool configured"));
        }

        @Override
        public Mono<Integer> moveOldest(int max, Function<List<Window>, Mono<Void>> writer) {
            return Mono.just(0);
        }
    };

    /** True when nothing more may be put. */
    boolean full();

    /** Windows held. */
    long windows();

    /** Adds windows (one transaction). */
    Mono<Void> put(List<Window> windows);

    /** Writes up to {@code max} of the oldest held windows with {@code writer}, then removes them; emits how many. */
    Mono<Integer> moveOldest(int max, Function<List<Window>, Mono<Void>> writer);
}
