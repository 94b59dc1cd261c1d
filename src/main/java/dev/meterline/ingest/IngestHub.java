package dev.meterline.ingest;

import dev.meterline.model.Batch;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Where every client's batch stream joins the pipeline: TCP connections and HTTP requests attach their streams,
 * and {@link #inbound()} merges them into the one inbound flux. Also tracks live sessions, so a shutdown can stop
 * taking new ones, wait for open ones to finish, and cut the rest at a deadline.
 */
public final class IngestHub {

    private final Sinks.Many<Flux<Batch>> sources = Sinks.many().unicast().onBackpressureBuffer();
    private final Sinks.Empty<Void> cut = Sinks.empty();
    private final Set<IngestSession> sessions = ConcurrentHashMap.newKeySet();
    private volatile boolean closed;

    /** Every attached stream, merged; completes after {@link #close()} once every attached stream completed. */
    public Flux<Batch> inbound() {
        return sources.asFlux().flatMap(s -> s, Integer.MAX_VALUE, 1);
    }

    /** Attaches one session's batches; false once the hub is closed. */
    synchronized boolean attach(IngestSession session, Flux<Batch> batches) {
        if (closed) {
            return false;
        }
        sessions.add(session);
        session.whenDone(() -> sessions.remove(session));
        // The last guard: one client's failing stream must never end the merged inbound flux.
        return sources.tryEmitNext(batches.onErrorResume(e -> Flux.empty())).isSuccess();
    }

    /** Signals when open sessions must stop reading (the drain deadline). */
    Mono<Void> cutSignal() {
        return cut.asMono();
    }

    public boolean closed() {
        return closed;
    }

    /** Refuses new sessions from now on. */
    public synchronized void stopAccepting() {
        closed = true;
    }

    public int activeSessions() {
        return sessions.size();
    }

    /**
     * Waits for open sessions to end by themselves for at most {@code grace}, then makes the rest stop reading and
     * waits for their batches to complete; finally completes the inbound flux.
     */
    public Mono<Void> drain(Duration grace) {
        return Mono.defer(() -> {
            stopAccepting();
            return whenAllDone().timeout(grace, Mono.defer(() -> {
                cut.tryEmitEmpty();
                return whenAllDone();
            }));
        }).doFinally(s -> close());
    }

    private Mono<Void> whenAllDone() {
        List<Mono<Void>> open = new ArrayList<>();
        for (IngestSession s : sessions) {
            open.add(s.done());
        }
        return Mono.when(open);
    }

    /** Completes the inbound flux once every attached stream has completed. */
    public synchronized void close() {
        closed = true;
        sources.tryEmitComplete();
    }
}
