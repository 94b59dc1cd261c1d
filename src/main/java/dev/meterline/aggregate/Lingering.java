package dev.meterline.aggregate;

import dev.meterline.model.SeriesKey;

/**
 * The series that left a shard lately, each with the number it had there, by key and in the order they left. A series
 * whose last open window closed keeps its number here for a while, so that when its next point comes it is given the
 * same number back: the log writer's reference for that number is then still its own, and the series' record (its
 * metric and tags) is not written again within the segment. A series reporting once a window, in the later part of
 * each, leaves at every flush of its window and comes back before its next one closes.
 *
 * <p>Entries sit in a ring in the order they left, which is the order they expire; a series that comes back leaves a
 * hole there, dropped when it reaches the oldest end. Look-up is open addressing with linear probing over slots of two
 * {@code int}s, the key's hash and one more than its ring place (0: empty), with removal by backward shift. The ring
 * and the slots double when the ring is full and shrink to a half or less when under an eighth of it is used. Owned by its shard's thread.
 */
final class Lingering {

    static final int INITIAL_CAPACITY = 16;

    /** Per slot {@code i}: at {@code 2i} the hash of its key, at {@code 2i + 1} one more than its ring place. */
    private int[] slots = new int[4 * INITIAL_CAPACITY];
    private int slotMask = 2 * INITIAL_CAPACITY - 1;
    /** The ring: the key of each entry (null for a hole), its number, and the cutoff of the close it left at. */
    private SeriesKey[] keys = new SeriesKey[INITIAL_CAPACITY];
    private int[] numbers = new int[INITIAL_CAPACITY];
    private long[] leftAt = new long[INITIAL_CAPACITY];
    /** The ring place of the oldest entry, and how many places from it are taken (holes included). */
    private int head;
    private int used;
    /** Entries that are not holes. */
    private int size;

    /** Series lingering, holes not counted. */
    int size() {
        return size;
    }

    /** Ring places, for tests. */
    int capacity() {
        return keys.length;
    }

    /**
     * Adds {@code key}'s series, whose hash is {@code hash} and which must not be here yet, with its {@code number};
     * it left at the close of {@code cutoff}, no earlier than any entry here.
     */
    void add(SeriesKey key, int hash, int number, long cutoff) {
        if (used == keys.length) {
            // Full of holes, the ring is compacted in place rather than doubled.
            resize(size >= keys.length >>> 1 ? 2 * keys.length : keys.length);
        }
        int place = (head + used) & (keys.length - 1);
        keys[place] = key;
        numbers[place] = number;
        leftAt[place] = cutoff;
        used++;
        size++;
        int i = hash & slotMask;
        while (slots[2 * i + 1] != 0) {
            i = (i + 1) & slotMask;
        }
        slots[2 * i] = hash;
        slots[2 * i + 1] = place + 1;
    }

    /** Removes {@code key}'s series, whose hash is {@code hash}, and returns its number; -1 when it is not here. */
    int take(SeriesKey key, int hash) {
        if (size == 0) {
            return -1;
        }
        int[] t = slots;
        int m = slotMask;
        for (int i = hash & m; ; i = (i + 1) & m) {
            int entry = t[2 * i + 1];
            if (entry == 0) {
                return -1;
            }
            if (t[2 * i] == hash) {
                SeriesKey stored = keys[entry - 1];
                if (stored == key || key.equals(stored)) {
                    keys[entry - 1] = null;
                    size--;
                    removeSlot(i);
                    return numbers[entry - 1];
                }
            }
        }
    }

    /**
     * Removes the series that left first, if it left at or before the close of {@code cutoff}, and returns its
     * number; -1 when there is none such. Drops the holes it passes.
     */
    int pollOldest(long cutoff) {
        while (used > 0) {
            SeriesKey key = keys[head];
            if (key != null && leftAt[head] > cutoff) {
                return -1;
            }
            int place = head;
            keys[place] = null;
            head = (head + 1) & (keys.length - 1);
            used--;
            if (key != null) {
                size--;
                removeSlot(slotOf(key.hashCode(), place + 1));
                int number = numbers[place];
                shrinkIfSparse();
                return number;
            }
        }
        shrinkIfSparse();
        return -1;
    }

    private void shrinkIfSparse() {
        int capacity = keys.length;
        while (used < capacity >>> 3 && capacity > INITIAL_CAPACITY) {
            capacity >>>= 1;
        }
        if (capacity != keys.length) {
            resize(capacity);
        }
    }

    /** The slot of hash {@code hash} that holds {@code entry}, which must be there. */
    private int slotOf(int hash, int entry) {
        int i = hash & slotMask;
        while (slots[2 * i + 1] != entry) {
            i = (i + 1) & slotMask;
        }
        return i;
    }

    /** Empties slot {@code i}, moving up each later slot of its run whose home does not lie after it. */
    private void removeSlot(int i) {
        int[] t = slots;
        int m = slotMask;
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
    }

    /** Moves the entries, holes dropped and oldest first, to a ring of {@code capacity} places with new slots. */
    private void resize(int capacity) {
        SeriesKey[] k = new SeriesKey[capacity];
        int[] n = new int[capacity];
        long[] at = new long[capacity];
        int[] t = new int[4 * capacity];
        int m = 2 * capacity - 1;
        int out = 0;
        for (int j = 0; j < used; j++) {
            int place = (head + j) & (keys.length - 1);
            SeriesKey key = keys[place];
            if (key == null) {
                continue;
            }
            k[out] = key;
            n[out] = numbers[place];
            at[out] = leftAt[place];
            int hash = key.hashCode();
            int i = hash & m;
            while (t[2 * i + 1] != 0) {
                i = (i + 1) & m;
            }
            t[2 * i] = hash;
            t[2 * i + 1] = out + 1;
            out++;
        }
        keys = k;
        numbers = n;
        leftAt = at;
        slots = t;
        slotMask = m;
        head = 0;
        used = out;
    }
}
