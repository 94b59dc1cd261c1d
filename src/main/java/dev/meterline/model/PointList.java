package dev.meterline.model;

import java.util.AbstractList;
import java.util.Objects;
import java.util.RandomAccess;

/**
 * A read-only run of points in an array: a batch's points, in the array its session collected them in, or the run of
 * them that goes to one shard, so that no growing list's copies are allocated per point.
 */
public final class PointList extends AbstractList<Point> implements RandomAccess {

    private final Point[] points;
    private final int from;
    private final int size;

    /** The points {@code points[from, from + size)}; the array is not copied and must not change afterwards. */
    public PointList(Point[] points, int from, int size) {
        Objects.checkFromIndexSize(from, size, points.length);
        this.points = points;
        this.from = from;
        this.size = size;
    }

    @Override
    public Point get(int index) {
        return points[from + Objects.checkIndex(index, size)];
    }

    @Override
    public int size() {
        return size;
    }
}
