package dev.meterline.store;

import dev.meterline.model.Window;

import java.util.AbstractList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.RandomAccess;

/**
 * A flush in the order a write inserts it ({@link Store#inKeyOrder}), holding each window's series text beside it, so
 * that the writes of the parts cut from it ({@link #subList}) take the texts rather than look every series up again.
 * Read-only.
 */
final class KeyOrdered extends AbstractList<Window> implements RandomAccess {

    private final Window[] windows;
    private final SeriesTexts.Text[] texts;
    private final int from;
    private final int to;

    /** {@code windows} with {@code texts[i]} the text of {@code windows[i]}; both arrays are kept, not copied. */
    KeyOrdered(Window[] windows, SeriesTexts.Text[] texts) {
        this(windows, texts, 0, windows.length);
    }

    private KeyOrdered(Window[] windows, SeriesTexts.Text[] texts, int from, int to) {
        if (texts.length != windows.length) {
            throw new IllegalArgumentException("texts: " + texts.length + " (expected: one per window, "
                    + windows.length + ")");
        }
        this.windows = windows;
        this.texts = texts;
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

    /** The windows from {@code fromIndex} to {@code toIndex}, with their texts. */
    @Override
    public List<Window> subList(int fromIndex, int toIndex) {
        Objects.checkFromToIndex(fromIndex, toIndex, to - from);
        return new KeyOrdered(windows, texts, from + fromIndex, from + toIndex);
    }

    /** The series text of each window, in this list's order. */
    SeriesTexts.Text[] texts() {
        return Arrays.copyOfRange(texts, from, to);
    }
}
