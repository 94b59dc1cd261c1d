package dev.meterline.ingest;

import dev.meterline.config.Overflow;
import dev.meterline.model.Batch;
import dev.meterline.model.Point;
import dev.meterline.model.SeriesKey;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A paused buffer (storage backlog full) makes every batch wait, under either overflow policy, and never drops. */
class IngestBufferPauseTest {

    private static Batch batch(int points) {
        List<Point> list = new ArrayList<>();
        for (int i = 0; i < points; i++) {
            list.add(new Point(SeriesKey.of("m", Map.of()), i, 1_000L + i, i + 1));
        }
        return new Batch(b -> { }, list, new ArrayList<>(), null);
    }

    @ParameterizedTest
    @EnumSource(Overflow.class)
    void aPausedBufferHoldsBatchesUntilResumed(Overflow overflow) {
        IngestBuffer buffer = new IngestBuffer(100, overflow);
        buffer.pause(true);
        assertTrue(buffer.paused());
        Batch b = batch(3);
        AtomicReference<Batch> admitted = new AtomicReference<>();
        buffer.admit(b, Runnable::run).subscribe(admitted::set);

        assertNull(admitted.get());
        assertEquals(1, buffer.waiting());
        assertEquals(0, buffer.depth());
        assertNull(b.dropped(), "a paused batch is never dropped");

        buffer.pause(false);
        assertSame(b, admitted.get());
        assertEquals(0, buffer.waiting());
        assertEquals(3, buffer.depth());
    }

    @Test
    void resumingKeepsTheOrderOfWaitingBatches() {
        IngestBuffer buffer = new IngestBuffer(100, Overflow.BLOCK);
        buffer.pause(true);
        List<Batch> order = new ArrayList<>();
        Batch first = batch(1);
        Batch second = batch(2);
        buffer.admit(first, Runnable::run).subscribe(order::add);
        buffer.admit(second, Runnable::run).subscribe(order::add);
        assertTrue(order.isEmpty());
        buffer.pause(false);
        assertEquals(List.of(first, second), order);
        assertFalse(buffer.paused());
    }
}
