package dev.meterline.lifecycle;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import reactor.core.scheduler.NonBlocking;

import java.io.IOException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Threads lowered through the real {@code setpriority}, checked in {@code /proc}; a refusal leaves them running. */
final class NicenessTest {

    @BeforeEach
    void onLinux() {
        assumeTrue(NiceValues.readable(), "thread nice values are set and read on Linux only");
    }

    /** The nice value a thread of {@code factory} runs its task at, as the kernel holds it. */
    private static int niceOfThreadFrom(ThreadFactory factory) throws Exception {
        CompletableFuture<Integer> nice = new CompletableFuture<>();
        Thread t = factory.newThread(() -> {
            try {
                nice.complete(NiceValues.ofCurrentThread());
            } catch (IOException e) {
                nice.completeExceptionally(e);
            }
        });
        t.start();
        return nice.get(10, TimeUnit.SECONDS);
    }

    @Test
    void aThreadOfTheFactoryRunsItsTasksAtTheNiceValue() throws Exception {
        Niceness nice = Niceness.of(7);

        assertEquals(7, niceOfThreadFrom(nice.threads("meterline-test", false)));
        assertEquals(7, nice.level());
    }

    @Test
    void zeroLeavesTheThreadAtItsCreatorsValue() throws Exception {
        int mine = NiceValues.ofCurrentThread();

        assertEquals(mine, niceOfThreadFrom(Niceness.of(0).threads("meterline-test", false)));
        assertEquals(0, Niceness.of(0).level());
    }

    @Test
    void aRefusalIsTriedOnceAndTheThreadsRunOnAtTheirValue() throws Exception {
        AtomicInteger tries = new AtomicInteger();
        Niceness refused = new Niceness(7, n -> {
            tries.incrementAndGet();
            throw new IOException("Operation not permitted");
        });
        int mine = NiceValues.ofCurrentThread();

        assertEquals(mine, niceOfThreadFrom(refused.threads("meterline-test", false)));
        assertEquals(mine, niceOfThreadFrom(refused.threads("meterline-test", false)));
        assertEquals(1, tries.get());
        assertEquals(0, refused.level());
    }

    @Test
    void threadsAreNumberedAndMarkedNonBlockingWhenAsked() {
        ThreadFactory computing = Niceness.of(0).threads("meterline-shard", true);
        Thread first = computing.newThread(() -> { });
        Thread second = computing.newThread(() -> { });
        Thread blocking = Niceness.of(0).threads("meterline-store", false).newThread(() -> { });

        assertEquals("meterline-shard-1", first.getName());
        assertEquals("meterline-shard-2", second.getName());
        assertTrue(first instanceof NonBlocking, "a computing thread is marked non-blocking");
        assertFalse(blocking instanceof NonBlocking, "a store thread may block");
        assertFalse(first.isDaemon());
    }

    @Test
    void aValueOutsideLinuxsRangeIsRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new Niceness(20, n -> { }));
        assertEquals("nice: 20 (expected: 0 to 19)", e.getMessage());
    }
}
