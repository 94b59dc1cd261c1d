package dev.meterline.aggregate;

import dev.meterline.model.SeriesKey;
import dev.meterline.model.Window;

import java.util.AbstractList;
import java.util.List;
import java.util.RandomAccess;

/**
 * A read-only list of closed windows that may build each window when it is asked for (see {@link ClosedWindows}),
 * and tells a window's series without building it.
 */
abstract class WindowList extends AbstractList<Window> implements RandomAccess {

    /** The series of window {@code i}. */
    abstract SeriesKey series(int i);

    /** The series of window {@code i} of {@code windows}, built only when the list is not a {@link WindowList}. */
    static SeriesKey series(List<Window> windows, int i) {
        return windows instanceof WindowList w ? w.series(i) : windows.get(i).series();
    }
}
