package dev.meterline.model;

import java.util.AbstractList;
import java.util.List;
import java.util.RandomAccess;

/**
 * A read-only list of windows that may build each window only when it is asked for (the columns a flush's closed
 * windows wait in), and tells a window's series, start and resolution without building it: what a pass that orders
 * or indexes a flush reads of each window.
 */
public abstract class WindowList extends AbstractList<Window> implements RandomAccess {

    /** The series of window {@code i}. */
    public abstract SeriesKey series(int i);

    /** The start of window {@code i}. */
    public abstract long start(int i);

    /** The resolution of window {@code i}. */
    public abstract long resolution(int i);

    /** The series of window {@code i} of {@code windows}, built only when the list is not a {@link WindowList}. */
    public static SeriesKey series(List<Window> windows, int i) {
        return windows instanceof WindowList w ? w.series(i) : windows.get(i).series();
    }

    /** The start of window {@code i} of {@code windows}, built only when the list is not a {@link WindowList}. */
    public static long start(List<Window> windows, int i) {
        return windows instanceof WindowList w ? w.start(i) : windows.get(i).start();
    }

    /** The resolution of window {@code i} of {@code windows}, built only when the list is not a {@link WindowList}. */
    public static long resolution(List<Window> windows, int i) {
        return windows instanceof WindowList w ? w.resolution(i) : windows.get(i).resolution();
    }
}
