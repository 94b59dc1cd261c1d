package dev.meterline.store;

import dev.meterline.model.Window;
import dev.meterline.model.WindowList;

import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The order in which a write inserts its windows: (metric, resolution, start, tag text), stable (windows with equal
 * keys keep the order they came in, so of a backlog's flushes the older partial of a window gets the lower id), and,
 * once the write knows every series' id, (metric, resolution, start, series id) as the unique key orders a start's
 * rows ({@link #byIds}): a new start's rows then go in at one growing end of the key, also where the ids do not follow
 * the texts.
 *
 * <p>The usual write sorts one {@code long} per window, its series' ranks ({@link SeriesColumns#rank}), its
 * (resolution, start) pair's place among the write's pairs and its own index packed into the bits each needs; a
 * write whose parts do not fit in 63 bits is sorted with {@link #comparator}, the same order on the texts.
 */
final class IndexOrder {

    private IndexOrder() {
    }

    /** A (resolution, start) pair of a write. */
    private record Slot(long resolution, long start) {
    }

    /** The indexes of {@code windows} in insert order; {@code texts} holds the series text of each window. */
    static int[] of(List<Window> windows, WindowTexts texts) {
        int n = windows.size();
        if (n == 0) {
            return new int[0];
        }
        int[] rank = new int[n];
        int[] metricRank = new int[n];
        texts.rank(rank, metricRank);
        return of(windows, texts, rank, metricRank);
    }

    /**
     * As {@link #of(List, WindowTexts)}, with each window's series rank and metric rank already
     * taken from one ranking ({@link WindowTexts#rank}).
     */
    static int[] of(List<Window> windows, WindowTexts texts, int[] rank, int[] metricRank) {
        int n = windows.size();
        if (n == 0) {
            return new int[0];
        }
        int[] slot = slots(windows);
        int maxRank = 0;
        int maxMetric = 0;
        int maxSlot = 0;
        for (int i = 0; i < n; i++) {
            maxRank = Math.max(maxRank, rank[i]);
            maxMetric = Math.max(maxMetric, metricRank[i]);
            maxSlot = Math.max(maxSlot, slot[i]);
        }
        int indexBits = bits(n - 1);
        int rankBits = bits(maxRank);
        int slotBits = bits(maxSlot);
        if (indexBits + rankBits + slotBits + bits(maxMetric) > 63) {
            return sorted(windows, texts);
        }
        long[] keys = new long[n];
        for (int i = 0; i < n; i++) {
            long k = ((long) metricRank[i] << slotBits) | slot[i];
            keys[i] = (((k << rankBits) | rank[i]) << indexBits) | i;
        }
        return indexesInOrder(keys, indexBits);
    }

    /**
     * The indexes of {@code windows} in (metric, resolution, start, series id) order, ties in the order they came in,
     * when every window's series id ({@link WindowTexts#id}) is known: the order {@link #of} and then {@link #byIds}
     * give a write whose windows each hold a different (series, resolution, start), as one flush's do, in one sort.
     * Null when the parts do not fit in 63 bits.
     */
    static int[] ofIds(List<Window> windows, WindowTexts texts, int[] metricRank) {
        int n = windows.size();
        if (n == 0) {
            return new int[0];
        }
        long[] ids = new long[n];
        long minId = Long.MAX_VALUE;
        long maxId = Long.MIN_VALUE;
        int maxMetric = 0;
        for (int i = 0; i < n; i++) {
            long id = texts.id(i);
            ids[i] = id;
            minId = Math.min(minId, id);
            maxId = Math.max(maxId, id);
            maxMetric = Math.max(maxMetric, metricRank[i]);
        }
        if (minId < 0 || bits(n - 1) + bits(maxId - minId) + bits(maxMetric) > 63) {
            return null;
        }
        int[] slot = slots(windows);
        int maxSlot = 0;
        for (int s : slot) {
            maxSlot = Math.max(maxSlot, s);
        }
        int indexBits = bits(n - 1);
        int idBits = bits(maxId - minId);
        int slotBits = bits(maxSlot);
        if (indexBits + idBits + slotBits + bits(maxMetric) > 63) {
            return null;
        }
        long[] keys = new long[n];
        for (int i = 0; i < n; i++) {
            long k = ((long) metricRank[i] << slotBits) | slot[i];
            keys[i] = (((k << idBits) | (ids[i] - minId)) << indexBits) | i;
        }
        return indexesInOrder(keys, indexBits);
    }

    /** Sorts {@code keys}, each ending in its window's index in {@code indexBits} bits, and returns the indexes. */
    private static int[] indexesInOrder(long[] keys, int indexBits) {
        Arrays.sort(keys);
        long indexMask = (1L << indexBits) - 1;
        int[] order = new int[keys.length];
        for (int i = 0; i < keys.length; i++) {
            order[i] = (int) (keys[i] & indexMask);
        }
        return order;
    }

    /** The order of a write already in insert order: 0 to {@code n - 1}. */
    static int[] identity(int n) {
        int[] order = new int[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        return order;
    }

    /** The unique key's order of window indexes, by comparing the texts; stable. */
    static Comparator<Integer> comparator(List<Window> windows, WindowTexts texts) {
        return (x, y) -> {
            int c = texts.sameMetric(x, y) ? 0 : texts.metric(x).compareTo(texts.metric(y));
            if (c != 0) {
                return c;
            }
            c = Long.compare(WindowList.resolution(windows, x), WindowList.resolution(windows, y));
            if (c == 0) {
                c = Long.compare(WindowList.start(windows, x), WindowList.start(windows, y));
            }
            return c != 0 ? c : texts.compare(x, y);
        };
    }

    /** The indexes of {@code windows} sorted with {@link #comparator}. */
    static int[] sorted(List<Window> windows, WindowTexts texts) {
        Integer[] boxed = new Integer[windows.size()];
        for (int i = 0; i < boxed.length; i++) {
            boxed[i] = i;
        }
        Arrays.sort(boxed, comparator(windows, texts));
        int[] order = new int[boxed.length];
        for (int i = 0; i < order.length; i++) {
            order[i] = boxed[i];
        }
        return order;
    }

    /** Each window's (resolution, start) pair as its place among the write's distinct pairs in their order. */
    private static int[] slots(List<Window> windows) {
        int n = windows.size();
        int[] slot = new int[n];
        Map<Slot, Integer> seen = new HashMap<>();
        long resolution = 0;
        long start = 0;
        int last = -1;
        for (int i = 0; i < n; i++) {
            long r = WindowList.resolution(windows, i);
            long s = WindowList.start(windows, i);
            // Windows of one start mostly come together: a map look-up only where the pair changes.
            if (last < 0 || r != resolution || s != start) {
                resolution = r;
                start = s;
                Integer found = seen.get(new Slot(resolution, start));
                if (found == null) {
                    found = seen.size();
                    seen.put(new Slot(resolution, start), found);
                }
                last = found;
            }
            slot[i] = last;
        }
        Slot[] distinct = seen.keySet().toArray(new Slot[0]);
        Arrays.sort(distinct, Comparator.comparingLong(Slot::resolution).thenComparingLong(Slot::start));
        int[] place = new int[distinct.length];
        for (int p = 0; p < distinct.length; p++) {
            place[seen.get(distinct[p])] = p;
        }
        for (int i = 0; i < n; i++) {
            slot[i] = place[slot[i]];
        }
        return slot;
    }

    /**
     * Reorders {@code order} in place so that within each run of windows with the same metric, resolution and start
     * the series ids ({@link WindowTexts#id}) rise, as the unique key orders them; stable for equal ids. The ranks
     * order a start's series by their texts, which is their ids' order only where the series were stored in text
     * order, so a run is sorted only when its ids are out of order.
     */
    static void byIds(List<Window> windows, WindowTexts texts, int[] order) {
        int n = order.length;
        int from = 0;
        while (from < n) {
            long start = WindowList.start(windows, order[from]);
            long resolution = WindowList.resolution(windows, order[from]);
            int first = order[from];
            int to = from + 1;
            boolean rising = true;
            long last = texts.id(first);
            while (to < n) {
                int i = order[to];
                if (!texts.sameMetric(i, first) || WindowList.start(windows, i) != start
                        || WindowList.resolution(windows, i) != resolution) {
                    break;
                }
                long id = texts.id(i);
                rising &= id >= last;
                last = id;
                to++;
            }
            if (!rising) {
                sortRun(texts, order, from, to);
            }
            from = to;
        }
    }

    private static void sortRun(WindowTexts texts, int[] order, int from, int to) {
        int len = to - from;
        long min = Long.MAX_VALUE;
        long max = Long.MIN_VALUE;
        for (int p = from; p < to; p++) {
            long id = texts.id(order[p]);
            min = Math.min(min, id);
            max = Math.max(max, id);
        }
        int placeBits = bits(len - 1);
        if (bits(max - min) + placeBits > 63) {
            Integer[] boxed = new Integer[len];
            for (int p = 0; p < len; p++) {
                boxed[p] = order[from + p];
            }
            Arrays.sort(boxed, Comparator.comparingLong(texts::id));
            for (int p = 0; p < len; p++) {
                order[from + p] = boxed[p];
            }
            return;
        }
        long[] keys = new long[len];
        for (int p = 0; p < len; p++) {
            keys[p] = ((texts.id(order[from + p]) - min) << placeBits) | p;
        }
        Arrays.sort(keys);
        int[] run = Arrays.copyOfRange(order, from, to);
        long placeMask = (1L << placeBits) - 1;
        for (int p = 0; p < len; p++) {
            order[from + p] = run[(int) (keys[p] & placeMask)];
        }
    }

    private static int bits(long max) {
        return 64 - Long.numberOfLeadingZeros(max);
    }
}
