package dev.meterline.query;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The newest window start the store held per metric, valid while no flush has left pending since it was read: a
 * query whose range starts after it finds nothing in the store, so it need not read the store.
 *
 * <p>Rows reach the store only through flushes that stay pending until they have been committed, and leave pending
 * counted ({@code departures}). A newest start read after the count showed {@code d} covers every flush counted in
 * {@code d}; a flush committed later is either still pending (the query takes it from there) or counted in a larger
 * {@code d}, which makes what was learnt at {@code d} void.
 */
final class StoreHorizons {

    /** Metrics remembered at one departure count; beyond them a query reads the store as if nothing were known. */
    static final int MAX_METRICS = 1_024;

    private record Known(long departures, ConcurrentHashMap<String, Long> newest) {
    }

    private final AtomicReference<Known> known = new AtomicReference<>(new Known(-1, new ConcurrentHashMap<>()));

    /**
     * True when the store held no row of {@code metric} starting at or after {@code from} as of {@code departures},
     * the departure count the caller read before anything else of its query.
     */
    boolean holdsNothingFrom(String metric, long from, long departures) {
        Known k = known.get();
        if (k.departures != departures) {
            return false;
        }
        Long newest = k.newest.get(metric);
        return newest != null && newest < from;
    }

    /** Records {@code newest}, read from the store after the departure count showed {@code departures}. */
    void learn(String metric, long departures, long newest) {
        while (true) {
            Known k = known.get();
            if (departures < k.departures) {
                return;
            }
            if (departures == k.departures) {
                if (k.newest.size() < MAX_METRICS || k.newest.containsKey(metric)) {
                    k.newest.put(metric, newest);
                }
                return;
            }
            ConcurrentHashMap<String, Long> fresh = new ConcurrentHashMap<>();
            fresh.put(metric, newest);
            if (known.compareAndSet(k, new Known(departures, fresh))) {
                return;
            }
        }
    }

    /** How many metrics are remembered now. */
    int size() {
        return known.get().newest.size();
    }
}
