package dev.meterline.aggregate;

/**
 * A shard's emptied {@link OlderWindow}s, kept for the windows its series open before their older ones closed. At a
 * window boundary, each series reporting early in the window opens its newer window while the older one waits out
 * the lateness; at a million series that is an older window for half of them every window, which, made afresh, would
 * live just long enough (up to the lateness) for a young collection to copy them all. Kept here they are made once
 * and stay in the old generation, where no young collection copies them.
 *
 * <p>Bounded by the caller, who gives the most worth keeping (a shard: one per series it holds, the most its series
 * can need at one boundary), and trims when that falls. Owned by its shard's thread.
 */
final class SpareWindows {

    /** The spares, linked through {@link OlderWindow#next}. */
    private OlderWindow first;
    private int size;

    /** An empty older window: a spare, else a new one. */
    OlderWindow take() {
        OlderWindow w = first;
        if (w == null) {
            return new OlderWindow();
        }
        first = w.next;
        w.next = null;
        size--;
        return w;
    }

    /**
     * Keeps {@code w}, closed and emptied (as {@link ClosedWindows#take} leaves it), unless {@code most} are kept
     * already; the caller drops it either way.
     */
    void give(OlderWindow w, int most) {
        if (w.count() != 0) {
            throw new IllegalStateException("a spare window that holds values: " + w);
        }
        if (size < most) {
            w.next = first;
            first = w;
            size++;
        }
    }

    /** Drops spares until at most {@code most} are kept. */
    void trim(int most) {
        while (size > most) {
            OlderWindow w = first;
            first = w.next;
            w.next = null;
            size--;
        }
    }

    int size() {
        return size;
    }
}
