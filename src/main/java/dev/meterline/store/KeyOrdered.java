package dev.meterline.store;

import dev.meterline.model.Window;

import java.util.AbstractList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.RandomAccess;

/**
 * A flush in the order its write inserts it ({@link Store#inKeyOrder}), each window with its series' text and rank
 * beside it, so that the write of a part cut from it ({@link #subList}) neither finds its series nor sorts its windows
 * again: a stretch of the flush's order is already the order the part's own sort would give it. Read-only.
 */
final class KeyOrdered extends AbstractList<Window> implements RandomAccess {

    private final SeriesTexts owner;
    private final Window[] windows;
    private final SeriesTexts.Text[] texts;
    private final int[] rank;
    private final int from;
    private final int to;

    /**
     * {@code windows} in insert order, with {@code texts[i]} the text of {@code windows[i]} in {@code owner} and
     * {@code rank[i]} its rank from one ranking of all of them. The arrays are kept, not copied.
     */
    KeyOrdered(SeriesTexts owner, Window[] windows, SeriesTexts.Text[] texts, int[] rank) {
        this(owner, windows, texts, rank, 0, windows.length);
        if (texts.length != windows.length || rank.length != windows.length) {
            throw new IllegalArgumentException("texts, rank: " + texts.length + ", " + rank.length
                    + " (expected: one per window, " + windows.length + ")");
        }
    }

    private KeyOrdered(SeriesTexts owner, Window[] windows, SeriesTexts.Text[] texts, int[] rank, int from, int to) {
        this.owner = Objects.requireNonNull(owner, "owner");
        this.windows = windows;
        this.texts = texts;
        this.rank = rank;
        this.from = from;
        this.to = to;
    }

    @Override
    public Window get(int index) {
        return windows[from + Objects.checkIndex(index, to - from)];
    }

    @Override
    public int size() {
        return to - from;
    }

    /** The windows from {@code fromIndex} to {@code toIndex}, with their texts and ranks. */
    @Override
    public List<Window> subList(int fromIndex, int toIndex) {
        Objects.checkFromToIndex(fromIndex, toIndex, to - from);
        return new KeyOrdered(owner, windows, texts, rank, from + fromIndex, from + toIndex);
    }

    /** True when the texts are those of {@code table}, which a write of this list may then take as found there. */
    boolean textsOf(SeriesTexts table) {
        return owner == table;
    }

    /** The series text of each window, in this list's order. */
    SeriesTexts.Text[] texts() {
        return Arrays.copyOfRange(texts, from, to);
    }

    /** The rank of each window's text, in this list's order; one ranking across the whole flush. */
    int[] ranks() {
        return Arrays.copyOfRange(rank, from, to);
    }
}
