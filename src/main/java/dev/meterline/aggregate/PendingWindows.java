package dev.meterline.aggregate;

import dev.meterline.model.Window;

import java.util.List;
import java.util.Map;

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

    /** A point-in-time view of the pending flushes, by flush number. */
    Map<Long, List<Window>> view();

    /** Windows waiting to be stored. */
    int windows();
}
