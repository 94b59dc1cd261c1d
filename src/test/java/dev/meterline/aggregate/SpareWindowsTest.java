package dev.meterline.aggregate;

import dev.meterline.model.Aggregate;
import dev.meterline.model.AggregateAssertions;
import dev.meterline.model.SeriesKey;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Spare older windows are handed out again, never past their bound, and only once emptied. */
class SpareWindowsTest {

    private static final SeriesKey KEY = SeriesKey.of("m", Map.of());

    @Test
    void keepsNoMoreThanItsBoundAndTrimsWhenItFalls() {
        SpareWindows spares = new SpareWindows();
        for (int i = 0; i < 10; i++) {
            spares.give(new OlderWindow(), 4);
        }
        assertEquals(4, spares.size());
        spares.trim(6);
        assertEquals(4, spares.size(), "trimming to a higher bound keeps them all");
        spares.trim(1);
        assertEquals(1, spares.size());
        spares.trim(0);
        assertEquals(0, spares.size());
        spares.give(new OlderWindow(), 0);
        assertEquals(0, spares.size(), "a bound of none keeps none");
    }

    @Test
    void handsOutWhatItKeptThenNewOnes() {
        SpareWindows spares = new SpareWindows();
        OlderWindow a = new OlderWindow();
        OlderWindow b = new OlderWindow();
        spares.give(a, 2);
        spares.give(b, 2);
        OlderWindow first = spares.take();
        OlderWindow second = spares.take();
        assertTrue(first == b && second == a, "the last kept goes out first");
        assertNull(first.next, "a spare handed out is linked to nothing");
        assertNull(second.next);
        assertEquals(0, spares.size());
        OlderWindow fresh = spares.take();
        assertNotSame(a, fresh);
        assertNotSame(b, fresh);
    }

    @Test
    void refusesAWindowThatStillHoldsValues() {
        SpareWindows spares = new SpareWindows();
        OlderWindow w = new OlderWindow();
        w.accept(3, 1);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> spares.give(w, 8));
        assertTrue(e.getMessage().contains("holds values"), e.getMessage());
        assertEquals(0, spares.size());
    }

    /**
     * A window closed with values of every form (a few in fields, an array, bins, a late point), emptied by its close
     * and opened again for another start, reads as a new window; the closed one reads as it was.
     */
    @Test
    void aReusedWindowCarriesNothingOfTheOneBefore() {
        SpareWindows spares = new SpareWindows();
        for (int values : new int[] {1, 4, 5, 40, 600}) {
            SeriesState s = new SeriesState(KEY);
            s.open(20, spares).accept(-1, 20);
            Aggregate older = s.open(10, spares);
            Aggregate reference = new Aggregate();
            for (int i = 0; i < values; i++) {
                older.accept(i * 3.5 - 7, 10 + i);
                reference.accept(i * 3.5 - 7, 10 + i);
            }
            older.markLate();
            reference.markLate();
            assertSame(older, s.remove(10));
            ClosedWindows closed = new ClosedWindows(1, 10, 1);
            closed.take(KEY, 10, true, older);
            spares.give((OlderWindow) older, 1);

            Aggregate reopened = s.open(0, spares);
            assertSame(older, reopened, "the spare is taken again");
            AggregateAssertions.assertSameContents(new Aggregate(), reopened, values + " values: reopened empty");
            assertEquals(0, reopened.late(), values + " values: no late count carried over");
            reopened.accept(100, 1);
            AggregateAssertions.assertSameContents(reference, closed.get(0).aggregate(),
                    values + " values: the closed window shares nothing with its reuse");
            assertSame(reopened, s.remove(0));
        }
    }
}
