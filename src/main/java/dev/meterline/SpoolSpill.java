package dev.meterline;

import dev.meterline.aggregate.Spill;
import dev.meterline.model.Window;
import dev.meterline.store.Spool;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;

import java.util.List;
import java.util.function.Function;

/** The flush loop's {@link Spill} over the on-disk {@link Spool}, every spool call on the store scheduler. */
final class SpoolSpill implements Spill {

    private final Spool spool;
    private final Scheduler scheduler;
    private final java.util.function.Supplier<Mono<Void>> beforePut;

    /** {@code beforePut} completes once the write-ahead log holds the closes of the windows about to be spooled. */
    SpoolSpill(Spool spool, Scheduler scheduler, java.util.function.Supplier<Mono<Void>> beforePut) {
        this.spool = spool;
        this.scheduler = scheduler;
        this.beforePut = beforePut;
    }

    @Override
    public boolean full() {
        return spool.full();
    }

    @Override
    public long windows() {
        return spool.windows();
    }

    @Override
    public Mono<Void> put(List<Window> windows) {
        return beforePut.get().then(Mono.<Void>fromRunnable(() -> spool.put(windows)).subscribeOn(scheduler));
    }

    @Override
    public Mono<Integer> moveOldest(int max, Function<List<Window>, Mono<Void>> writer) {
        return Mono.fromCallable(() -> spool.oldest(max)).subscribeOn(scheduler)
                .flatMap(batch -> batch.windows().isEmpty() ? Mono.just(0)
                        : writer.apply(batch.windows())
                        .then(Mono.fromCallable(() -> {
                            spool.remove(batch.throughId());
                            return batch.windows().size();
                        }).subscribeOn(scheduler)));
    }
}
