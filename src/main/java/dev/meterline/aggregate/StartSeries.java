package dev.meterline.aggregate;

import java.util.Arrays;

/**
 * The series with an open window at one start, in the order their windows opened, held in chunks: a start with few
 * series costs a small array, and past {@link #MAX_CHUNK} each chunk is a fresh array filled while it is still young,
 * so a long-lived start's list is never an old array that takes a young reference on each new window (which the
 * collector would scan at every young pause) and never copies itself to grow. Owned by its shard's thread.
 */
final class StartSeries {

    /** The first chunk's length; each next one is twice as long, up to {@link #MAX_CHUNK}. */
    static final int FIRST_CHUNK = 8;
    /** The longest chunk: a few KiB, filled within a few hundred new windows on a busy shard. */
    static final int MAX_CHUNK = 1024;

    private SeriesState[][] chunks = new SeriesState[4][];
    private int chunkCount;
    /** The chunk being filled, and how much of it is. */
    private SeriesState[] tail;
    private int tailSize;
    private int size;

    /** Adds {@code s} after every series added before it. */
    void add(SeriesState s) {
        SeriesState[] t = tail;
        if (t == null || tailSize == t.length) {
            t = newChunk();
        }
        t[tailSize++] = s;
        size++;
    }

    private SeriesState[] newChunk() {
        int length = tail == null ? FIRST_CHUNK : Math.min(MAX_CHUNK, 2 * tail.length);
        SeriesState[] t = new SeriesState[length];
        if (chunkCount == chunks.length) {
            chunks = Arrays.copyOf(chunks, 2 * chunkCount);
        }
        chunks[chunkCount++] = t;
        tail = t;
        tailSize = 0;
        return t;
    }

    int size() {
        return size;
    }

    /** How many chunks hold the series, for tests. */
    int chunkCount() {
        return chunkCount;
    }

    /** Chunk {@code c} of {@link #chunkCount}; its first {@link #chunkSize} entries are series. */
    SeriesState[] chunk(int c) {
        return chunks[c];
    }

    /** How many series chunk {@code c} holds. */
    int chunkSize(int c) {
        return c == chunkCount - 1 ? tailSize : chunks[c].length;
    }
}
