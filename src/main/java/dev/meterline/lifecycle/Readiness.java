package dev.meterline.lifecycle;

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

    public State state() {
        return state;
    }

    public boolean ready() {
        return state == State.READY;
    }

    public void set(State next) {
        state = next;
    }
}
