package dev.meterline.model;

import java.util.Arrays;

/**
 * Numbers series from 0 in the order they are first added, and finds a series' number by the key's identity first
 * and its content second: each event loop hands out its own instance of a series' key, and a look-up by content
 * would compare the key's bytes on nearly every call. The table holds each instance's hash beside its number, so a
 * probe reads one slot and a reference compare, and reads a key only when its hash is equal.
 *
 * <p>An instance not seen before is compared by content once; when another instance of the same series is held, the
 * new one is remembered under that series' number while the table holds fewer than {@code maxInstances} instances
 * and fewer than {@code instancesPerSeries} per series on average (a client whose series outnumber the key caches
 * brings a new instance on nearly every call; past that bound those are compared by content instead). Not
 * thread-safe: one owner.
 */
public final class SeriesNumbers {

    private static final int INITIAL = 1 << 12;

    private final int maxInstances;
    private final int instancesPerSeries;
    /** Per slot: the key's hash in the high half, its number plus one in the low half; 0 is an empty slot. */
    private long[] slots = new long[INITIAL];
    private SeriesKey[] keys = new SeriesKey[INITIAL];
    private int instances;
    private int series;

    /**
     * A table of at most {@code maxInstances} key instances, remembering another instance of a known series while
     * there are fewer than {@code instancesPerSeries} instances per series.
     */
    public SeriesNumbers(int maxInstances, int instancesPerSeries) {
        if (maxInstances < 1) {
            throw new IllegalArgumentException("maxInstances: " + maxInstances + " (expected: > 0)");
        }
        if (instancesPerSeries < 1) {
            throw new IllegalArgumentException("instancesPerSeries: " + instancesPerSeries + " (expected: > 0)");
        }
        this.maxInstances = maxInstances;
        this.instancesPerSeries = instancesPerSeries;
    }

    /** Forgets every series: the next one added is numbered 0 again. */
    public void clear() {
        if (instances == 0) {
            return;
        }
        Arrays.fill(slots, 0L);
        Arrays.fill(keys, null);
        instances = 0;
        series = 0;
    }

    /** Key instances held. */
    public int instances() {
        return instances;
    }

    /** Series numbered since the last {@link #clear}. */
    public int size() {
        return series;
    }

    /** True when the table holds {@code maxInstances} instances: {@link #add} numbers no more series. */
    public boolean full() {
        return instances >= maxInstances;
    }

    /** The number of {@code key}'s series, or -1 when it has none. */
    public int find(SeriesKey key) {
        return find(key, key.hashCode());
    }

    /**
     * {@link #find(SeriesKey)} with {@code h}, the key's hash, known: an instance held is then found without a read
     * of the key itself, whose line another core may have written last.
     */
    public int find(SeriesKey key, int h) {
        long[] slots = this.slots;
        SeriesKey[] keys = this.keys;
        int mask = slots.length - 1;
        for (int i = h & mask; ; i = (i + 1) & mask) {
            long s = slots[i];
            if (s == 0) {
                break;
            }
            if ((int) (s >>> 32) == h && keys[i] == key) {
                return (int) s - 1;
            }
        }
        for (int i = h & mask; ; i = (i + 1) & mask) {
            long s = slots[i];
            if (s == 0) {
                return -1;
            }
            if ((int) (s >>> 32) == h && keys[i].equals(key)) {
                int number = (int) s - 1;
                if (instances < maxInstances && instances < (long) instancesPerSeries * series) {
                    insert(key, number);
                }
                return number;
            }
        }
    }

    /** Numbers {@code key}'s series, which {@link #find} did not find; -1, and nothing held, when {@link #full}. */
    public int add(SeriesKey key) {
        if (full()) {
            return -1;
        }
        int number = series++;
        insert(key, number);
        return number;
    }

    private void insert(SeriesKey key, int number) {
        if (2 * (instances + 1) > slots.length) {
            grow();
        }
        put(slots, keys, key, ((long) key.hashCode() << 32) | (number + 1L));
        instances++;
    }

    private static void put(long[] slots, SeriesKey[] keys, SeriesKey key, long slot) {
        int mask = slots.length - 1;
        int i = (int) (slot >>> 32) & mask;
        while (slots[i] != 0) {
            i = (i + 1) & mask;
        }
        slots[i] = slot;
        keys[i] = key;
    }

    private void grow() {
        long[] oldSlots = slots;
        SeriesKey[] oldKeys = keys;
        slots = new long[oldSlots.length * 2];
        keys = new SeriesKey[oldSlots.length * 2];
        for (int i = 0; i < oldSlots.length; i++) {
            if (oldSlots[i] != 0) {
                put(slots, keys, oldKeys[i], oldSlots[i]);
            }
        }
    }
}
