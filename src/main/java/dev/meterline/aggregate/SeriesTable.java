package dev.meterline.aggregate;

import dev.meterline.model.SeriesKey;

/**
 * One shard's series states by key: open addressing with linear probing over two parallel arrays, each slot's key
 * hash (an {@code int}) and its state, which holds the key. A series is found by hash first and then by its state's
 * key instance, which is the very instance a point brings while the decoding thread's key cache hands out one per
 * series; another instance of the same series is compared by content and on the point path takes the state's key
 * when a key cache holds it ({@link SeriesKey#held}), so that the instance the cache now hands out is a reference
 * hit from its next point on. An instance no cache holds (built for its line alone, as nearly every line's is when
 * the series outnumber what the caches hold) is left to die young: storing it would make an old state point at a
 * young key on each such point, which every young collection then scans. The table itself keeps no
 * key, so a new instance costs one store (into the state) rather than two, and removal, growth and shrinking read
 * hashes only, never a key. Removal shifts the entries after it back (no tombstones); the table doubles when it is
 * three quarters full and halves when it is an eighth full. Owned by its shard's thread.
 */
final class SeriesTable {

    static final int INITIAL_CAPACITY = 64;

    /** The hash of each slot's key; meaningful only where {@link #states} holds a state. */
    private int[] hashes = new int[INITIAL_CAPACITY];
    /** Each slot's state; null is an empty slot. */
    private SeriesState[] states = new SeriesState[INITIAL_CAPACITY];
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
        return i < 0 ? null : states[i];
    }

    /**
     * The state of {@code key}'s series, or null; when found through another instance that a key cache holds,
     * {@code key} becomes the state's key, so that the next point of the instance the cache now hands out is a
     * reference hit again. For the point path: a query's keys go through {@link #get}.
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
        SeriesState s = states[i];
        if (s.key != key && key.held()) {
            s.key = key;
        }
        return s;
    }

    /**
     * Reads the home slot of the series whose hash is {@code hash} and returns something of it; changes nothing.
     * Called a few points ahead of their look-ups, so that the slot's cache misses overlap the work in between.
     */
    int touchHome(int hash) {
        int i = hash & mask;
        int stored = hashes[i];
        return states[i] == null ? 0 : stored == hash ? 1 : 2;
    }

    /**
     * Reads the state in the home slot of {@code key}'s series and its newest window when that slot holds a key of
     * the same hash (most likely the series', whichever instance), and returns something of them; changes nothing.
     * When the state's key is another instance than {@code key}, that key's object is read too: the look-up then
     * compares it by content. Called after {@link #touchHome}, a few points ahead of the look-up.
     */
    long touchState(SeriesKey key, int hash) {
        int i = hash & mask;
        SeriesState s = states[i];
        if (s == null || hashes[i] != hash) {
            return 0;
        }
        long sum = s.touch();
        SeriesKey stored = s.key;
        return stored == key ? sum : sum + stored.hashCode();
    }

    /** The slot of {@code key}'s series, whose hash is {@code hash}, or -1. */
    private int slotOf(SeriesKey key, int hash) {
        int[] h = hashes;
        SeriesState[] t = states;
        int m = mask;
        int home = hash & m;
        // By reference first: this pass reads no key's content.
        for (int i = home; ; i = (i + 1) & m) {
            SeriesState s = t[i];
            if (s == null) {
                break;
            }
            if (h[i] == hash && s.key == key) {
                return i;
            }
        }
        for (int i = home; ; i = (i + 1) & m) {
            SeriesState s = t[i];
            if (s == null) {
                return -1;
            }
            if (h[i] == hash && key.equals(s.key)) {
                return i;
            }
        }
    }

    /** Adds the series of {@code s.key}, which must not be in the table yet. */
    void add(SeriesState s) {
        add(s, s.key.hashCode());
    }

    /** {@link #add(SeriesState)} with the key's hash known, so that the key is not read again. */
    void add(SeriesState s, int hash) {
        if (size + 1 > (mask + 1) - ((mask + 1) >>> 2)) {
            resize(2 * (mask + 1));
        }
        insert(hashes, states, mask, hash, s);
        size++;
    }

    /** Removes {@code s} itself; nothing when it is not in the table (another state of an equal key included). */
    void remove(SeriesState s) {
        int[] h = hashes;
        SeriesState[] t = states;
        int m = mask;
        int i = s.key.hashCode() & m;
        while (t[i] != s) {
            if (t[i] == null) {
                return;
            }
            i = (i + 1) & m;
        }
        // Backward shift: move up each later entry of the run whose home does not lie in (i, j].
        for (int j = (i + 1) & m; t[j] != null; j = (j + 1) & m) {
            int home = h[j] & m;
            if (((j - home) & m) >= ((j - i) & m)) {
                h[i] = h[j];
                t[i] = t[j];
                i = j;
            }
        }
        t[i] = null;
        size--;
        if (size < (mask + 1) >>> 3 && mask + 1 > INITIAL_CAPACITY) {
            resize((mask + 1) >>> 1);
        }
    }

    private void resize(int capacity) {
        int[] oldHashes = hashes;
        SeriesState[] old = states;
        int m = capacity - 1;
        int[] h = new int[capacity];
        SeriesState[] t = new SeriesState[capacity];
        for (int i = 0; i < old.length; i++) {
            if (old[i] != null) {
                insert(h, t, m, oldHashes[i], old[i]);
            }
        }
        hashes = h;
        states = t;
        mask = m;
    }

    private static void insert(int[] h, SeriesState[] t, int m, int hash, SeriesState state) {
        int i = hash & m;
        while (t[i] != null) {
            i = (i + 1) & m;
        }
        h[i] = hash;
        t[i] = state;
    }
}
