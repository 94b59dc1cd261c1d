package dev.meterline.aggregate;

import dev.meterline.model.SeriesKey;
import dev.meterline.model.Window;
import dev.meterline.model.WindowList;

import java.util.Arrays;
import java.util.List;

/**
 * Lists of windows read as one, in their order, without copying them: a flush's windows from every shard, or a
 * backlog's flushes written together. Read-only; the lists must not change.
 */
final class JoinedWindows extends WindowList {

    private final List<Window>[] parts;
    /** {@code ends[p]}: the size of parts 0 to p together. */
    private final int[] ends;

    private JoinedWindows(List<Window>[] parts, int[] ends) {
        this.parts = parts;
        this.ends = ends;
    }

    /** {@code lists} as one list: the one non-empty list itself when there is only one. */
    @SuppressWarnings("unchecked")
    static List<Window> of(List<? extends List<Window>> lists) {
        List<Window>[] parts = new List[lists.size()];
        int[] ends = new int[parts.length];
        int n = 0;
        int total = 0;
        for (List<Window> l : lists) {
            if (!l.isEmpty()) {
                parts[n] = l;
                total = Math.addExact(total, l.size());
                ends[n++] = total;
            }
        }
        if (n == 0) {
            return List.of();
        }
        if (n == 1) {
            return parts[0];
        }
        return new JoinedWindows(Arrays.copyOf(parts, n), Arrays.copyOf(ends, n));
    }

    @Override
    public Window get(int i) {
        int p = part(i);
        return parts[p].get(i - first(p));
    }

    @Override
    public SeriesKey series(int i) {
        int p = part(i);
        return series(parts[p], i - first(p));
    }

    @Override
    public long start(int i) {
        int p = part(i);
        return start(parts[p], i - first(p));
    }

    @Override
    public long resolution(int i) {
        int p = part(i);
        return resolution(parts[p], i - first(p));
    }

    private int part(int i) {
        if (i < 0 || i >= size()) {
            throw new IndexOutOfBoundsException("window " + i + " of " + size());
        }
        int at = Arrays.binarySearch(ends, i + 1);
        return at >= 0 ? at : -at - 1;
    }

    /** How many lists are joined, none of them empty. */
    int parts() {
        return parts.length;
    }

    /** Joined list {@code p}, whose first window is at {@link #first}({@code p}). */
    List<Window> list(int p) {
        return parts[p];
    }

    /** The index of part {@code p}'s first window. */
    int first(int p) {
        return p == 0 ? 0 : ends[p - 1];
    }

    @Override
    public int size() {
        return ends[ends.length - 1];
    }
}
