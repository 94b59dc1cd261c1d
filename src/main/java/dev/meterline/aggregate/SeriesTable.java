package dev.meterline.aggregate;

import dev.meterline.model.SeriesKey;

/**
 * One shard's series states by key: open addressing with linear probing over one array that holds each key beside
 * its state, and an array of the keys' hashes beside it. A probe reads the hashes and, where one is equal, the slot:
 * the key itself is read only when it is not the very instance stored (each decoding thread's key cache hands out
 * one instance per series) and its hash is equal, so a series met for the first time, or met again through a key
 * built anew, costs no read of the other keys in its run. Another instance of the same series is found by hash and
 * content, and on the point path takes the stored one's place. Removal shifts the entries after it back (no
 * tombstones); the table doubles when it is three quarters full and halves when it is an eighth full, rehashing from
 * the stored hashes without reading a key. Owned by its shard's thread.
 */
final class SeriesTable {

    static final int INITIAL_CAPACITY = 64;

    /** Key at {@code 2i}, its state at {@code 2i + 1}; a null key is an empty slot. */
    private Object[] slots = new Object[2 * INITIAL_CAPACITY];
    /** Per slot: the key's hash as {@link #stored} gives it; 0 for an empty slot. */
    private int[] hashes = new int[INITIAL_CAPACITY];
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

    /** A hash as the table keeps it and probes from: never 0, which marks an empty slot. */
    private static int stored(int hash) {
        return hash == 0 ? 1 : hash;
    }

    /** The slot of {@code key}'s series, whose hash is {@code hash}, or -1. */
    private int slotOf(SeriesKey key, int hash) {
        int[] h = hashes;
        Object[] t = slots;
        int m = mask;
        int want = stored(hash);
        for (int i = want & m; ; i = (i + 1) & m) {
            int at = h[i];
            if (at == 0) {
                return -1;
            }
            if (at == want) {
                Object k = t[2 * i];
                // One series has one slot, so the first key that is this instance or equal to it is the series'.
                if (k == key || key.equals(k)) {
                    return i;
                }
            }
        }
    }

    /** Adds the series of {@code s.key}, which must not be in the table yet. */
    void add(SeriesState s) {
        if (size + 1 > (mask + 1) - ((mask + 1) >>> 2)) {
            resize(2 * (mask + 1));
        }
        insert(slots, hashes, mask, stored(s.key.hashCode()), s.key, s);
        size++;
    }

    /** Removes the series of {@code s}, found by its own key instance; nothing when it is not in the table. */
    void remove(SeriesState s) {
        Object[] t = slots;
        int[] h = hashes;
        int m = mask;
        int i = stored(s.key.hashCode()) & m;
        while (t[2 * i] != s.key) {
            if (h[i] == 0) {
                return;
            }
            i = (i + 1) & m;
        }
        // Backward shift: move up each later entry of the run whose home does not lie in (i, j].
        for (int j = (i + 1) & m; h[j] != 0; j = (j + 1) & m) {
            int home = h[j] & m;
            if (((j - home) & m) >= ((j - i) & m)) {
                t[2 * i] = t[2 * j];
                t[2 * i + 1] = t[2 * j + 1];
                h[i] = h[j];
                i = j;
            }
        }
        t[2 * i] = null;
        t[2 * i + 1] = null;
        h[i] = 0;
        size--;
        if (size < (mask + 1) >>> 3 && mask + 1 > INITIAL_CAPACITY) {
            resize((mask + 1) >>> 1);
        }
    }

    private void resize(int capacity) {
        Object[] old = slots;
        int[] oldHashes = hashes;
        int m = capacity - 1;
        Object[] t = new Object[2 * (m + 1)];
        int[] h = new int[m + 1];
        for (int i = 0; i < oldHashes.length; i++) {
            if (oldHashes[i] != 0) {
                insert(t, h, m, oldHashes[i], old[2 * i], old[2 * i + 1]);
            }
        }
        slots = t;
        hashes = h;
        mask = m;
    }

    /** Puts an entry whose stored hash is {@code hash} into the first free slot of its run. */
    private static void insert(Object[] t, int[] h, int m, int hash, Object key, Object state) {
        int i = hash & m;
        while (h[i] != 0) {
            i = (i + 1) & m;
        }
        t[2 * i] = key;
        t[2 * i + 1] = state;
        h[i] = hash;
    }
}
