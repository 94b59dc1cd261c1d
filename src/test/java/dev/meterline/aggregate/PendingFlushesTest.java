package dev.meterline.aggregate;

import dev.meterline.model.Aggregate;
import dev.meterline.model.SeriesKey;
import dev.meterline.model.Window;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The pending flushes as one metric's query sees them: every pending flush number, each with that metric's windows in
 * the order the flush holds them, and none of another metric's; a flush that leaves is gone from every view.
 */
class PendingFlushesTest {

    private static Window window(String metric, String host, long start, long seq) {
        return new Window(SeriesKey.of(metric, Map.of("host", host)), start, 10_000, new Aggregate(), true, seq);
    }

    @Test
    void aMetricsViewHoldsEveryFlushWithOnlyItsWindowsInOrder() {
        PendingFlushes pending = new PendingFlushes();
        Window cpuB = window("cpu", "b", 0, 1);
        Window memA = window("mem", "a", 0, 1);
        Window cpuA = window("cpu", "a", 0, 1);
        Window cpuLate = window("cpu", "b", -10_000, 1);
        Window mem2 = window("mem", "a", 10_000, 2);
        pending.register(1, List.of(cpuB, memA, cpuA, cpuLate));
        pending.register(2, List.of(mem2));

        assertEquals(Map.of(1L, List.of(cpuB, cpuA, cpuLate), 2L, List.of()), pending.view("cpu"));
        assertEquals(Map.of(1L, List.of(memA), 2L, List.of(mem2)), pending.view("mem"));
        assertEquals(Map.of(1L, List.of(), 2L, List.of()), pending.view("disk"));
        assertEquals(Map.of(1L, List.of(cpuB, memA, cpuA, cpuLate), 2L, List.of(mem2)), pending.view());

        pending.remove(1);
        assertEquals(Map.of(2L, List.of()), pending.view("cpu"));
        assertEquals(1, pending.windows());
        assertEquals(1, pending.departures());
    }

    @Test
    void aFlushPartlySpooledShowsOnlyWhatStillWaitsUnderItsNumber() {
        PendingFlushes pending = new PendingFlushes();
        Window cpuA = window("cpu", "a", 0, 1);
        Window cpuB = window("cpu", "b", 0, 1);
        pending.register(1, List.of(cpuA, cpuB));
        assertEquals(Map.of(1L, List.of(cpuA, cpuB)), pending.view("cpu"));

        pending.register(1, List.of(cpuB));
        assertEquals(Map.of(1L, List.of(cpuB)), pending.view("cpu"));

        pending.registerAll(List.of(window("cpu", "c", 20_000, 7), window("mem", "a", 20_000, 6)));
        assertEquals(List.of(1L, 6L, 7L), pending.view("cpu").keySet().stream().sorted().toList());
        assertEquals(List.of(), pending.view("cpu").get(6L));
    }
}
