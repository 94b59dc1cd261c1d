package dev.meterline.aggregate;

import dev.meterline.model.SeriesKey;
import dev.meterline.model.Window;
import reactor.core.publisher.Mono;

import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The read-only view of the closed windows not yet committed to storage, for queries, readiness and the flush loop;
 * a window is visible in exactly one place at any time (memory, pending, or the store).
 */
public interface PendingWindows {

    /**
     * How many flushes have left pending so far (stored, or moved to the spool). A query that read the store while
     * this count stayed the same knows that no flush moved from pending to the store under its read.
     */
    long departures();

    /**
     * Null when no pending flush is being prepared for queries; else completes when the preparations that run now
     * end. A query that waits for it before its view reads what they build instead of building it again beside them
     * (a pending flush not yet being prepared is left to the query: its preparation is called off).
     */
    Mono<Void> preparing();

    /** A point-in-time view of the pending flushes, by flush number. */
    Map<Long, List<Window>> view();

    /**
     * As {@link #view()}, with only the windows of {@code metric}: every pending flush number is there, with no
     * windows when the flush holds none of the metric. A query of one metric reads this rather than every pending
     * window (a million of them while a million series' flush is stored).
     */
    Map<Long, List<Window>> view(String metric);

    /**
     * As {@link #view(String)}, narrowed by the values a query names: when some key of {@code byKey} has values, the
     * windows of each flush whose series may have one of that key's values, a superset of those that have them (the
     * caller tests each window it keeps), in the flush's order. A flush finds them through an index of its windows of
     * the metric by the key's values, which the first query naming the key builds (a pass over the metric's windows,
     * as a query without it makes every time); a flush keeps a few such indexes, and gives every window of the metric
     * past them or when it holds few.
     */
    Map<Long, List<Window>> view(String metric, Map<String, List<String>> byKey);

    /** The metrics with windows waiting to be stored. */
    Set<String> metrics();

    /** Windows waiting to be stored. */
    int windows();

    /**
     * One series of each distinct metric and set of tag keys among the windows waiting to be stored, as
     * {@link dev.meterline.model.TagKeySets} finds them; each flush's are found once, by the first query that asks.
     */
    List<SeriesKey> tagKeySets();
}
