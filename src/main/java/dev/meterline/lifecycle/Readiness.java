package dev.meterline.lifecycle;

import reactor.core.publisher.Flux;
import reactor.core.publisher.Sinks;

import java.util.Locale;

/** Whether the server should receive traffic: ready only between start-up and the first shutdown signal. */
public final class Readiness {

    /** The lifecycle states, in order. */
    public enum State {
        STARTING, READY, DRAINING, STOPPED;

        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    private volatile State state = State.STARTING;
    private final Sinks.Many<State> changes = Sinks.many().replay().latest();

    public Readiness() {
        changes.tryEmitNext(state);
    }

    public State state() {
        return state;
    }

    public boolean ready() {
        return state == State.READY;
    }

    public synchronized void set(State next) {
        state = next;
        changes.tryEmitNext(next);
    }

    /** The current state, then every change; for whoever waits for a phase of start-up or shutdown. */
    public Flux<State> changes() {
        return changes.asFlux();
    }
}
