package dev.meterline.aggregate;

/**
 * The series of a shard that left lately (their last open window closed), in the order they left: each stays in the
 * shard's table with its state and number, with no window, until it comes back or a close finds it here past its
 * time. A series reporting once a window, late in each, leaves at every flush of its window and comes back before its
 * next one closes: it then finds its state where it was, under the same number, so the log writer's reference for it
 * still holds and nothing of it is built, inserted or removed again.
 *
 * <p>An entry is the state, the start of the window it left with and the cutoff of the close it left at. A series
 * that came back (and perhaps left again, with a later window) leaves its old entry behind: an entry counts only while
 * its state still has no window, is still in the table and last left with that window ({@link #current}). Entries
 * sit in a ring that doubles when full and shrinks when under an eighth is used. Owned by its shard's thread.
 */
final class Lingering {

    static final int INITIAL_CAPACITY = 16;

    private SeriesState[] states = new SeriesState[INITIAL_CAPACITY];
    private long[] starts = new long[INITIAL_CAPACITY];
    private long[] leftAt = new long[INITIAL_CAPACITY];
    /** The ring place of the oldest entry, and how many places from it are taken (entries left behind included). */
    private int head;
    private int used;

    /** Ring places, for tests. */
    int capacity() {
        return states.length;
    }

    /** Entries, those left behind included, for tests. */
    int entries() {
        return used;
    }

    /** Adds {@code s}, which left with its window at {@code start} at the close of {@code cutoff}. */
    void add(SeriesState s, long start, long cutoff) {
        if (used == states.length) {
            resize(2 * states.length);
        }
        int place = (head + used) & (states.length - 1);
        states[place] = s;
        starts[place] = start;
        leftAt[place] = cutoff;
        used++;
    }

    /**
     * Removes entries from the oldest on while they left at or before the close of {@code cutoff}, and returns the
     * state of the first that still lingers; null when none such is left.
     */
    SeriesState poll(long cutoff) {
        SeriesState found = null;
        while (used > 0 && found == null && leftAt[head] <= cutoff) {
            SeriesState s = states[head];
            if (current(s, starts[head])) {
                found = s;
            }
            states[head] = null;
            head = (head + 1) & (states.length - 1);
            used--;
        }
        int capacity = states.length;
        while (used < capacity >>> 3 && capacity > INITIAL_CAPACITY) {
            capacity >>>= 1;
        }
        if (capacity != states.length) {
            resize(capacity);
        }
        return found;
    }

    /** True while {@code s} lingers after leaving with its window at {@code start}. */
    private static boolean current(SeriesState s, long start) {
        return s.n == 0 && s.live() && s.lastStart() == start;
    }

    private void resize(int capacity) {
        SeriesState[] st = new SeriesState[capacity];
        long[] sa = new long[capacity];
        long[] at = new long[capacity];
        for (int j = 0; j < used; j++) {
            int place = (head + j) & (states.length - 1);
            st[j] = states[place];
            sa[j] = starts[place];
            at[j] = leftAt[place];
        }
        states = st;
        starts = sa;
        leftAt = at;
        head = 0;
    }
}
