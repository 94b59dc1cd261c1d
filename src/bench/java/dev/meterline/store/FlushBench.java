package dev.meterline.store;

import dev.meterline.config.StoreConfig;
import dev.meterline.config.Tier;
import dev.meterline.model.Window;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/** One flush of 100 000 closed windows (10 000 series x 10 windows) into a fresh embedded SQLite store. */
@State(Scope.Thread)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2)
@Measurement(iterations = 5)
@Fork(1)
public class FlushBench {

    static final int WINDOWS = 100_000;

    private List<Window> windows;
    private Path dir;
    private Store store;

    @Setup(Level.Trial)
    public void windows() {
        Random random = new Random(1);
        windows = new ArrayList<>(FlushWindows.of(WINDOWS, random));
        // A flush from the shards comes grouped by window start, series in hash order: not the index's order.
        Collections.shuffle(windows, random);
        windows.sort(Comparator.comparingLong(Window::start));
    }

    @Setup(Level.Iteration)
    public void freshStore() throws IOException {
        dir = Files.createTempDirectory("meterline-flush-bench");
        store = Store.connect(new StoreConfig(dir, "", "", "", Tier.parseList("10s:24h,1m:30d,1h:1y"), "bench"),
                Clock.systemUTC());
    }

    @Benchmark
    public void flush100k() {
        store.write(windows);
    }

    @TearDown(Level.Iteration)
    public void close() throws Exception {
        store.close();
        try (var walk = Files.walk(dir)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }
}
