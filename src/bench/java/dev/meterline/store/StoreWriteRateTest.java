package dev.meterline.store;

import dev.meterline.config.StoreConfig;
import dev.meterline.config.Tier;
import dev.meterline.model.Window;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfEnvironmentVariable;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Clock;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Measures, without asserting, how fast one flush of 100 000 windows is written to each store: three runs each on a
 * fresh database, printing rows/s and the median. A benchmark, compiled in the bench profile only:
 * {@code METERLINE_BENCH=1 ./mvnw -B -Pbench test -Dtest=StoreWriteRateTest}.
 */
@Tag("bench")
@EnabledIfEnvironmentVariable(named = "METERLINE_BENCH", matches = "1")
final class StoreWriteRateTest {

    private static final int WINDOWS = 100_000;
    private static final int RUNS = 3;
    private static final List<Tier> TIERS = Tier.parseList("10s:24h,1m:30d,1h:1y");

    @TempDir
    Path dir;

    private static void measure(String name, Function<Integer, Store> freshStore) {
        List<Window> windows = FlushWindows.of(WINDOWS, new Random(1));
        double[] rates = new double[RUNS];
        for (int run = 0; run < RUNS; run++) {
            try (Store store = freshStore.apply(run)) {
                long t = System.nanoTime();
                store.write(windows);
                double seconds = (System.nanoTime() - t) / 1e9;
                rates[run] = WINDOWS / seconds;
                System.out.printf("bench %s run %d: %d rows in %.3f s = %.0f rows/s%n", name, run + 1, WINDOWS,
                        seconds, rates[run]);
                assertEquals(Map.of("http.server.requests", (long) WINDOWS / 10), store.metrics());
            }
        }
        Arrays.sort(rates);
        System.out.printf("bench %s median of %d: %.0f rows/s%n", name, RUNS, rates[RUNS / 2]);
    }

    @Test
    void sqlite() {
        measure("sqlite", run -> Store.connect(new StoreConfig(dir.resolve("run" + run), "", "", "", TIERS, "bench"),
                Clock.systemUTC()));
    }

    @Test
    void postgres() throws Exception {
        try (EmbeddedPostgres pg = EmbeddedPostgres.start()) {
            String base = "jdbc:postgresql://localhost:" + pg.getPort() + "/";
            measure("postgres", run -> {
                String db = "bench_" + run;
                try (Connection c = DriverManager.getConnection(base + "postgres", "postgres", "");
                     Statement st = c.createStatement()) {
                    st.execute("CREATE DATABASE " + db);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
                return Store.connect(new StoreConfig(dir, base + db, "postgres", "", TIERS, "bench"),
                        Clock.systemUTC());
            });
        }
    }
}
