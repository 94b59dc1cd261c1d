package dev.meterline.aggregate;

import dev.meterline.model.Aggregate;

/**
 * An open window of a series other than its newest: its aggregate, its start, and the series' next older window, so
 * that a series' older windows are a chain of these and nothing else. Emptied when it closes, it goes back to its
 * shard's {@link SpareWindows} for the next series that opens a window before its older one closed.
 */
final class OlderWindow extends Aggregate {
    long start;
    /** The next older window of the same series, or, while spare, the next spare; null for none. */
    OlderWindow next;
}
