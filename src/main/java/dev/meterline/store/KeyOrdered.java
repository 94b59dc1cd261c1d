package dev.meterline.store;

import dev.meterline.model.SeriesKey;
import dev.meterline.model.Window;
import dev.meterline.model.WindowList;

import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * A flush in the order its write inserts it ({@link Store#inKeyOrder}), each window with its series' text and rank
 * beside it, so that the write of a part cut from it ({@link #subList}) neither finds its series nor sorts its windows
 * again: a stretch of the flush's order is already the order the part's own sort would give it. The windows stay in
 * the flush's own list, read through their places in it, so that a list that builds each window when it is read
 * (the columns closed windows wait in) is not turned into a window object per window for the whole paced write.
 * Read-only.
 */
final class KeyOrdered extends WindowList {

    private final SeriesTexts owner;
    private final List<Window> windows;
    private final int[] order;
    private final WindowTexts texts;
    private final int[] rank;
    private final int from;
    private final int to;

    /**
     * The windows {@code order} places in insert order ({@code windows.get(order[p])} the window at place
     * {@code p}), with its text at {@code p} of {@code texts}, found in {@code owner}, and {@code rank[p]} its rank
     * from one ranking of all of them. The list and arrays are kept, not copied.
     */
    KeyOrdered(SeriesTexts owner, List<Window> windows, int[] order, WindowTexts texts, int[] rank) {
        this(owner, windows, order, texts, rank, 0, order.length);
        if (order.length != windows.size() || texts.size() != order.length || rank.length != order.length) {
            throw new IllegalArgumentException("order, texts, rank: " + order.length + ", " + texts.size() + ", "
                    + rank.length + " (expected: one per window, " + windows.size() + ")");
        }
    }

    private KeyOrdered(SeriesTexts owner, List<Window> windows, int[] order, WindowTexts texts, int[] rank,
                       int from, int to) {
        this.owner = Objects.requireNonNull(owner, "owner");
        this.windows = windows;
        this.order = order;
        this.texts = texts;
        this.rank = rank;
        this.from = from;
        this.to = to;
    }

    @Override
    public Window get(int index) {
        return windows.get(place(index));
    }

    @Override
    public SeriesKey series(int index) {
        return series(windows, place(index));
    }

    @Override
    public long start(int index) {
        return start(windows, place(index));
    }

    @Override
    public long resolution(int index) {
        return resolution(windows, place(index));
    }

    /** The place in the flush's list of the window at {@code index}. */
    private int place(int index) {
        return order[from + Objects.checkIndex(index, to - from)];
    }

    @Override
    public int size() {
        return to - from;
    }

    /** The windows from {@code fromIndex} to {@code toIndex}, with their texts and ranks. */
    @Override
    public List<Window> subList(int fromIndex, int toIndex) {
        Objects.checkFromToIndex(fromIndex, toIndex, to - from);
        return new KeyOrdered(owner, windows, order, texts, rank, from + fromIndex, from + toIndex);
    }

    /** True when the texts are those of {@code table}, which a write of this list may then take as found there. */
    boolean textsOf(SeriesTexts table) {
        return owner == table;
    }

    /** The series text of each window, in this list's order. */
    WindowTexts texts() {
        return texts.range(from, to);
    }

    /** The rank of each window's text, in this list's order; one ranking across the whole flush. */
    int[] ranks() {
        return Arrays.copyOfRange(rank, from, to);
    }
}
