package dev.meterline.store;

import dev.meterline.model.Aggregate;
import dev.meterline.model.Window;
import dev.meterline.store.WindowTable.Row;
import dev.meterline.store.WindowTable.Written;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Rolls this replica's written partials up into each coarser tier, one short transaction per batch of whole series of
 * a (metric, coarse window).
 *
 * <p>Idempotence: a rolled-up row remembers the highest written-row id merged into it ({@code merged_through}), and
 * only written rows above it are merged, in id order; so re-running merges nothing twice, a late partial written
 * after its coarse window was rolled up is merged on the next run, and a written partial deleted by retention stays
 * counted in the coarse row. A per-tier watermark ({@code meterline_rollup}) only saves rescanning; it never
 * passes a written row whose coarse window was not ready yet.
 *
 * <p>A tier with a source tier ({@link Tiers#sourceOf}) is built from that tier's rows instead, which already merged
 * the partials: an hour from 60 minute rows a series rather than 360 partials. Its watermark, still over written-row
 * ids, never passes the source tier's, so each partial it passes is in the source's rows; a coarse window that a
 * partial above it falls in is recomputed from all of the window's source rows (replacing what it held, so a source
 * row that changed is never counted twice), and remembers the highest id its source rows merged. A coarse window
 * older than the source tier's retention, whose source rows may be gone, merges its partials above that id as above.
 */
final class Rollup {

    /** Row ids examined per page of the scan. */
    private static final int PAGE = 5_000;
    /** Rows rolled up in one batch, one transaction, give or take one series' (see {@link #inBatches}). */
    private static final int MERGE_ROWS = 8_192;

    private final Db db;
    private final WindowTable table;
    private final Tiers tiers;
    private final String replica;
    private final long delayMillis;

    Rollup(Db db, WindowTable table, Tiers tiers, String replica, long delayMillis) {
        this.db = db;
        this.table = table;
        this.tiers = tiers;
        this.replica = replica;
        this.delayMillis = delayMillis;
    }

    private record Group(String metric, long resolution, long start) {
    }

    void run(long now) {
        for (int i = 0; i < tiers.size(); i++) {
            rollInto(i, now);
        }
    }

    /**
     * Scans this replica's written partials above the tier's watermark, {@value #PAGE} ids at a time up to the
     * highest id stored when the scan began (or the source tier's watermark, when lower), stopping after the first
     * page that holds a partial whose coarse window is not ready; collects the coarse windows that are, rolls each
     * of those up once, and moves the watermark to the last partial scanned (or to just before the first that was
     * not ready). A coarse window's partials span many pages (a flush writes every series of a start before the next
     * start), and a merge reads all of them, so merging per page would read a coarse window of a large metric again
     * for every page of it.
     */
    private void rollInto(int tier, long now) {
        long coarse = tiers.resolution(tier);
        int source = tiers.sourceOf(tier, delayMillis);
        long mark = db.readApart("rollup watermark", c -> table.rollupWatermark(c, replica, coarse));
        long stored = db.readApart("rollup scan", table::maxId);
        long end = source < 0 ? stored : Math.min(stored, db.readApart("rollup watermark",
                c -> table.rollupWatermark(c, replica, tiers.resolution(source))));
        long last = mark;
        long blocked = Long.MAX_VALUE;
        Set<Group> ready = new LinkedHashSet<>();
        for (long from = mark; from < end && blocked == Long.MAX_VALUE; from += PAGE) {
            long after = from;
            long through = Math.min(end, from + PAGE);
            for (Written w : db.readApart("rollup scan", c -> table.writtenBetween(c, replica, after, through))) {
                last = Math.max(last, w.lastId());
                if (w.resolution() >= coarse || coarse % w.resolution() != 0) {
                    continue;
                }
                long start = Window.startOf(w.start(), coarse);
                if (isReady(start, coarse, w.resolution(), now)) {
                    ready.add(new Group(w.metric(), w.resolution(), start));
                } else {
                    blocked = Math.min(blocked, w.firstId());
                }
            }
        }
        for (Group g : ready) {
            if (source >= 0 && isSourceOf(source, g, now)) {
                inBatches(g, coarse, tiers.resolution(source), now, table::selectFiner, this::recomputeSeries);
            } else {
                inBatches(g, coarse, g.resolution(), now, table::selectWritten, this::mergeSeries);
            }
        }
        long next = blocked == Long.MAX_VALUE ? last : blocked - 1;
        if (next > mark) {
            db.inTransaction("rollup watermark", c -> {
                table.setRollupWatermark(c, replica, coarse, next);
                return null;
            });
        }
    }

    /**
     * Whether the source tier's rows hold all of {@code g}'s partials: the source is rolled up from partials of
     * {@code g}'s resolution, and retention has deleted none of its rows in the coarse window.
     */
    private boolean isSourceOf(int source, Group g, long now) {
        long fine = tiers.resolution(source);
        return g.resolution() < fine && fine % g.resolution() == 0 && g.start() >= now - tiers.retention(source);
    }

    /**
     * A coarse window is rolled up once it has ended plus the delay, or earlier when its first written partials are
     * about to expire (a tier coarser than the finest tier's retention).
     */
    private boolean isReady(long start, long coarse, long written, long now) {
        return now >= start + coarse + delayMillis || start < now - tiers.retentionOf(written);
    }

    /**
     * Rolls a coarse window's rows at the {@code fine} resolution up a batch of whole series at a time, in series
     * order, each batch in a transaction of its own: about {@value #MERGE_ROWS} rows, so that neither the heap nor
     * the writer holds a large metric's coarse window at once (an hour of 10 s windows is 360 partials a series). A
     * batch continues from the last series of the one before it; its rows and the coarse rows they go into are read
     * in its transaction, so on SQLite nothing writes between the read and the write.
     *
     * <p>A pass that stops between batches leaves the batches before committed and the group's watermark unmoved:
     * the next pass rolls the whole coarse window up again, and the coarse rows those batches stored merge nothing
     * twice (their {@code merged_through}) or are replaced (recomputed).
     */
    private void inBatches(Group g, long coarse, long fine, long now, BatchReader read, BatchRollup roll) {
        long from = g.start();
        long to = g.start() + coarse;
        int starts = db.readApart("rollup scan", c -> table.countStarts(c, g.metric(), fine, from, to));
        if (starts == 0) {
            return;
        }
        int perStart = Math.max(1, MERGE_ROWS / starts);
        boolean ended = now >= to + delayMillis;
        long after = Long.MIN_VALUE;
        while (after != Long.MAX_VALUE) {
            long previous = after;
            after = db.inTransaction("rollup", c -> {
                long through = table.batchEnd(c, replica, g.metric(), fine, from, to, previous, perStart);
                List<Row> rows = read.rows(c, replica, g.metric(), fine, from, to, previous, through);
                if (!rows.isEmpty()) {
                    roll.roll(c, g.metric(), coarse, g.start(), ended, rows);
                }
                return through;
            });
        }
    }

    /** A batch of a coarse window's rows at one resolution, of the series with ids in (after, through]. */
    @FunctionalInterface
    private interface BatchReader {
        List<Row> rows(Connection c, String replica, String metric, long resolution, long from, long to,
                       long afterSeries, long throughSeries) throws SQLException;
    }

    /** Rolls up the rows of whole series into their coarse rows at {@code start}, and stores those. */
    @FunctionalInterface
    private interface BatchRollup {
        void roll(Connection c, String metric, long coarse, long start, boolean ended, List<Row> rows)
                throws SQLException;
    }

    /**
     * Merges the finer rows of whole series (in series order) into their coarse rows, replacing what those held. A
     * coarse row stays incomplete once it was stored incomplete (rolled up early).
     */
    private void recomputeSeries(Connection c, String metric, long coarse, long start, boolean ended, List<Row> finer)
            throws SQLException {
        Map<Long, Row> existing = rolledUp(c, metric, coarse, start, finer);
        List<WindowTable.Rolled> rolled = new ArrayList<>();
        int i = 0;
        while (i < finer.size()) {
            long series = finer.get(i).seriesId();
            Row e = existing.get(series);
            Aggregate merged = new Aggregate();
            boolean complete = ended && (e == null || e.complete());
            long flushSeq = 0;
            long through = 0;
            for (; i < finer.size() && finer.get(i).seriesId() == series; i++) {
                Row r = finer.get(i);
                merged.mergeWith(r.aggregate());
                complete &= r.complete();
                flushSeq = Math.max(flushSeq, r.flushSeq());
                through = Math.max(through, r.mergedThrough());
            }
            rolled.add(new WindowTable.Rolled(e == null ? 0 : e.id(), series, flushSeq, merged, complete, through));
        }
        table.storeRollups(c, replica, metric, coarse, start, rolled);
    }

    /** The coarse rows at {@code start} of the series from the first to the last of {@code rows}, by series id. */
    private Map<Long, Row> rolledUp(Connection c, String metric, long coarse, long start, List<Row> rows)
            throws SQLException {
        Map<Long, Row> existing = new HashMap<>();
        long first = rows.get(0).seriesId();
        long last = rows.get(rows.size() - 1).seriesId();
        for (Row r : table.selectRolledUp(c, replica, metric, coarse, start, start + 1, first, last)) {
            existing.put(r.seriesId(), r);
        }
        return existing;
    }

    /**
     * Merges the written partials of whole series (in series order, each series' in write order) above what their
     * rolled-up rows have merged, and stores those rows.
     */
    private void mergeSeries(Connection c, String metric, long coarse, long start, boolean ended, List<Row> partials)
            throws SQLException {
        Map<Long, Row> existing = rolledUp(c, metric, coarse, start, partials);
        List<WindowTable.Rolled> rolled = new ArrayList<>();
        int i = 0;
        while (i < partials.size()) {
            long series = partials.get(i).seriesId();
            Row e = existing.get(series);
            Aggregate merged = null;
            boolean complete = ended && (e == null || e.complete());
            long flushSeq = e == null ? 0 : e.flushSeq();
            long through = e == null ? 0 : e.mergedThrough();
            for (; i < partials.size() && partials.get(i).seriesId() == series; i++) {
                Row r = partials.get(i);
                if (e != null && r.id() <= e.mergedThrough()) {
                    continue;
                }
                if (merged == null) {
                    merged = e == null ? new Aggregate() : e.aggregate();
                }
                merged.mergeWith(r.aggregate());
                complete &= r.complete();
                flushSeq = Math.max(flushSeq, r.flushSeq());
                through = Math.max(through, r.id());
            }
            if (merged != null) {
                rolled.add(new WindowTable.Rolled(e == null ? 0 : e.id(), series, flushSeq, merged, complete,
                        through));
            }
        }
        if (!rolled.isEmpty()) {
            table.storeRollups(c, replica, metric, coarse, start, rolled);
        }
    }
}
