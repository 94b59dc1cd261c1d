package dev.meterline.store;

import dev.meterline.model.Aggregate;
import dev.meterline.model.Window;
import dev.meterline.store.WindowTable.Row;
import dev.meterline.store.WindowTable.Written;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
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

    /** Written rows examined per page. */
    private static final int PAGE = 5_000;

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

    private void rollInto(long coarse, long now) {
        long mark = db.read("rollup watermark", c -> table.rollupWatermark(c, replica, coarse));
        while (true) {
            long after = mark;
            List<Written> page = db.read("rollup scan", c -> table.writtenAfter(c, replica, after, PAGE));
            if (page.isEmpty()) {
                return;
            }
            long blocked = Long.MAX_VALUE;
            Set<Group> ready = new LinkedHashSet<>();
            for (Written w : page) {
                if (w.resolution() >= coarse || coarse % w.resolution() != 0) {
                    continue;
                }
                long start = Window.startOf(w.start(), coarse);
                if (isReady(start, coarse, w.resolution(), now)) {
                    ready.add(new Group(w.metric(), w.resolution(), start));
                } else {
                    blocked = Math.min(blocked, w.id());
                }
            }
            for (Group g : ready) {
                db.inTransaction("rollup", c -> {
                    merge(c, g, coarse, now);
                    return null;
                });
            }
            long next = blocked == Long.MAX_VALUE ? page.get(page.size() - 1).id() : blocked - 1;
            if (next > mark) {
                db.inTransaction("rollup watermark", c -> {
                    table.setRollupWatermark(c, replica, coarse, next);
                    return null;
                });
                mark = next;
            }
            if (blocked != Long.MAX_VALUE || page.size() < PAGE) {
                return;
            }
        }
    }

    /**
     * A coarse window is rolled up once it has ended plus the delay, or earlier when its first written partials are
     * about to expire (a tier coarser than the finest tier's retention).
     */
    private boolean isReady(long start, long coarse, long written, long now) {
        return now >= start + coarse + delayMillis || start < now - tiers.retentionOf(written);
    }

    private void merge(Connection c, Group g, long coarse, long now) throws SQLException {
        Map<Long, Row> existing = new LinkedHashMap<>();
        for (Row r : table.selectOwn(c, replica, g.metric(), coarse, g.start(), g.start() + 1, true)) {
            existing.put(r.seriesId(), r);
        }
        Map<Long, List<Row>> fresh = new LinkedHashMap<>();
        for (Row r : table.selectOwn(c, replica, g.metric(), g.resolution(), g.start(), g.start() + coarse, false)) {
            Row e = existing.get(r.seriesId());
            if (e == null || r.id() > e.mergedThrough()) {
                fresh.computeIfAbsent(r.seriesId(), k -> new ArrayList<>()).add(r);
            }
        }
        boolean ended = now >= g.start() + coarse + delayMillis;
        for (Map.Entry<Long, List<Row>> entry : fresh.entrySet()) {
            Row e = existing.get(entry.getKey());
            Aggregate merged = e == null ? new Aggregate() : e.aggregate();
            boolean complete = ended && (e == null || e.complete());
            long flushSeq = e == null ? 0 : e.flushSeq();
            long through = e == null ? 0 : e.mergedThrough();
            for (Row r : entry.getValue()) {
                merged.mergeWith(r.aggregate());
                complete &= r.complete();
                flushSeq = Math.max(flushSeq, r.flushSeq());
                through = Math.max(through, r.id());
            }
            if (e == null) {
                table.insertRollup(c, replica, g.metric(), entry.getKey(), coarse, g.start(), flushSeq, merged,
                        complete, through);
            } else {
                table.updateRollup(c, e.id(), flushSeq, merged, complete, through);
            }
        }
    }
}
