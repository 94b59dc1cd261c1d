package dev.meterline.ingest;

import dev.meterline.model.Batch;
import dev.meterline.model.Point;
import dev.meterline.model.PointList;
import dev.meterline.model.Reject;
import dev.meterline.telemetry.PipelineMetrics;
import io.netty.buffer.ByteBuf;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.LongSupplier;

/**
 * One client's input stream, from TCP connection or HTTP request: cuts decoded lines into batches, tracks them in
 * input order, and when the oldest ones complete, hands their rejects and sync acknowledgements to the
 * {@link Replies} in line order, with the running accepted/rejected/dropped counts.
 *
 * <p>The acknowledgement route: a shard aggregates a part, the write-ahead log writes it and then tells the
 * {@link Batch}; the last part completes the batch, which releases its room in the buffer at once and has the session
 * answer on its own event loop ({@code answerOn}), so replies never run on a shard or on the log's writer.
 */
final class IngestSession implements LineDecoder.Output, Batch.Owner {

    /** Where a session's outcome goes: error and sync lines on a TCP connection, or an HTTP response body. */
    interface Replies {
        /**
         * One completed batch, in input order: its rejects sorted by line, whether its points were dropped as the
         * first batch of an overload burst, and the totals since the session started.
         */
        void completed(Batch batch, List<Reject> rejects, boolean overloadBurstStart, Totals totals);

        /** All input was read and every batch completed. */
        void finished(Totals totals);
    }

    /** Running totals of one session. */
    record Totals(long accepted, long rejected, long dropped) {
    }

    private static final Comparator<Reject> BY_LINE = Comparator.comparingInt(Reject::line);
    private static final Point[] NO_POINTS = new Point[0];
    private static final int[] NO_HASHES = new int[0];
    private static final int MIN_CAPACITY = 16;

    private final LineDecoder decoder;
    private final IngestBuffer buffer;
    private final PipelineMetrics metrics;
    private final LongSupplier clock;
    private final Replies replies;
    private final int maxBatchPoints;
    private final Executor answerOn;

    private final ArrayDeque<Batch> outstanding = new ArrayDeque<>();
    private final Set<Batch> completedBatches = Collections.newSetFromMap(new IdentityHashMap<>());
    private final Sinks.Empty<Void> done = Sinks.empty();
    /** Run once when the session is done: the hub forgets it. */
    private Runnable whenDone = () -> { };
    private boolean finished;
    private List<Batch> cut = new ArrayList<>(2);
    /**
     * The points of the batch being cut, in an array made for that batch when its first point comes: a young array,
     * where storing a point costs no card-marking barrier (into a long-lived array, every store would wait for a
     * memory fence). The batch takes this array as it is, as it takes {@link #hashes}: the array is sized for a
     * quarter more than the last batch held, and a batch that holds less keeps that room while it is in flight, which
     * costs less than the copy of exactly its points every batch that does not fill its array would otherwise make.
     */
    private Point[] points = NO_POINTS;
    /** The series hash of each point of {@link #points}, and the least and greatest timestamp: the batch's summary. */
    private int[] hashes = NO_HASHES;
    private long earliest;
    private long latest;
    private int pointCount;
    /** The length of the next batch's array: somewhat more than the last batch held, so that it rarely grows. */
    private int nextCapacity = MIN_CAPACITY;
    private List<Reject> rejects;
    private int received;
    private boolean inputEnded;
    /** The current read filled a whole batch: every batch cut from it is bulk (not light, for the drop reserve). */
    private boolean bulkRead;
    private boolean lastDropped;
    private long accepted;
    private long rejected;
    private long dropped;

    IngestSession(IngestCodec codec, IngestBuffer buffer, PipelineMetrics metrics, LongSupplier clock,
                  Replies replies, Executor answerOn) {
        this.answerOn = answerOn;
        this.decoder = codec.decoder(this);
        this.buffer = buffer;
        this.metrics = metrics;
        this.clock = clock;
        this.replies = replies;
        this.maxBatchPoints = (int) Math.min(buffer.maxBatchPoints(), 4096);
        resetCurrent();
    }

    /** Decodes one read; returns the batches it completed, already registered in input order. */
    List<Batch> decode(ByteBuf buf) {
        decoder.decode(buf, clock.getAsLong());
        return cutBatches(false);
    }

    /** Decodes a slice of bytes (HTTP bodies after gzip decoding). */
    List<Batch> decode(byte[] bytes, int off, int len) {
        decoder.decode(bytes, off, len, clock.getAsLong());
        return cutBatches(false);
    }

    /** Ends the input; returns the last batches (a final line without newline counts). */
    List<Batch> finish() {
        decoder.finish(clock.getAsLong());
        return cutBatches(true);
    }

