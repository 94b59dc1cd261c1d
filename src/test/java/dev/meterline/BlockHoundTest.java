package dev.meterline;

import org.junit.jupiter.api.Test;
import reactor.blockhound.BlockingOperationError;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ExecutorService;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** BlockHound is installed in the test JVM and fails a blocking call where the pipeline computes. */
class BlockHoundTest {

    private static Mono<Integer> sleepOn(Scheduler scheduler) {
        return Mono.fromCallable(() -> {
            Thread.sleep(1);
            return 1;
        }).subscribeOn(scheduler);
    }

    @Test
    void aBlockingCallOnAParallelRailFails() {
        Scheduler rails = Schedulers.newParallel("meterline-validate", 1);
        try {
            Throwable e = assertThrows(RuntimeException.class, () -> sleepOn(rails).block(Duration.ofSeconds(10)));
            assertTrue(e instanceof BlockingOperationError || e.getCause() instanceof BlockingOperationError, e.toString());
        } finally {
            rails.dispose();
        }
    }

    @Test
    void aBlockingCallOnAShardFailsWhateverSchedulerCarriesIt() {
        // An executor-backed scheduler is not marked non-blocking by Reactor; the thread's name marks it.
        ExecutorService shard = Executors.newSingleThreadExecutor(r -> new Thread(r, "meterline-shard-test"));
        Scheduler scheduler = Schedulers.fromExecutorService(shard);
        try {
            Throwable e = assertThrows(RuntimeException.class, () -> sleepOn(scheduler).block(Duration.ofSeconds(10)));
            assertTrue(e instanceof BlockingOperationError || e.getCause() instanceof BlockingOperationError, e.toString());
        } finally {
            scheduler.dispose();
        }
    }

    @Test
    void theStoreSchedulerMayBlock() {
        Scheduler store = Schedulers.newBoundedElastic(1, 10, "meterline-store");
        try {
            assertEquals(1, sleepOn(store).block(Duration.ofSeconds(10)));
        } finally {
            store.dispose();
        }
    }
}
