package dev.meterline.lifecycle;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What readiness answers in each lifecycle state and storage condition. */
class ReadinessCheckTest {

    private static ReadinessCheck check(Readiness.State state, boolean failing, long spooled, boolean spoolFull,
                                        boolean paused) {
        return new ReadinessCheck(state, failing, failing ? "connection refused" : null, spooled, spoolFull, paused,
                7, 100, 3);
    }

    @Test
    void readyOnlyWhileReady() {
        for (Readiness.State s : Readiness.State.values()) {
            ReadinessCheck c = check(s, false, 0, false, false);
            assertEquals(s == Readiness.State.READY, c.ready(), s.label());
            assertEquals(s.label(), c.status());
            assertNull(c.reason());
        }
    }

    @Test
    void failingStorageIsDegradedButStillReady() {
        ReadinessCheck c = check(Readiness.State.READY, true, 0, false, false);
        assertTrue(c.ready());
        assertEquals("degraded", c.status());
        assertEquals("storage unreachable: connection refused", c.reason());
    }

    @Test
    void theReasonCountsSpooledWindowsAndAFullSpool() {
        assertEquals("storage unreachable: connection refused; 5 windows spooled to disk",
                check(Readiness.State.READY, true, 5, false, false).reason());
        assertEquals("storage unreachable: connection refused; 5 windows spooled to disk (spool full)",
                check(Readiness.State.READY, true, 5, true, false).reason());
    }

    @Test
    void pausedIngestIsNotReady() {
        ReadinessCheck c = check(Readiness.State.READY, true, 0, false, true);
        assertFalse(c.ready());
        assertEquals("degraded", c.status());
        assertEquals("storage unreachable: connection refused; ingest paused: 7 windows wait for storage"
                + " (max-pending-windows 100)", c.reason());
        assertEquals("ingest paused: 7 windows wait for storage (max-pending-windows 100)",
                check(Readiness.State.READY, false, 0, false, true).reason());
    }

    @Test
    void drainingIsNeverDegraded() {
        ReadinessCheck c = check(Readiness.State.DRAINING, true, 3, true, true);
        assertFalse(c.ready());
        assertEquals("draining", c.status());
        assertNull(c.reason());
    }
}
