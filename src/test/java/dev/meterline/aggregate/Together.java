package dev.meterline.aggregate;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Runs a body on several threads released at once, and fails the test with whatever any of them threw. */
final class Together {

    /** The part thread {@code index} plays; it may throw an {@link AssertionError} to fail the test. */
    interface Body {
        void run(int index) throws Exception;
    }

    private Together() {
    }

    static void run(int threads, Body body) throws InterruptedException {
        CyclicBarrier start = new CyclicBarrier(threads);
        List<Throwable> failures = new ArrayList<>();
        List<Thread> all = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int index = t;
            Thread thread = new Thread(() -> {
                try {
                    start.await();
                    body.run(index);
                } catch (Throwable e) {
                    synchronized (failures) {
                        failures.add(e);
                    }
                }
            });
            all.add(thread);
            thread.start();
        }
        for (Thread thread : all) {
            thread.join();
        }
        assertEquals(List.of(), failures);
    }
}
