package dev.meterline.aggregate;

import dev.meterline.model.Aggregate;
import dev.meterline.model.SeriesKey;
import dev.meterline.model.Window;
import dev.meterline.telemetry.MeterNames;
import dev.meterline.telemetry.PipelineMetrics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

import java.util.AbstractList;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The pending flushes as one metric's query sees them: every pending flush number, each with that metric's windows in
 * the order the flush holds them, and none of another metric's; a flush that leaves is gone from every view. Narrowed
 * by the values a query names, a view holds every window of the series that have them, in the flush's order. A flush
 * that follows one queries asked is grouped and indexed for them ahead of its first query, and reads the same.
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

        pending.registerAll(List.of(List.of(window("cpu", "c", 20_000, 7)), List.of(window("mem", "a", 20_000, 6))));
        assertEquals(List.of(1L, 6L, 7L), pending.view("cpu").keySet().stream().sorted().toList());
        assertEquals(List.of(), pending.view("cpu").get(6L));
    }

    @Test
    void theFinalFlushsListsWaitAsTheyAreAndThoseOfOneNumberTogether() {
        PendingFlushes pending = new PendingFlushes();
        List<Window> shard0 = List.of(window("cpu", "a", 0, 4), window("cpu", "b", 0, 4));
        List<Window> shard1 = List.of(window("mem", "a", 0, 5));
        List<Window> alsoOf4 = List.of(window("cpu", "c", 10_000, 4));
        pending.registerAll(List.of(shard0, List.of(), shard1, alsoOf4));

        Map<Long, List<Window>> view = pending.view();
        assertEquals(List.of(4L, 5L), view.keySet().stream().sorted().toList());
        assertSame(shard1, view.get(5L), "a list alone waits as it is, not copied into window objects of its own");
        assertEquals(List.of(shard0.get(0), shard0.get(1), alsoOf4.get(0)), List.copyOf(view.get(4L)));
        assertEquals(4, pending.windows());
    }

    /** Windows of {@code metric}, each series with a random host of {@code hosts} (or none) and region of four. */
    private static List<Window> randomWindows(Random random, String metric, int n, List<String> hosts) {
        List<Window> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Map<String, String> tags = new HashMap<>();
            tags.put("id", "s" + i);
            if (random.nextInt(10) > 0) {
                tags.put("host", hosts.get(random.nextInt(hosts.size())));
            }
            tags.put("region", "r" + random.nextInt(4));
            out.add(new Window(SeriesKey.of(metric, tags), 10_000L * random.nextInt(3), 10_000, new Aggregate(), true,
                    1));
        }
        return out;
    }

    private static List<Window> those(List<Window> windows, Predicate<SeriesKey> wanted) {
        return windows.stream().filter(w -> wanted.test(w.series())).toList();
    }

    @Test
    void aViewNarrowedByTagValuesHoldsExactlyTheirSeriesWindowsInFlushOrder() {
        Random random = new Random(7);
        List<String> hosts = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            hosts.add("h" + i);
        }
        for (int round = 0; round < 20; round++) {
            PendingFlushes pending = new PendingFlushes();
            List<Window> cpu = randomWindows(random, "cpu", PendingFlushes.INDEX_FROM + random.nextInt(3_000), hosts);
            List<Window> mixed = new ArrayList<>(cpu);
            mixed.addAll(random.nextInt(mixed.size()), randomWindows(random, "mem", 500, hosts));
            pending.register(1, mixed);
            pending.register(2, cpu.subList(0, 10));
            for (int q = 0; q < 10; q++) {
                List<String> named = List.of(hosts.get(random.nextInt(300)), hosts.get(random.nextInt(300)), "none");
                Map<Long, List<Window>> view = pending.view("cpu", Map.of("host", named));
                assertEquals(those(cpu, k -> k.tagIn("host", named)), view.get(1L), "round " + round + " " + named);
                assertEquals(cpu.subList(0, 10), view.get(2L), "a flush of few windows is not narrowed");
            }
            assertEquals(Map.of(1L, cpu, 2L, cpu.subList(0, 10)), pending.view("cpu", Map.of("host", List.of())),
                    "a key naming no value narrows nothing");
            List<String> region = List.of("r1");
            List<String> host = List.of("h3");
            assertTrue(those(cpu, k -> k.tagIn("region", region) || k.tagIn("host", host)).containsAll(
                    pending.view("cpu", Map.of("region", region, "host", host)).get(1L)));
            assertTrue(pending.view("cpu", Map.of("region", region, "host", host)).get(1L)
                    .containsAll(those(cpu, k -> k.tagIn("region", region) && k.tagIn("host", host))));
        }
    }

    @Test
    void valuesSharingAHashGiveASupersetAndIndexesPastTheBoundWalkTheMetric() {
        // "Aa" and "BB" have one String hash.
        List<String> hosts = List.of("Aa", "BB", "Cc");
        PendingFlushes pending = new PendingFlushes();
        List<Window> cpu = randomWindows(new Random(3), "cpu", 2 * PendingFlushes.INDEX_FROM, hosts);
        pending.register(1, cpu);
        List<Window> aa = those(cpu, k -> k.tagIn("host", List.of("Aa")));
        List<Window> aaOrBb = those(cpu, k -> k.tagIn("host", List.of("Aa", "BB")));
        assertTrue(aa.size() < aaOrBb.size());
        assertEquals(aaOrBb, pending.view("cpu", Map.of("host", List.of("Aa"))).get(1L));
        assertEquals(aaOrBb, pending.view("cpu", Map.of("host", List.of("Aa", "BB"))).get(1L));

        assertEquals(those(cpu, k -> k.tagIn("region", List.of("r2"))),
                pending.view("cpu", Map.of("region", List.of("r2"))).get(1L));
        assertEquals(those(cpu, k -> k.tagIn("id", List.of("s5"))), pending.view("cpu", Map.of("id", List.of("s5")))
                .get(1L));
        assertEquals(List.of(), pending.view("cpu", Map.of("zone", List.of("z1"))).get(1L),
                "no series has the key");
        assertEquals(4, PendingFlushes.MAX_INDEXES, "four keys fill the bound");
        assertEquals(4, pending.indexes());
        assertEquals(cpu, pending.view("cpu", Map.of("dc", List.of("d1"))).get(1L),
                "past the bound a flush gives every window of the metric");
        assertEquals(4, pending.indexes());
        assertEquals(aaOrBb, pending.view("cpu", Map.of("dc", List.of("d1"), "host", List.of("Aa"))).get(1L),
                "an index kept still serves");
    }

    /** Hosts {@code h0}… {@code h299}. */
    private static List<String> hosts() {
        List<String> hosts = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            hosts.add("h" + i);
        }
        return hosts;
    }

    @Test
    void aFlushFollowingAnAskedOneIsPreparedAheadOfAnyQueryAndAnUnaskedOneIsNot() {
        List<Runnable> tasks = new ArrayList<>();
        PendingFlushes pending = new PendingFlushes();
        pending.prepareOn(Schedulers.fromExecutor(tasks::add));
        Random random = new Random(11);
        List<String> hosts = hosts();
        Map<String, List<String>> byHost = Map.of("host", List.of("h1"));

        pending.register(1, randomWindows(random, "cpu", 2 * PendingFlushes.INDEX_FROM, hosts));
        pending.register(2, randomWindows(random, "cpu", 2 * PendingFlushes.INDEX_FROM, hosts));
        assertEquals(List.of(), tasks, "no query asked flush 1");
        assertFalse(pending.grouped(2));

        pending.remove(1);
        pending.view("cpu", byHost);
        // Stored before the next flush comes, as a large flush often is.
        pending.remove(2);
        pending.register(3, randomWindows(random, "cpu", 2 * PendingFlushes.INDEX_FROM, hosts));
        assertEquals(1, tasks.size(), "a query asked flush 2");
        assertFalse(pending.grouped(3));
        tasks.remove(0).run();
        assertTrue(pending.grouped(3));
        assertEquals(1, pending.indexes(), "the index the query read");

        pending.register(4, randomWindows(random, "cpu", 2 * PendingFlushes.INDEX_FROM, hosts));
        assertEquals(List.of(), tasks, "flush 3 was prepared, and no query asked it");
        assertFalse(pending.grouped(4));
    }

    @Test
    void aPreparationThePrepareThreadRefusesIsLeftToTheFirstQueryWhichWaitsForNothing() {
        Random random = new Random(17);
        List<String> hosts = hosts();
        Map<String, List<String>> byHost = Map.of("host", List.of("h3"));
        PendingFlushes pending = new PendingFlushes();
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        pending.bindTo(new PipelineMetrics(registry));
        pending.prepareOn(Schedulers.fromExecutor(task -> {
            throw new RejectedExecutionException("full");
        }));
        pending.register(1, randomWindows(random, "cpu", 10, hosts));
        pending.view("cpu", byHost);
        pending.remove(1);

        List<Window> cpu = randomWindows(random, "cpu", 2 * PendingFlushes.INDEX_FROM, hosts);
        pending.register(2, cpu);
        assertNull(pending.preparing(), "nothing to wait for");
        assertFalse(pending.grouped(2));
        assertEquals(1, preparations(registry, "refused"));
        assertEquals(0, preparations(registry, "called_off"));
        assertEquals(Map.of(2L, those(cpu, k -> k.tagIn("host", List.of("h3")))), pending.view("cpu", byHost));
        assertTrue(pending.grouped(2));
    }

    @Test
    void aQueryBeforeThePreparationBeginsCallsItOffAndOneWhileItRunsWaitsForItsEnd() throws Exception {
        Random random = new Random(13);
        List<String> hosts = hosts();
        Map<String, List<String>> byHost = Map.of("host", List.of("h7"));
        List<Runnable> tasks = new ArrayList<>();
        PendingFlushes pending = new PendingFlushes();
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        pending.bindTo(new PipelineMetrics(registry));
        pending.prepareOn(Schedulers.fromExecutor(tasks::add));
        pending.register(1, randomWindows(random, "cpu", 10, hosts));
        pending.view("cpu", byHost);
        pending.remove(1);

        pending.register(2, randomWindows(random, "cpu", 2 * PendingFlushes.INDEX_FROM, hosts));
        assertEquals(1, tasks.size());
        assertNull(pending.preparing(), "not begun: left to the query");
        assertNull(pending.preparing(), "called off: nothing for a later query to wait for");
        tasks.remove(0).run();
        assertFalse(pending.grouped(2), "called off");
        assertEquals(1, preparations(registry, "called_off"));
        assertEquals(0, preparations(registry, "prepared"));
        pending.view("cpu", byHost);
        pending.remove(2);

        // A flush whose preparation stops at its 100th window until the test lets it go on.
        CountDownLatch inside = new CountDownLatch(1);
        CountDownLatch goOn = new CountDownLatch(1);
        List<Window> cpu = randomWindows(random, "cpu", 2 * PendingFlushes.INDEX_FROM, hosts);
        List<Window> held = new AbstractList<>() {
            @Override
            public Window get(int i) {
                if (i == 100 && inside.getCount() > 0) {
                    inside.countDown();
                    try {
                        assertTrue(goOn.await(30, TimeUnit.SECONDS));
                    } catch (InterruptedException e) {
                        throw new IllegalStateException(e);
                    }
                }
                return cpu.get(i);
            }

            @Override
            public int size() {
                return cpu.size();
            }
        };
        pending.register(3, held);
        Thread preparing = new Thread(tasks.remove(0), "prepare-test");
        preparing.start();
        try {
            assertTrue(inside.await(30, TimeUnit.SECONDS), "preparation under way");
            Mono<Void> end = pending.preparing();
            assertNotNull(end, "a preparation runs");
            CompletableFuture<Map<Long, List<Window>>> view = end.then(Mono.fromSupplier(
                    () -> pending.view("cpu", byHost))).toFuture();
            assertFalse(view.isDone(), "waits for the preparation");
            goOn.countDown();

            assertEquals(Map.of(3L, those(cpu, k -> k.tagIn("host", List.of("h7")))), view.get(30, TimeUnit.SECONDS));
            assertTrue(pending.grouped(3));
            assertNull(pending.preparing(), "ended");
            assertEquals(1, registry.find(MeterNames.PENDING_PREPARATION_WAITS).functionCounter().count(), "waited");
            assertEquals(1, preparations(registry, "prepared"));
            assertEquals(1, preparations(registry, "called_off"));
        } finally {
            goOn.countDown();
            preparing.join();
        }
    }

    private static double preparations(SimpleMeterRegistry registry, String outcome) {
        return registry.find(MeterNames.PENDING_PREPARATIONS).tag("outcome", outcome).functionCounter().count();
    }

    /**
     * Registers flush {@code seq} after one a query asked, queries it as the preparation runs (or not yet), and checks
     * that every answer is exactly the series of the named hosts, in flush order.
     */
    private static void checkQueriesDuringPreparation(PendingFlushes pending, Random random, long seq,
                                                      Runnable afterRegister) {
        List<String> hosts = hosts();
        List<String> named = List.of(hosts.get(random.nextInt(300)), hosts.get(random.nextInt(300)));
        List<Window> cpu = randomWindows(random, "cpu", PendingFlushes.INDEX_FROM + random.nextInt(20_000), hosts);
        List<Window> mixed = new ArrayList<>(cpu);
        mixed.addAll(random.nextInt(mixed.size()), randomWindows(random, "mem", 500, hosts));
        pending.view("cpu", Map.of("host", List.of("h0")));
        pending.remove(seq - 1);
        pending.register(seq, mixed);
        afterRegister.run();
        List<Window> expected = those(cpu, k -> k.tagIn("host", named));
        for (int q = 0; q < 5; q++) {
            assertEquals(Map.of(seq, expected), pending.view("cpu", Map.of("host", named)), "flush " + seq);
            assertEquals(Map.of(seq, cpu), pending.view("cpu"), "flush " + seq);
        }
    }

    @Test
    void aQueryBeforeDuringOrAfterThePreparationReadsExactlyTheSameWindows() throws Exception {
        Random random = new Random(5);
        List<Runnable> tasks = new ArrayList<>();
        PendingFlushes byHand = new PendingFlushes();
        byHand.prepareOn(Schedulers.fromExecutor(tasks::add));
        byHand.register(0, randomWindows(random, "cpu", 10, hosts()));
        checkQueriesDuringPreparation(byHand, random, 1, () -> { });
        tasks.remove(0).run();
        checkQueriesDuringPreparation(byHand, random, 2, () -> tasks.remove(0).run());

        Scheduler thread = Schedulers.newSingle("prepare-test");
        try {
            PendingFlushes racing = new PendingFlushes();
            racing.prepareOn(thread);
            racing.register(0, randomWindows(random, "cpu", 10, hosts()));
            for (long seq = 1; seq <= 20; seq++) {
                checkQueriesDuringPreparation(racing, random, seq, () -> { });
                CountDownLatch done = new CountDownLatch(1);
                thread.schedule(done::countDown);
                assertTrue(done.await(30, TimeUnit.SECONDS), "preparation of flush " + seq + " done");
                assertTrue(racing.grouped(seq));
            }
        } finally {
            thread.dispose();
        }
    }
}
