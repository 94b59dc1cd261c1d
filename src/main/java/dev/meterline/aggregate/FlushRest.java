package dev.meterline.aggregate;

import dev.meterline.model.SeriesKey;
import dev.meterline.model.Window;
import dev.meterline.model.WindowList;

import java.util.List;
import java.util.Objects;

/**
 * The windows of a flush from one place on, read through the flush's own list without copying it: what stays pending
 * of a flush the spool took in part. A copy would build every window left, once per chunk spilled, and lose the runs
 * the shards closed the windows in, so that the flush would be grouped for queries by every window's key. Read-only;
 * the list must not change.
 */
final class FlushRest extends WindowList {

    private final List<Window> all;
    private final int from;

    private FlushRest(List<Window> all, int from) {
        this.all = all;
        this.from = from;
    }

    /** The windows of {@code windows} from {@code from} on: a rest of a rest reads the first list. */
    static List<Window> of(List<Window> windows, int from) {
        Objects.checkFromToIndex(from, windows.size(), windows.size());
        if (from == 0) {
            return windows;
        }
        if (windows instanceof FlushRest rest) {
            return new FlushRest(rest.all, rest.from + from);
        }
        return new FlushRest(windows, from);
    }

    /** The list read. */
    List<Window> all() {
        return all;
    }

    /** The place in {@link #all} of this list's first window. */
    int from() {
        return from;
    }

    @Override
    public Window get(int i) {
        return all.get(from + Objects.checkIndex(i, size()));
    }

    @Override
    public SeriesKey series(int i) {
        return WindowList.series(all, from + Objects.checkIndex(i, size()));
    }

    @Override
    public long start(int i) {
        return WindowList.start(all, from + Objects.checkIndex(i, size()));
    }

    @Override
    public long resolution(int i) {
        return WindowList.resolution(all, from + Objects.checkIndex(i, size()));
    }

    @Override
    public int size() {
        return all.size() - from;
    }
}
