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
 * Rolls this replica's written partials up into each coarser tier, one short transaction per (metric, coarse window).
 *
 * <p>Idempotence: a rolled-up row remembers the highest written-row id merged into it ({@code merged_through}), and
 * only written rows above it are merged, in id order; so re-running merges nothing twice, a late partial written
 * after its coarse window was rolled up is merged on the next run, and a written partial deleted by retention stays
 * counted in the coarse row. A per-tier watermark ({@code meterline_rollup}) only saves rescanning; it never
 * passes a written row whose coarse window was not ready yet.
 */
final class Rollup {

    /** Row ids examined per page of the scan. */
    private static final int PAGE = 5_000;
    /** Written partials merged at a time, give or take one series' (see {@link #merge}). */
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
            rollInto(tiers.resolution(i), now);
        }
    }

    /**
     * Scans this replica's written partials above the tier's watermark, {@value #PAGE} ids at a time up to the
     * highest id stored when the scan began, stopping after the first page that holds a partial whose coarse window
     * is not ready; collects the coarse windows that are, merges each of those once, and moves the watermark to the
     * last partial scanned (or to just before the first that was not ready). A coarse window's partials span many
     * pages (a flush writes every series of a start before the next start), and a merge reads all of them, so
     * merging per page would read a coarse window of a large metric again for every page of it.
     */
    private void rollInto(long coarse, long now) {
        long mark = db.read("rollup watermark", c -> table.rollupWatermark(c, replica, coarse));
        long end = db.read("rollup scan", table::maxId);
        long last = mark;
        long blocked = Long.MAX_VALUE;
        Set<Group> ready = new LinkedHashSet<>();
        for (long from = mark; from < end && blocked == Long.MAX_VALUE; from += PAGE) {
            long after = from;
            long through = Math.min(end, from + PAGE);
            for (Written w : db.read("rollup scan", c -> table.writtenBetween(c, replica, after, through))) {
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
            db.inTransaction("rollup", c -> {
                merge(c, g, coarse, now);
                return null;
            });
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
     * A coarse window is rolled up once it has ended plus the delay, or earlier when its first written partials are
     * about to expire (a tier coarser than the finest tier's retention).
     */
    private boolean isReady(long start, long coarse, long written, long now) {
        return now >= start + coarse + delayMillis || start < now - tiers.retentionOf(written);
    }

    /**
     * Merges a coarse window's written partials into its rolled-up rows. The partials are read in series order and
     * merged a batch of whole series at a time, about {@value #MERGE_ROWS} partials, so that the heap never holds a
     * large metric's coarse window at once (an hour of 10 s windows is 360 partials a series).
     */
    private void merge(Connection c, Group g, long coarse, long now) throws SQLException {
        boolean ended = now >= g.start() + coarse + delayMillis;
        List<Row> batch = new ArrayList<>();
        table.streamWritten(c, replica, g.metric(), g.resolution(), g.start(), g.start() + coarse, r -> {
            if (batch.size() >= MERGE_ROWS && r.seriesId() != batch.get(batch.size() - 1).seriesId()) {
                mergeSeries(c, g.metric(), coarse, g.start(), ended, batch);
                batch.clear();
            }
            batch.add(r);
        });
        if (!batch.isEmpty()) {
            mergeSeries(c, g.metric(), coarse, g.start(), ended, batch);
        }
    }

    /**
     * Merges the written partials of whole series (in series order, each series' in write order) above what their
     * rolled-up rows have merged, and stores those rows.
     */
    private void mergeSeries(Connection c, String metric, long coarse, long start, boolean ended, List<Row> partials)
            throws SQLException {
        Map<Long, Row> existing = new HashMap<>();
        long first = partials.get(0).seriesId();
        long last = partials.get(partials.size() - 1).seriesId();
        for (Row r : table.selectRolledUp(c, replica, metric, coarse, start, start + 1, first, last)) {
            existing.put(r.seriesId(), r);
        }
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
