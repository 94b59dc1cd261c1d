package dev.meterline.ingest;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The line timeout's clock, with time as a parameter: what starts it, what restarts it, what stops it. */
class LineDeadlineTest {

    @Test
    void aLineInProgressExpiresAfterTheTimeoutEvenIfBytesKeepComing() {
        LineDeadline d = new LineDeadline(1000);
        d.afterRead(false, true, 0);
        d.afterRead(false, true, 500);
        d.afterRead(false, true, 999);
        assertFalse(d.expired(999));
        assertTrue(d.expired(1000), "one byte at a time does not extend the line");
    }

    @Test
    void completingALineRestartsTheClockForTheNextOne() {
        LineDeadline d = new LineDeadline(1000);
        d.afterRead(false, true, 0);
        d.afterRead(true, true, 900);
        assertFalse(d.expired(1800));
        assertTrue(d.expired(1900));
    }

    @Test
    void noLineInProgressNeverExpires() {
        LineDeadline d = new LineDeadline(1000);
        assertFalse(d.expired(10_000));
        d.afterRead(false, true, 0);
        d.afterRead(true, false, 10);
        assertFalse(d.expired(1_000_000));
    }

    @Test
    void timeTheServerSpentNotReadingDoesNotCount() {
        LineDeadline d = new LineDeadline(1000);
        d.afterRead(false, true, 0);
        d.resumed(5000);
        assertFalse(d.expired(5999));
        assertTrue(d.expired(6000));
    }
}