    /** Runs {@code action} once the input has ended and every batch has completed; at once if that was so. */
    synchronized void whenDone(Runnable action) {
        if (finished) {
            action.run();
        } else {
            whenDone = action;
        }
    }

    /** Completes when the input has ended and every batch has completed. */
    Mono<Void> done() {
        return done.asMono();
    }

    int lines() {
        return decoder.lines();
    }

    /** Forgets a started line, so that {@link #finish()} does not decode it (the server cut the connection). */
    void discardPartialLine() {
        decoder.discardPartialLine();
    }

    /** True while a line has started but not ended. */
    boolean midLine() {
        return decoder.midLine();
    }

    @Override
    public void point(Point point) {
        received++;
        if (pointCount == points.length) {
            if (pointCount == 0) {
                points = new Point[nextCapacity];
                hashes = new int[nextCapacity];
                earliest = Long.MAX_VALUE;
                latest = Long.MIN_VALUE;
            } else {
                int capacity = Math.min(maxBatchPoints, 2 * pointCount);
                points = Arrays.copyOf(points, capacity);
                hashes = Arrays.copyOf(hashes, capacity);
            }
        }
        long timestamp = point.timestamp();
        earliest = Math.min(earliest, timestamp);
        latest = Math.max(latest, timestamp);
        hashes[pointCount] = point.seriesHash();
        points[pointCount++] = point;
        if (pointCount >= maxBatchPoints) {
            bulkRead = true;
            closeCurrent(null);
        }
    }

    @Override
    public void reject(Reject reject) {
        received++;
        rejects.add(reject);
    }

    @Override
    public void sync(String id, int line) {
        closeCurrent(id);
    }

    private void resetCurrent() {
        pointCount = 0;
        rejects = new ArrayList<>(0);
    }

    private void closeCurrent(String syncId) {
        List<Point> batchPoints = List.of();
        int[] batchHashes = null;
        if (pointCount > 0) {
            batchPoints = new PointList(points, 0, pointCount);
            batchHashes = hashes;
            nextCapacity = Math.max(MIN_CAPACITY, Math.min(maxBatchPoints, pointCount + pointCount / 4));
            points = NO_POINTS;
            hashes = NO_HASHES;
        }
        Batch batch = new Batch(this, batchPoints, rejects, syncId);
        if (batchHashes != null) {
            batch.summarize(batchHashes, earliest, latest);
        }
        if (bulkRead) {
            batch.markBulk();
        }
        cut.add(batch);
        resetCurrent();
    }

    private List<Batch> cutBatches(boolean end) {
        if (pointCount > 0 || !rejects.isEmpty()) {
            closeCurrent(null);
        }
        bulkRead = false;
        metrics.received(received);
        received = 0;
        List<Batch> out = cut;
        cut = new ArrayList<>(2);
        List<Batch> toPipeline = new ArrayList<>(out.size());
        synchronized (this) {
            outstanding.addAll(out);
            if (end) {
                inputEnded = true;
            }
        }
        for (Batch b : out) {
            if (b.points().isEmpty()) {
                completed(b);
            } else {
                toPipeline.add(b);
            }
        }
        if (end) {
            drainCompleted();
        }
        return toPipeline;
    }

    @Override
    public void completed(Batch batch) {
        if (batch.admitted()) {
            buffer.release(batch);
        }
        synchronized (this) {
            completedBatches.add(batch);
        }
        try {
            answerOn.execute(this::drainCompleted);
        } catch (RejectedExecutionException e) {
            drainCompleted(); // the event loop is shutting down: answer here rather than never
        }
    }

    /** Hands completed batches to the replies strictly in input order; serialized by the session lock. */
    private synchronized void drainCompleted() {
        Batch head;
        while ((head = outstanding.peekFirst()) != null && completedBatches.remove(head)) {
            outstanding.pollFirst();
            List<Reject> rs = head.rejects();
            if (rs.size() > 1) {
                rs.sort(BY_LINE);
            }
            for (int i = 0, n = rs.size(); i < n; i++) {
                metrics.rejected(rs.get(i).reason());
            }
            rejected += rs.size();
            boolean burstStart = false;
            if (head.dropped() != null) {
                int n = head.points().size();
                dropped += n;
                metrics.dropped(head.dropped(), n);
                burstStart = !lastDropped && n > 0;
                lastDropped = n > 0;
            } else {
                accepted += head.accepted();
                metrics.accepted(head.accepted());
                if (!head.points().isEmpty()) {
                    lastDropped = false;
                }
            }
            replies.completed(head, rs, burstStart, new Totals(accepted, rejected, dropped));
        }
        if (inputEnded && outstanding.isEmpty()) {
            inputEnded = false;
            replies.finished(new Totals(accepted, rejected, dropped));
            finished = true;
            whenDone.run();
            done.tryEmitEmpty();
        }
    }
}
