package dev.meterline.store;

import dev.meterline.config.ConfigException;
import dev.meterline.config.StoreConfig;
import dev.meterline.model.Window;
import dev.meterline.telemetry.MeterNames;
import dev.meterline.telemetry.PipelineMetrics;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;

import java.util.List;
import java.util.function.Function;
import java.util.function.Supplier;

import static java.util.Objects.requireNonNull;

/**
 * The reactive face of the on-disk {@link Spool}, beside {@link StoreGateway}: every spool call runs on the store's
 * own bounded scheduler.
 */
public final class SpoolGateway implements AutoCloseable {

    private final Spool spool;
    private final Scheduler scheduler;

    SpoolGateway(Spool spool, Scheduler scheduler) {
        this.spool = requireNonNull(spool, "spool");
        this.scheduler = requireNonNull(scheduler, "scheduler");
    }

    /**
     * Opens the spool in the data directory of {@code config}; blocks, so call it on the store scheduler.
     *
     * @throws ConfigException when the file cannot be opened, naming {@code METERLINE_DATA_DIR}
     */
    public static SpoolGateway open(StoreConfig config, Scheduler scheduler) {
        Spool spool = new Spool(config.dataDir(), config.spoolMaxBytes(), config.replicaId());
        try {
            spool.open();
        } catch (RuntimeException e) {
            throw new ConfigException("METERLINE_DATA_DIR / --data-dir: cannot open the spool "
                    + config.dataDir().resolve(Spool.FILE_NAME) + ": " + e.getMessage());
        }
        return new SpoolGateway(spool, scheduler);
    }

    /**
     * Registers the spool's levels: windows and bytes held (0 while no spool is open) and the bound (0: no spool).
     *
     * @param current the open spool, or null
     */
    public static void bindTo(PipelineMetrics metrics, StoreConfig config, Supplier<SpoolGateway> current) {
        metrics.level("spoolWindows", MeterNames.SPOOL_WINDOWS, "windows waiting in the on-disk spool", () -> {
            SpoolGateway spool = current.get();
            return spool == null ? 0 : spool.windows();
        });
        metrics.level("spoolBytes", MeterNames.SPOOL_BYTES, "bytes the spooled windows use", () -> {
            SpoolGateway spool = current.get();
            return spool == null ? 0 : spool.bytes();
        });
        metrics.level("spoolLimitBytes", MeterNames.SPOOL_LIMIT_BYTES, "bound of the on-disk spool (0: off)",
                () -> config.spooled() ? config.spoolMaxBytes() : 0);
    }

    /** True when nothing more may be put. */
    public boolean full() {
        return spool.full();
    }

    /** Windows held. */
    public long windows() {
        return spool.windows();
    }

    /** Bytes the held windows use. */
    public long bytes() {
        return spool.bytes();
    }

    /** The highest flush number held, 0 for none; new flushes must be numbered after it. */
    public long lastFlushSeq() {
        return spool.lastFlushSeq();
    }

    /** Adds windows (one transaction). */
    public Mono<Void> put(List<Window> windows) {
        return Mono.<Void>fromRunnable(() -> spool.put(windows)).subscribeOn(scheduler);
    }

    /** Writes up to {@code max} of the oldest held windows with {@code writer}, then removes them; emits how many. */
    public Mono<Integer> moveOldest(int max, Function<List<Window>, Mono<Void>> writer) {
        return Mono.fromCallable(() -> spool.oldest(max)).subscribeOn(scheduler)
                .flatMap(oldest -> oldest.windows().isEmpty() ? Mono.just(0)
                        : writer.apply(oldest.windows())
                        .then(Mono.fromCallable(() -> {
                            spool.remove(oldest.throughId());
                            return oldest.windows().size();
                        }).subscribeOn(scheduler)));
    }

    @Override
    public void close() {
        spool.close();
    }
}
