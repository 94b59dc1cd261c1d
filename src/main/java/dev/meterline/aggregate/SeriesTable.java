package dev.meterline.aggregate;

import dev.meterline.model.SeriesKey;

import java.util.Arrays;

/**
 * One shard's series states by key: open addressing with linear probing over slots of two {@code int}s each, the
 * key's hash and where its state is, with the states themselves in a dense list of chunks, in the order the series
 * came. A new series thus stores its (young) state next to the one before it, in a chunk that is itself young while
 * it fills, rather than at a random slot of a large old array: there each new series would dirty a card of its own,
 * which every young collection then scans (about half of a capped young pause at a million series). The slots hold
 * no references at all, so probing, removal, growth and shrinking read no state and dirty no card. A series leaves
 * the list by a swap with the last one, whose slot then points at its new place.
 *
 * <p>A series is found by hash first and then by its state's key instance, which is the very instance a point brings
 * while the decoding thread's key cache hands out one per series; another instance of the same series is compared
 * by content and on the point path takes the state's key when a key cache holds it ({@link SeriesKey#held}), so that
 * the instance the cache now hands out is a reference hit from its next point on. An instance no cache holds (built
 * for its line alone, as nearly every line's is when the series outnumber what the caches hold) is left to die
 * young: storing it would make an old state point at a young key on each such point, which every young collection
 * then scans. Removal shifts the slots after it back (no tombstones); the slots double when three quarters are used
 * and halve when an eighth are. Owned by its shard's thread.
 */
final class SeriesTable {

    static final int INITIAL_CAPACITY = 64;
    /** States per chunk of the list: 4 KiB of references, filled within a few thousand new series of a shard. */
    static final int CHUNK = 1024;
    private static final int CHUNK_SHIFT = Integer.numberOfTrailingZeros(CHUNK);

    /**
     * Per slot {@code i}: at {@code 2i} the hash of its key, at {@code 2i + 1} one more than its state's place in
     * the list; 0 there is an empty slot. A look-up's probe reads one array, a cache line for both.
     */
    private int[] slots = new int[2 * INITIAL_CAPACITY];
    private int mask = INITIAL_CAPACITY - 1;
    /** The states, place {@code p} at {@code chunks[p / CHUNK][p % CHUNK]}; the first {@link #size} are live. */
    private SeriesState[][] chunks = new SeriesState[4][];
    private int size;

    int size() {
        return size;
    }

    /** Slots, for tests. */
    int capacity() {
        return mask + 1;
    }

    /** Chunks of the list that exist, for tests: one past those the live states fill at most. */
    int chunkCount() {
        int c = 0;
        while (c < chunks.length && chunks[c] != null) {
            c++;
        }
        return c;
    }

    /** The state of {@code key}'s series, or null. */
    SeriesState get(SeriesKey key) {
        int i = slotOf(key, key.hashCode());
        return i < 0 ? null : stateIn(i);
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
        SeriesState s = stateIn(i);
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
        int i = 2 * (hash & mask);
        int[] t = slots;
        int stored = t[i];
        return t[i + 1] == 0 ? 0 : stored == hash ? 1 : 2;
    }

    /**
     * Reads the list's entry for the home slot of the series whose hash is {@code hash}, when that slot holds a key
     * of the same hash, and returns something of it; changes nothing. Called after {@link #touchHome} (whose slot
     * it needs) and before {@link #touchState} (which needs the entry), a few points ahead of the look-up.
     */
    int touchEntry(int hash) {
        int place = homePlace(hash);
        return place == 0 || state(place - 1) == null ? 0 : 1;
    }

    /**
     * Reads the state in the home slot of {@code key}'s series and its newest window when that slot holds a key of
     * the same hash (most likely the series', whichever instance), and returns something of them; changes nothing.
     * When the state's key is another instance than {@code key}, that key's object is read too: the look-up then
     * compares it by content. Called after {@link #touchEntry}, a few points ahead of the look-up.
     */
    long touchState(SeriesKey key, int hash) {
        int place = homePlace(hash);
        if (place == 0) {
            return 0;
        }
        SeriesState s = state(place - 1);
        long sum = s.touch();
        SeriesKey stored = s.key;
        return stored == key ? sum : sum + stored.hashCode();
    }

