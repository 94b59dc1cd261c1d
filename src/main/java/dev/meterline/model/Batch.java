package dev.meterline.model;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The unit that flows through the pipeline: the points decoded from one read of one connection (or one slice of an
 * HTTP body), the lines already rejected at the edge, and optionally the sync that follows them.
 *
 * <p>A batch is split into one {@link Part} per shard it touches. When the last part is aggregated, the batch is
 * complete and its {@link Owner} is told, so replies leave in input order.
 */
public final class Batch {

    /** Told once when every point of a batch was aggregated or rejected. */
    public interface Owner {
        void completed(Batch batch);
    }

    private final Owner owner;
    private final List<Point> points;
    private final List<Reject> rejects;
    private final String syncId;
    private final AtomicInteger pending = new AtomicInteger();
    private final AtomicInteger accepted = new AtomicInteger();
    private volatile DropReason dropped;
    private volatile boolean admitted;
    private boolean bulk;
    /** The points' series hashes in order and their timestamps' bounds, when {@link #summarize} was called. */
    private int[] seriesHashes;
    private long earliest = Long.MAX_VALUE;
    private long latest = Long.MIN_VALUE;

    public Batch(Owner owner, List<Point> points, List<Reject> rejects, String syncId) {
        this.owner = owner;
        this.points = points;
        this.rejects = rejects;
        this.syncId = syncId;
    }

    /** The session the batch came from (one connection or request). */
    public Owner owner() {
        return owner;
    }

    public List<Point> points() {
        return points;
    }

    /** Rejects in no particular order; read only after completion. */
    public List<Reject> rejects() {
        return rejects;
    }

    /** The id of the sync that follows this batch's lines, or null. */
    public String syncId() {
        return syncId;
    }

    public int accepted() {
        return accepted.get();
    }

    /**
     * Notes, before the batch is handed on, the series hash of each point in order ({@code hashes[i]} is that of
     * {@code points().get(i)}; the array is not copied, may be longer than the points and must not change afterwards)
     * and the least and the greatest of their timestamps: the stages after the decoder then route and check the
     * points without reading each one, which another core wrote.
     */
    public void summarize(int[] hashes, long earliestTimestamp, long latestTimestamp) {
        if (hashes.length < points.size()) {
            throw new IllegalArgumentException("hashes: " + hashes.length + " (expected: at least the "
                    + points.size() + " points)");
        }
        this.seriesHashes = hashes;
        this.earliest = earliestTimestamp;
        this.latest = latestTimestamp;
    }

    /** The series hashes of the points in order ({@link #summarize}), or null when the batch has no summary. */
    public int[] seriesHashes() {
        return seriesHashes;
    }

    /** The least timestamp of the points when the batch has a summary ({@link #summarize}). */
    public long earliest() {
        return earliest;
    }

    /** The greatest timestamp of the points when the batch has a summary ({@link #summarize}). */
    public long latest() {
        return latest;
    }

    /** Marks the batch as cut from a read that filled a whole batch: its connection sends in bulk. */
    public void markBulk() {
        bulk = true;
    }

    public boolean bulk() {
        return bulk;
    }

    /** Marks the batch as holding room in the ingest buffer until it completes. */
    public void markAdmitted() {
        admitted = true;
    }

    public boolean admitted() {
        return admitted;
    }

    /** Why the batch's points were dropped, or null when they went through the pipeline. */
    public DropReason dropped() {
        return dropped;
    }

    /** Marks every point dropped (not rejected) and completes the batch; its edge rejects still stand. */
    public void drop(DropReason reason) {
        dropped = reason;
        owner.completed(this);
    }

    /** Called by the validation stage with its rejects and the parts it split the rest into. */
    public void validated(List<Reject> validationRejects, int parts) {
        if (!validationRejects.isEmpty()) {
            rejects.addAll(validationRejects);
        }
        if (parts == 0) {
            owner.completed(this);
        } else {
            pending.set(parts);
        }
    }

    /** Called by a shard when it has aggregated one part; completes the batch after the last part. */
    public void partDone(int acceptedPoints, List<Reject> partRejects) {
        accepted.addAndGet(acceptedPoints);
        if (partRejects != null && !partRejects.isEmpty()) {
            synchronized (rejects) {
                rejects.addAll(partRejects);
            }
        }
        if (pending.decrementAndGet() == 0) {
            owner.completed(this);
        }
    }

    /** Rejects every point of the batch for {@code reason}; used when a stage failed on it unexpectedly. */
    public void failAll(RejectReason reason) {
        List<Reject> all = new ArrayList<>(points.size());
        for (Point p : points) {
            all.add(Reject.of(p.line(), reason));
        }
        synchronized (rejects) {
            rejects.addAll(all);
        }
        owner.completed(this);
    }
}
