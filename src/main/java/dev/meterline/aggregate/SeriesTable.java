package dev.meterline.aggregate;

import dev.meterline.model.SeriesKey;

/**
 * One shard's series states by key: open addressing with linear probing over one array that holds each key beside
 * its state, so that finding a series reads one cache line of the table when the key is the very instance stored
 * (each decoding thread's key cache hands out one instance per series). Another instance of the same series is found
 * by hash and content, and on the point path takes the stored one's place. Removal shifts the entries after it back
 * (no tombstones); the table doubles when it is three quarters full and halves when it is an eighth full. Owned by
 * its shard's thread.
 */
final class SeriesTable {

    static final int INITIAL_CAPACITY = 64;

    /** Key at {@code 2i}, its state at {@code 2i + 1}; a null key is an empty slot. */
    private Object[] slots = new Object[2 * INITIAL_CAPACITY];
    private int mask = INITIAL_CAPACITY - 1;
    private int size;

    int size() {
        return size;
    }

    /** Slots, for tests. */
    int capacity() {
        return mask + 1;
    }

    /** The state of {@code key}'s series, or null. */
    SeriesState get(SeriesKey key) {
        int i = slotOf(key, key.hashCode());
        return i < 0 ? null : (SeriesState) slots[2 * i + 1];
    }

    /**
     * The state of {@code key}'s series, or null; when found through another instance, {@code key} takes its place
     * (in the table and as the state's key), so that the next point of the instance a decoder's cache now hands out
     * is a reference hit again. For the point path: a query's keys go through {@link #get}.
     */
    SeriesState find(SeriesKey key) {
        return find(key, key.hashCode());
    }

    /** {@link #find(SeriesKey)} with the key's hash known, so that a reference hit reads no field of the key. */
    SeriesState find(SeriesKey key, int hash) {
        int i = slotOf(key, hash);
        if (i < 0) {
            return null;
        }
        SeriesState s = (SeriesState) slots[2 * i + 1];
        if (slots[2 * i] != key) {
            slots[2 * i] = key;
            s.key = key;
        }
        return s;
    }

    /**
     * Reads the home slot of the series whose hash is {@code hash} and returns something of it; changes nothing.
     * Called a few points ahead of their look-ups, so that the slot's cache miss overlaps the work in between.
     */
    int touchHome(int hash) {
        Object k = slots[2 * (hash & mask)];
        return k == null ? 0 : 1;
    }

    /**
     * Reads the state of {@code key}'s series and its newest window when that very instance sits in its home slot,
     * and returns something of them; changes nothing. Called after {@link #touchHome}, a few points ahead of the
     * look-up.
     */
    long touchState(SeriesKey key, int hash) {
        int i = 2 * (hash & mask);
        Object[] t = slots;
        if (t[i] != key) {
            return 0;
        }
        return ((SeriesState) t[i + 1]).touch();
    }

    /** The slot of {@code key}'s series, whose hash is {@code hash}, or -1. */
    private int slotOf(SeriesKey key, int hash) {
        Object[] t = slots;
        int m = mask;
        int home = hash & m;
        // By reference first: this pass reads the table and nothing else.
        for (int i = home; ; i = (i + 1) & m) {
            Object k = t[2 * i];
            if (k == key) {
                return i;
            }
            if (k == null) {
                break;
            }
        }
        for (int i = home; ; i = (i + 1) & m) {
            Object k = t[2 * i];
            if (k == null) {
                return -1;
            }
            if (key.equals(k)) {
                return i;
            }
        }
    }

    /** Adds the series of {@code s.key}, which must not be in the table yet. */
    void add(SeriesState s) {
        if (size + 1 > (mask + 1) - ((mask + 1) >>> 2)) {
            resize(2 * (mask + 1));
        }
        insert(slots, mask, s.key, s);
        size++;
    }

    /** Removes the series of {@code s}, found by its own key instance; nothing when it is not in the table. */
    void remove(SeriesState s) {
        Object[] t = slots;
        int m = mask;
        int i = s.key.hashCode() & m;
        while (t[2 * i] != s.key) {
            if (t[2 * i] == null) {
                return;
            }
            i = (i + 1) & m;
        }
        // Backward shift: move up each later entry of the run whose home does not lie in (i, j].
        for (int j = (i + 1) & m; t[2 * j] != null; j = (j + 1) & m) {
            int home = t[2 * j].hashCode() & m;
            if (((j - home) & m) >= ((j - i) & m)) {
                t[2 * i] = t[2 * j];
                t[2 * i + 1] = t[2 * j + 1];
                i = j;
            }
        }
        t[2 * i] = null;
        t[2 * i + 1] = null;
        size--;
        if (size < (mask + 1) >>> 3 && mask + 1 > INITIAL_CAPACITY) {
            resize((mask + 1) >>> 1);
        }
    }

    private void resize(int capacity) {
        Object[] old = slots;
        int m = capacity - 1;
        Object[] t = new Object[2 * (m + 1)];
        for (int i = 0; i < old.length; i += 2) {
            if (old[i] != null) {
                insert(t, m, old[i], old[i + 1]);
            }
        }
        slots = t;
        mask = m;
    }

    private static void insert(Object[] t, int m, Object key, Object state) {
        int i = key.hashCode() & m;
        while (t[2 * i] != null) {
            i = (i + 1) & m;
        }
        t[2 * i] = key;
        t[2 * i + 1] = state;
    }
}
