package dev.meterline.ingest;

import dev.meterline.model.SeriesKey;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Turns a series as it appeared on the wire (the bytes of its metric name and of its tags object) back into the key
 * built the last time those bytes came, so that a client sending a series again costs neither strings nor a key.
 * Names (metrics, tag keys) are interned the same way, so keys built on a miss share them. A miss only costs a
 * rebuild.
 *
 * <p>Sized to the series it sees: it starts at {@code initialCapacity} and, at the end of a period of
 * {@link #PERIOD} look-ups, doubles (rehashing what it holds) while it is at least {@link #GROW_FILL_EIGHTHS} eighths
 * full and missed more than one look-up in {@link #GROW_MISSES}, up to {@code maxCapacity}: a client cycling through
 * its series misses every series of a set that holds more than eight of them, each pass, which at three eighths
 * full is about one series in a hundred and at half full one in twenty.
 *
 * <p>When its clients send more distinct series than three quarters of that bound (counted over
 * {@link #WINDOW_PERIODS} periods; {@link #CROWDED_QUARTERS}) it is {@link #crowded}: storing their misses would
 * cost a copy each and evict in turn the series the next pass asks for, and even the share of them that stays is
 * not worth a look-up, which in a table that large waits on a few cache misses where building the key waits on
 * none. It then neither looks up, nor reads ahead, nor stores, nor grows, until a period's own lines come from fewer
 * than a quarter as many series ({@link #DENSE_MISSES}). At the bound, a cache that hardly ever hits stops storing
 * most misses and stores one in {@link #SPARSE_FILL}, so that a client whose series start repeating fills it in (a
 * period that misses less than one look-up in {@link #DENSE_MISSES} stores every miss again).
 *
 * <p>Eight-way set associative, each set's ways replaced in turn: series whose hashes share a set all stay while
 * they are at most eight, which a table of fewer ways gives a client cycling through its series far less often (with
 * one more series in a set than it has ways, every look-up there misses). Doubling splits each set in two, so every
 * entry still fits. Not thread-safe: one per decoding thread; only the counters read by {@link #hitCount()} and its
 * siblings may be read from other threads, and they lag by at most a period. Bounded: {@code maxCapacity} keys of
 * at most {@link #MAX_BYTES} wire bytes each, and {@link #NAMES} names of at most {@link #MAX_NAME_BYTES}.
 *
 * <p>Laid out for few cache misses once the series outnumber what the CPU caches hold: a look-up reads its set's
 * eight words (hash and lengths of each way) from one cache line, and a hit then reads the slot's wire bytes from one
 * line of an arena with a fixed stride of {@link #INLINE} bytes per slot, and its key's reference. Series longer than
 * that keep their bytes in an array of their own.
 *
 * <p>Each slot also remembers which slot's series a reader found right after its own the last time
 * ({@link #follower}): clients send their series in the same order again and again, so a reader that compares the
 * next line with that series first ({@link #holds}) mostly needs neither a hash nor a set's search. A hint only,
 * outside the contents and the counters.
 */
public final class SeriesKeyCache {

    /** A series whose metric and tags take more bytes than this is not cached, which bounds the cache's memory. */
    public static final int MAX_BYTES = 256;
    /** The capacity a growing cache starts at. */
    public static final int INITIAL_CAPACITY = 1024;
    static final int NAMES = 1024;
    static final int MAX_NAME_BYTES = 64;


    /** Ways per set: eight words of a set fill one 64-byte cache line. */
    static final int WAYS = 8;
    /** Look-ups per judgement of the hit rate. */
    static final int PERIOD = 1 << 16;
    /** Over one miss in this many look-ups, a cache at least {@link #GROW_FILL_EIGHTHS} eighths full grows. */
    static final int GROW_MISSES = 32;
    /**
     * Eighths of the slots that must be in use for a cache to grow: misses of a cache holding fewer series than
     * that come from series it does not keep (too long, refused, or never repeating), which more room would not help.
     */
    static final int GROW_FILL_EIGHTHS = 3;
    /** Under one hit in this many look-ups, a period counts as sparse. */
    static final int SPARSE_HITS = 8;
    /** While sparse, one miss in this many is stored. */
    static final int SPARSE_FILL = 16;
    /** Under one miss in this many look-ups, a period shows series that repeat: every miss is stored again. */
    static final int DENSE_MISSES = 4;
    /** Periods over which the distinct series looked up are counted ({@link #seriesSeen}). */
    static final int WINDOW_PERIODS = 4;
    /**
     * Quarters of the bound: a client that looked up more distinct series than this in a window cycles through more
     * than the cache keeps, and storing every miss would only evict in turn what its next pass asks for.
     */
    static final int CROWDED_QUARTERS = 3;
    /** Registers of the distinct-series estimate: a kilobyte, within a few percent. */
    private static final int RANK_BITS = 10;
    /** Registers of the estimate of one period's distinct series: a coarser quarter kilobyte. */
    private static final int PERIOD_RANK_BITS = 8;

    /**
     * From this many slots on ({@link #INLINE} bytes of arena each, a megabyte), the table outgrows a core's level-2
     * cache and a group of look-ups is read ahead; below it, reading ahead would cost without saving a miss.
     */
    static final int TOUCH_FROM = 16_384;
    /** Wire bytes of a series up to this many sit in the slot's stride of the arena; longer ones in a side array. */
    static final int INLINE = 64;
    /**
     * Unused longs before the first slot's word: G1 puts an array of half a region or more (a large table's, where
     * misses matter) at the start of a region, so past the 16-byte array header and these 48 bytes each set's eight
     * words then fill one 64-byte cache line.
     */
    private static final int WORD_PAD = 6;
    /** Unused bytes before the first slot's stride of the arena, for the same reason: each stride is one cache line. */
    private static final int ARENA_PAD = 48;
    private static final long USED = 1L << 31;
    private static final int[] NO_FOLLOWERS = new int[0];

    private final int maxCapacity;
    private int setMask;
    private SeriesKey[] keys;
    /**
     * Per slot (after {@link #WORD_PAD}): the hash in the high half, then {@link #USED}, the metric's length in bits
     * 16 to 30 and the total length in the low 16 bits; 0 for an empty slot. One compare rejects a hash or a length
     * that differs.
     */
    private long[] words;
    /** Per slot, {@link #INLINE} bytes (after {@link #ARENA_PAD}): the metric's bytes followed by the tags object's. */
    private byte[] arena;
    /** Per slot: the wire bytes of a series longer than {@link #INLINE}, else null. */
    private byte[][] spilled;
    /** Per set: the way to fill next. */
    private byte[] next;
    /**
     * Per slot: one more than the slot that a look-up found right after a line of this slot's series the last time
     * ({@link #follow}), or 0; none in a table read ahead ({@link #worthTouching}), whose lines are not looked up
     * while they are read. A hint, checked against the bytes before it is used ({@link #holds}).
     */
    private int[] followers;
    /** Slots in use. */
    private int size;

    private int touchFrom = TOUCH_FROM;
    private long touched;
    private int lookups;
    private int hits;
    private boolean sparse;
    private int skipped;
    /**
     * True while its clients send more distinct series than it keeps: it then neither looks series up nor stores
     * them ({@link #find}), which in a table that large costs more than building their keys.
     */
    private boolean crowded;
    /** As {@link #ranks}, for the current period alone. */
    private final byte[] periodRanks = new byte[1 << PERIOD_RANK_BITS];
    /**
     * The distinct series looked up in the current window, estimated HyperLogLog's way from the hashes: per register
     * (the hash's top bits), the most leading zeros plus one of the rest of a hash that fell there.
     */
    private final byte[] ranks = new byte[1 << RANK_BITS];
    private int windowPeriods;
    /** The estimate of the last whole window. */
    private double lastWindowSeen;
    /**
     * Changes whenever a slot takes a key or the table is reallocated: a slot that {@link #probe} found still holds
     * that series while this stays the same.
     */
    private int stamp;
    /** The most tags of a series stored, or {@link Integer#MAX_VALUE} once a series of unknown tag count was. */
    private int mostTags;

    /** Totals of the periods ended so far and the state at the last period's end, for meters on other threads. */
    private volatile long hitTotal;
    private volatile long missTotal;
    private volatile int publishedSize;
    private volatile int publishedCapacity;

    private final String[] names = new String[NAMES];
    private final byte[][] nameBytes = new byte[NAMES][];

    /** A cache of a fixed {@code capacity}. */
    public SeriesKeyCache(int capacity) {
        this(capacity, capacity);
    }

    /** A cache that starts at {@code initialCapacity} and grows up to {@code maxCapacity}; both powers of two. */
    public SeriesKeyCache(int initialCapacity, int maxCapacity) {
        if (Integer.bitCount(initialCapacity) != 1 || initialCapacity < WAYS) {
            throw new IllegalArgumentException("initialCapacity: " + initialCapacity
                    + " (expected: a power of two, at least " + WAYS + ")");
        }
        if (Integer.bitCount(maxCapacity) != 1 || maxCapacity < initialCapacity) {
            throw new IllegalArgumentException("maxCapacity: " + maxCapacity
                    + " (expected: a power of two, at least initialCapacity " + initialCapacity + ")");
        }
        this.maxCapacity = maxCapacity;
        allocate(initialCapacity);
        this.publishedCapacity = initialCapacity;
    }

    private void allocate(int capacity) {
        this.setMask = capacity / WAYS - 1;
        this.keys = new SeriesKey[capacity];
        this.words = new long[WORD_PAD + capacity];
        this.arena = new byte[ARENA_PAD + capacity * INLINE];
        this.spilled = new byte[capacity][];
        this.next = new byte[capacity / WAYS];
        // Only a table small enough to be looked up while lines are read has its followers tried.
        this.followers = capacity < touchFrom ? new int[capacity] : NO_FOLLOWERS;
        this.size = 0;
        this.stamp++;
    }

    /** The hash {@link #find} and {@link #put} take for the metric {@code data[mf, mt)}, tags {@code data[tf, tt)}. */
    public static int hash(byte[] data, int mf, int mt, int tf, int tt) {
        long h = mix(0x6d6c, data, mf, mt);
        h = mix(h * 31 + (mt - mf), data, tf, tt);
        return (int) (h ^ (h >>> 32));
    }

    /** The key cached for the metric {@code data[mf, mt)} with the tags {@code data[tf, tt)}, or null. */
    public SeriesKey find(int hash, byte[] data, int mf, int mt, int tf, int tt) {
        return lookedUp(hash) ? null : search(hash, data, mf, mt, tf, tt);
    }

    /**
     * As {@link #find}, for a series that {@link #probe} found at {@code slot} when the cache's {@link #stamp} was
     * {@code probedStamp}: while no slot has changed since, the key is that slot's without comparing again. Counts
     * and judges periods exactly as {@link #find} does.
     */
    SeriesKey findProbed(int slot, int probedStamp, int hash, byte[] data, int mf, int mt, int tf, int tt) {
        if (lookedUp(hash)) {
            return null;
        }
        if (probedStamp == stamp) {
            hits++;
            return keys[slot];
        }
        return search(hash, data, mf, mt, tf, tt);
    }

    /** The look-up of {@link #find} after its counting. */
    private SeriesKey search(int hash, byte[] data, int mf, int mt, int tf, int tt) {
        int metricLength = mt - mf;
        int length = metricLength + tt - tf;
        if (length > MAX_BYTES) {
            return null;
        }
        long word = word(hash, metricLength, length);
        int first = (hash & setMask) * WAYS;
        for (int slot = first; slot < first + WAYS; slot++) {
            if (words[WORD_PAD + slot] == word && matches(slot, metricLength, length, data, mf, mt, tf, tt)) {
                hits++;
                return keys[slot];
            }
        }
        return null;
    }

    /**
     * The slot holding exactly the metric {@code data[mf, mt)} with the tags {@code data[tf, tt)} under
     * {@code hash}, or -1; changes nothing, counters included. The bytes of a slot are those of a series that the
     * plain reader accepted, with at most {@link #mostTags()} tags: equal bytes read the same way.
     */
    int probe(int hash, byte[] data, int mf, int mt, int tf, int tt) {
        int metricLength = mt - mf;
        int length = metricLength + tt - tf;
        if (length > MAX_BYTES) {
            return -1;
        }
        long word = word(hash, metricLength, length);
        int first = (hash & setMask) * WAYS;
        for (int slot = first; slot < first + WAYS; slot++) {
            if (words[WORD_PAD + slot] == word && matches(slot, metricLength, length, data, mf, mt, tf, tt)) {
                return slot;
            }
        }
        return -1;
    }

    /**
     * The slot that {@link #follow} last noted after {@code slot}, or -1; what it holds now is for {@link #holds} to
     * say. Any {@code slot} is taken, one of a table before a growth too.
     */
    int follower(int slot) {
        int[] f = followers;
        return slot < f.length ? f[slot] - 1 : -1;
    }

    /** Notes that the series at {@code next} came right after the one at {@code slot}; a hint, nothing else changes. */
    void follow(int slot, int next) {
        int[] f = followers;
        if (slot < f.length) {
            f[slot] = next + 1;
        }
    }

    /**
     * True when {@code slot} holds exactly the metric {@code data[mf, mt)} with the tags {@code data[tf, tt)}, as
     * {@link #probe} would find them there; changes nothing, counters included. Its {@link #hashAt hash} is then
     * theirs.
     */
    boolean holds(int slot, byte[] data, int mf, int mt, int tf, int tt) {
        int metricLength = mt - mf;
        int length = metricLength + tt - tf;
        // The slot's word without its hash: used, and these lengths.
        return (words[WORD_PAD + slot] & 0xFFFF_FFFFL) == word(0, metricLength, length) && length <= MAX_BYTES
                && matches(slot, metricLength, length, data, mf, mt, tf, tt);
    }

    /** The hash of the series in the used {@code slot}, as {@link #hash} computes it from its bytes. */
    int hashAt(int slot) {
        return (int) (words[WORD_PAD + slot] >>> 32);
    }

    /** Changes whenever a slot's contents do; see {@link #probe} and {@link #findProbed}. */
    int stamp() {
        return stamp;
    }

    /** The most tags of any series stored so far ({@link Integer#MAX_VALUE} if one was stored without its count). */
    int mostTags() {
        return mostTags;
    }

    /**
     * True when the table is too large for the CPU's nearer caches, so that reading ahead with {@link #touchSet} and
     * {@link #touchSlot} before a group's look-ups pays.
     */
    boolean worthTouching() {
        return keys.length >= touchFrom;
    }

    /** Reads ahead from {@code slots} slots on instead of {@link #TOUCH_FROM}; for tests of small tables. */
    SeriesKeyCache touchFrom(int slots) {
        this.touchFrom = slots;
        return this;
    }

    /**
     * Reads the set word that a look-up of {@code hash} reads first and returns it; changes nothing. Called for
     * several series in a row, the loads of their sets overlap instead of each waiting for the one before.
     */
    long touchSet(int hash) {
        return crowded ? 0 : words[WORD_PAD + (hash & setMask) * WAYS];
    }

    /**
     * Reads the first wire byte and the key reference of the slot that a look-up of this series would compare, if
     * one has the same word, and returns that slot, or -1 when none has the word; changes nothing (counters included)
     * but {@link #touched()}. Called for several series in a row after {@link #touchSet}, their loads overlap, and
     * the {@link #find} of each then reads from near caches. The key's own fields are left to {@link #touchKey}, in a
     * pass of their own, so that those loads too overlap instead of each waiting for the key's reference.
     */
    int touchSlot(int hash, int mf, int mt, int tf, int tt) {
        int metricLength = mt - mf;
        int length = metricLength + tt - tf;
        if (length > MAX_BYTES || crowded) {
            return -1;
        }
        long word = word(hash, metricLength, length);
        int first = (hash & setMask) * WAYS;
        for (int slot = first; slot < first + WAYS; slot++) {
            if (words[WORD_PAD + slot] == word) {
                byte[] w = length > INLINE ? spilled[slot] : arena;
                int at = length > INLINE ? 0 : ARENA_PAD + slot * INLINE;
                touched += (w == null || w.length <= at ? 0 : w[at]) + (keys[slot] == null ? 0 : 1);
                return slot;
            }
        }
        return -1;
    }

    /**
     * Reads the hash inside the key of {@code slot}, which {@link #touchSlot} returned in this group (which the
     * line's point reads next), and returns it; 0 for an empty slot. Changes nothing.
     */
    int touchKey(int slot) {
        SeriesKey key = keys[slot];
        return key == null ? 0 : key.hashCode();
    }

    /** What {@link #touchSlot} read, summed; for tests, and so that its loads count as used. */
    long touched() {
        return touched;
    }

    /** Judges the period that just ended: grow, go sparse, or neither; and publishes the counters. */
    private void endPeriod() {
        int misses = PERIOD - hits;
        hitTotal += hits;
        missTotal += misses;
        double seen = seriesSeen();
        double periodSeen = estimate(periodRanks);
        Arrays.fill(periodRanks, (byte) 0);
        if (++windowPeriods == WINDOW_PERIODS) {
            lastWindowSeen = seen;
            windowPeriods = 0;
            Arrays.fill(ranks, (byte) 0);
        }
        // Crowded, unless this period's lines came from few series: then the series repeat now, whatever came before.
        // (While crowded every look-up misses, so the period's own distinct series tell, not its misses.)
        crowded = Math.max(seen, lastWindowSeen) > (double) maxCapacity / 4 * CROWDED_QUARTERS
                && periodSeen > PERIOD / DENSE_MISSES;
        int capacity = keys.length;
        if (!crowded && capacity < maxCapacity && misses > PERIOD / GROW_MISSES
                && size >= capacity / 8 * GROW_FILL_EIGHTHS) {
            grow();
            sparse = false;
        } else {
            sparse = crowded || (capacity == maxCapacity && hits < PERIOD / SPARSE_HITS);
        }
        lookups = 0;
        hits = 0;
        publishedSize = size;
        publishedCapacity = keys.length;
    }

    /**
     * Counts a look-up of the series of {@code hash}: in the window's and the period's estimates, and towards the
     * period's end. True while the cache is {@link #crowded}: the series is then not to be looked up.
     */
    private boolean lookedUp(int hash) {
        int rank = Integer.numberOfLeadingZeros(hash << RANK_BITS | 1 << (RANK_BITS - 1)) + 1;
        int register = hash >>> (32 - RANK_BITS);
        if (ranks[register] < rank) {
            ranks[register] = (byte) rank;
        }
        int periodRank = Integer.numberOfLeadingZeros(hash << PERIOD_RANK_BITS | 1 << (PERIOD_RANK_BITS - 1)) + 1;
        int periodRegister = hash >>> (32 - PERIOD_RANK_BITS);
        if (periodRanks[periodRegister] < periodRank) {
            periodRanks[periodRegister] = (byte) periodRank;
        }
        boolean passed = crowded;
        if (++lookups == PERIOD) {
            endPeriod();
        }
        return passed;
    }

    /** The distinct series looked up so far in the current window, estimated from {@link #ranks}. */
    double seriesSeen() {
        return estimate(ranks);
    }

    /** HyperLogLog's estimate of the distinct hashes counted into the registers {@code registers}. */
    private static double estimate(byte[] registers) {
        int m = registers.length;
        double sum = 0;
        int empty = 0;
        for (byte r : registers) {
            sum += Math.scalb(1.0, -r);
            if (r == 0) {
                empty++;
            }
        }
        double estimate = 0.7213 / (1 + 1.079 / m) * m * m / sum;
        // Few series: counting the empty registers is the closer estimate.
        return estimate <= 2.5 * m && empty > 0 ? m * Math.log((double) m / empty) : estimate;
    }

    /** Doubles the table; each set's entries split between its two successors, so none is lost. */
    private void grow() {
        SeriesKey[] oldKeys = keys;
        long[] oldWords = words;
        byte[] oldArena = arena;
        byte[][] oldSpilled = spilled;
        allocate(oldKeys.length * 2);
        for (int slot = 0; slot < oldKeys.length; slot++) {
            long word = oldWords[WORD_PAD + slot];
            if (word != 0) {
                int length = (int) word & 0xFFFF;
                int to = store(word, oldKeys[slot]);
                if (length > INLINE) {
                    spilled[to] = oldSpilled[slot];
                } else {
                    System.arraycopy(oldArena, ARENA_PAD + slot * INLINE, arena, ARENA_PAD + to * INLINE, length);
                }
            }
        }
    }

    /** Remembers {@code key} for the metric {@code data[mf, mt)} with the tags {@code data[tf, tt)}. */
    public void put(int hash, byte[] data, int mf, int mt, int tf, int tt, SeriesKey key) {
        put(hash, data, mf, mt, tf, tt, key, Integer.MAX_VALUE);
    }

    /** As {@link #put(int, byte[], int, int, int, int, SeriesKey)}, for a tags object of {@code tagCount} tags. */
    void put(int hash, byte[] data, int mf, int mt, int tf, int tt, SeriesKey key, int tagCount) {
        int metricLength = mt - mf;
        int length = metricLength + tt - tf;
        if (length > MAX_BYTES || crowded || (sparse && ++skipped % SPARSE_FILL != 0)) {
            return;
        }
        mostTags = Math.max(mostTags, tagCount);
        int slot = store(word(hash, metricLength, length), key);
        byte[] into;
        int at;
        if (length > INLINE) {
            into = new byte[length];
            at = 0;
            spilled[slot] = into;
        } else {
            into = arena;
            at = ARENA_PAD + slot * INLINE;
        }
        System.arraycopy(data, mf, into, at, metricLength);
        System.arraycopy(data, tf, into, at + metricLength, tt - tf);
    }

    /** The word of a slot holding a series of this hash and these lengths. */
    private static long word(int hash, int metricLength, int length) {
        return (long) hash << 32 | USED | (long) metricLength << 16 | length;
    }

    /** Takes the set's next way for the series of {@code word} and {@code key}; returns the slot, bytes not yet copied. */
    private int store(long word, SeriesKey key) {
        int set = (int) (word >>> 32) & setMask;
        int way = next[set];
        next[set] = (byte) ((way + 1) % WAYS);
        int slot = set * WAYS + way;
        if (words[WORD_PAD + slot] == 0) {
            size++;
        }
        key.markHeld();
        keys[slot] = key;
        words[WORD_PAD + slot] = word;
        spilled[slot] = null;
        stamp++;
        return slot;
    }

    /**
     * The string of the ASCII name {@code data[from, to)}, the same instance each time it is asked for while it
     * stays in the table: metric names and tag keys repeat across series, so keys share them.
     */
    public String name(byte[] data, int from, int to) {
        int len = to - from;
        if (len > MAX_NAME_BYTES) {
            return new String(data, from, len, StandardCharsets.ISO_8859_1);
        }
        long h = mix(len, data, from, to);
        int i = (int) (h ^ (h >>> 29)) & (NAMES - 1);
        byte[] known = nameBytes[i];
        if (known != null && Arrays.equals(known, 0, known.length, data, from, to)) {
            return names[i];
        }
        String s = new String(data, from, len, StandardCharsets.ISO_8859_1);
        nameBytes[i] = Arrays.copyOfRange(data, from, to);
        names[i] = s;
        return s;
    }

    /** True while the last period's look-ups hit too rarely to store every miss, or it is {@link #crowded()}. */
    boolean sparse() {
        return sparse;
    }

    /** True while its clients send more distinct series than it keeps, and it neither looks up nor stores any. */
    boolean crowded() {
        return crowded;
    }

    /** Slots the table has now; the owning thread only. */
    int capacity() {
        return keys.length;
    }

    /** Look-ups that found a key, over the periods ended so far. */
    long hitCount() {
        return hitTotal;
    }

    /** Look-ups that found none, over the periods ended so far. */
    long missCount() {
        return missTotal;
    }

    /** Keys held at the last period's end. */
    int publishedSize() {
        return publishedSize;
    }

    /** Slots at the last period's end. */
    int publishedCapacity() {
        return publishedCapacity;
    }

    /** True when the slot, whose word matched, holds exactly these bytes. */
    private boolean matches(int slot, int metricLength, int length, byte[] data, int mf, int mt, int tf, int tt) {
        byte[] w;
        int at;
        if (length > INLINE) {
            w = spilled[slot];
            at = 0;
        } else {
            w = arena;
            at = ARENA_PAD + slot * INLINE;
        }
        return sameBytes(w, at, data, mf, metricLength) && sameBytes(w, at + metricLength, data, tf, tt - tf);
    }

    /**
     * True when {@code a[ai, ai + n)} and {@code b[bi, bi + n)} hold the same bytes; eight at a time, the last eight
     * (overlapping the ones before) read as one word. Short runs like a series' parts are done in a couple of loads,
     * without the call a general comparison makes.
     */
    static boolean sameBytes(byte[] a, int ai, byte[] b, int bi, int n) {
        if (n < 8) {
            for (int k = 0; k < n; k++) {
                if (a[ai + k] != b[bi + k]) {
                    return false;
                }
            }
            return true;
        }
        int last = n - 8;
        for (int k = 0; k < last; k += 8) {
            if (Words.at(a, ai + k) != Words.at(b, bi + k)) {
                return false;
            }
        }
        return Words.at(a, ai + last) == Words.at(b, bi + last);
    }

    /** Folds {@code data[from, to)} into {@code h}, eight bytes at a time. */
    static long mix(long h, byte[] data, int from, int to) {
        int i = from;
        for (; i + 8 <= to; i += 8) {
            h = Long.rotateLeft((h ^ Words.at(data, i)) * 0x9E3779B97F4A7C15L, 29);
        }
        int rest = to - i;
        long tail = 0;
        if (rest > 0) {
            // The last bytes as one little-endian number, read with one load that ends at `to` or starts at `i`.
            if (to >= 8) {
                tail = Words.at(data, to - 8) >>> (64 - 8 * rest);
            } else if (i + 8 <= data.length) {
                tail = Words.at(data, i) & (-1L >>> (64 - 8 * rest));
            } else {
                for (int shift = 0; i < to; i++, shift += 8) {
                    tail |= (data[i] & 0xFFL) << shift;
                }
            }
        }
        h = (h ^ tail ^ (to - from)) * 0xC2B2AE3D27D4EB4FL;
        return h ^ (h >>> 31);
    }
}
