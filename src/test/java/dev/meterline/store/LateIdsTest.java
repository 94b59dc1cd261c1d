package dev.meterline.store;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The ids that may still appear, as reads report what they found and snapshots settle their marks. */
class LateIdsTest {

    /** The gaps as text: {@code lo-hi} each. */
    private static String gaps(LateIds ids) {
        LateIds.Gaps gaps = ids.gaps();
        List<String> out = new ArrayList<>();
        for (int i = 0; i < gaps.size(); i++) {
            out.add(gaps.low()[i] + "-" + gaps.high()[i]);
        }
        return String.join(" ", out);
    }

    @Test
    void idsNoReadFoundAreGapsUntilFoundOrFinal() {
        LateIds ids = new LateIds(true);
        // A snapshot with transaction 10 running, 12 the first not started.
        ids.settle(0, 10, 12);
        for (long id : new long[] {1, 2, 5, 6, 9}) {
            ids.found(id);
        }
        assertEquals(9, ids.through());
        assertEquals("3-4 7-8", gaps(ids));
        assertTrue(ids.gaps().holds(4) && ids.gaps().holds(7) && !ids.gaps().holds(5) && !ids.gaps().holds(10));

        // Id 4 committed; the read's mark (9, 12) waits while transaction 10 runs.
        ids.settle(9, 10, 13);
        ids.foundInGaps(new long[] {4}, 1);
        assertEquals("3-3 7-8", gaps(ids));
        assertFalse(ids.finalThrough());

        // Transaction 10 ended, the oldest running started after both marks: every id up to 9 is final.
        ids.settle(9, 13, 14);
        assertTrue(ids.finalThrough());
        assertEquals("3-3 7-8", gaps(ids), "the gaps are looked up once more after the settling");
        ids.foundInGaps(new long[] {8}, 1);
        assertEquals("", gaps(ids));

        // Gaps after the final ids only.
        ids.found(12);
        assertEquals("10-11", gaps(ids));
    }

    @Test
    void aFirstLookTakesIdsAsReadThatAreListedOnlyOnceFinal() {
        LateIds ids = new LateIds(true);
        ids.settle(100, 90, 95);
        ids.startOver(100);
        assertFalse(ids.listed(), "a transaction that began before the snapshot may hold an id below 100");
        ids.settle(100, 94, 96);
        assertFalse(ids.listAgain());
        assertFalse(ids.listed());
        ids.settle(100, 96, 96);
        assertTrue(ids.listAgain());
        assertTrue(ids.listed());
        ids.found(104);
        assertEquals("101-103", gaps(ids));

        LateIds quiet = new LateIds(true);
        quiet.settle(100, 95, 95);
        quiet.startOver(100);
        assertTrue(quiet.listed(), "no transaction ran at the snapshot");
    }

    @Test
    void pastTheBoundTheGapsAreNotListedUntilEveryIdIsFinal() {
        LateIds ids = new LateIds(true);
        ids.settle(0, 1, 2);
        for (int i = 0; i <= LateIds.MAX_GAPS; i++) {
            ids.found(2L * i + 2);
        }
        assertFalse(ids.listed());
        assertEquals(0, ids.gaps().size());
        ids.found(2L * LateIds.MAX_GAPS + 10);
        assertEquals(0, ids.gaps().size(), "nothing listed above either");
        assertFalse(ids.listAgain());
        ids.settle(ids.through(), 2, 2);
        assertTrue(ids.listAgain());
        assertEquals(0, ids.gaps().size());
    }

    @Test
    void withOneWriterIdsAreNeverLate() {
        LateIds ids = new LateIds(false);
        ids.startOver(50);
        assertTrue(ids.listed());
        ids.found(60);
        ids.foundThrough(70);
        assertEquals(70, ids.through());
        assertEquals(0, ids.gaps().size());
    }

    @Test
    void foundIdsSplitTheGapsTheyLieIn() {
        LateIds.Gaps gaps = new LateIds.Gaps(new long[] {3, 10}, new long[] {8, 10});
        LateIds.Gaps left = gaps.without(new long[] {3, 5, 10}, 3, 0);
        assertEquals(List.of(4L, 6L), List.of(left.low()[0], left.low()[1]));
        assertEquals(List.of(4L, 8L), List.of(left.high()[0], left.high()[1]));
        assertEquals(2, left.size());
        assertEquals(2, gaps.without(new long[0], 0, 6).size(), "7-8 and 10 left above the final ids");
    }
}