    /** One more than the list place of the home slot's state when that slot holds a key of {@code hash}; else 0. */
    private int homePlace(int hash) {
        int i = 2 * (hash & mask);
        int[] t = slots;
        int place = t[i + 1];
        return place != 0 && t[i] == hash ? place : 0;
    }

    /** The slot of {@code key}'s series, whose hash is {@code hash}, or -1. */
    private int slotOf(SeriesKey key, int hash) {
        int[] t = slots;
        int m = mask;
        int home = hash & m;
        // By reference first: this pass reads no key's content.
        for (int i = home; ; i = (i + 1) & m) {
            int place = t[2 * i + 1];
            if (place == 0) {
                break;
            }
            if (t[2 * i] == hash && state(place - 1).key == key) {
                return i;
            }
        }
        for (int i = home; ; i = (i + 1) & m) {
            int place = t[2 * i + 1];
            if (place == 0) {
                return -1;
            }
            if (t[2 * i] == hash && key.equals(state(place - 1).key)) {
                return i;
            }
        }
    }

    private SeriesState stateIn(int slot) {
        return state(slots[2 * slot + 1] - 1);
    }

    private SeriesState state(int place) {
        return chunks[place >>> CHUNK_SHIFT][place & (CHUNK - 1)];
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
        int place = size;
        int c = place >>> CHUNK_SHIFT;
        if (c == chunks.length) {
            chunks = Arrays.copyOf(chunks, 2 * c);
        }
        SeriesState[] chunk = chunks[c];
        if (chunk == null) {
            chunk = new SeriesState[CHUNK];
            chunks[c] = chunk;
        }
        chunk[place & (CHUNK - 1)] = s;
        insert(slots, mask, hash, place + 1);
        size++;
    }

    /** Removes {@code s} itself; nothing when it is not in the table (another state of an equal key included). */
    void remove(SeriesState s) {
        int[] t = slots;
        int m = mask;
        int hash = s.key.hashCode();
        int i = hash & m;
        while (true) {
            int place = t[2 * i + 1];
            if (place == 0) {
                return;
            }
            if (t[2 * i] == hash && state(place - 1) == s) {
                break;
            }
            i = (i + 1) & m;
        }
        int place = t[2 * i + 1] - 1;
        // Backward shift: move up each later slot of the run whose home does not lie in (i, j].
        for (int j = (i + 1) & m; t[2 * j + 1] != 0; j = (j + 1) & m) {
            int home = t[2 * j] & m;
            if (((j - home) & m) >= ((j - i) & m)) {
                t[2 * i] = t[2 * j];
                t[2 * i + 1] = t[2 * j + 1];
                i = j;
            }
        }
        t[2 * i] = 0;
        t[2 * i + 1] = 0;
        int last = --size;
        SeriesState moved = state(last);
        chunks[last >>> CHUNK_SHIFT][last & (CHUNK - 1)] = null;
        if (place != last) {
            chunks[place >>> CHUNK_SHIFT][place & (CHUNK - 1)] = moved;
            t[2 * slotAt(moved.key.hashCode(), last + 1) + 1] = place + 1;
        }
        // Keep one empty chunk past the last used one, so that a size going to and fro across a chunk's end does
        // not allocate a chunk each time.
        int beyondSpare = ((size + CHUNK - 1) >>> CHUNK_SHIFT) + 1;
        if (beyondSpare < chunks.length) {
            chunks[beyondSpare] = null;
        }
        if (size < (mask + 1) >>> 3 && mask + 1 > INITIAL_CAPACITY) {
            resize((mask + 1) >>> 1);
        }
    }

    /** The slot of the series whose hash is {@code hash} and whose slot holds {@code entry}, which must be there. */
    private int slotAt(int hash, int entry) {
        int[] t = slots;
        int m = mask;
        int i = hash & m;
        while (t[2 * i + 1] != entry) {
            i = (i + 1) & m;
        }
        return i;
    }

    private void resize(int capacity) {
        int[] old = slots;
        int m = capacity - 1;
        int[] t = new int[2 * capacity];
        for (int i = 0; i < old.length; i += 2) {
            if (old[i + 1] != 0) {
                insert(t, m, old[i], old[i + 1]);
            }
        }
        slots = t;
        mask = m;
    }

    private static void insert(int[] t, int m, int hash, int entry) {
        int i = hash & m;
        while (t[2 * i + 1] != 0) {
            i = (i + 1) & m;
        }
        t[2 * i] = hash;
        t[2 * i + 1] = entry;
    }
}
