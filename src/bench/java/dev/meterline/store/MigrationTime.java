package dev.meterline.store;

import dev.meterline.config.StoreConfig;
import dev.meterline.config.Tier;
import dev.meterline.model.Aggregate;
import dev.meterline.model.SeriesKey;
import dev.meterline.model.Window;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * How long a store's first start takes on a database an earlier version wrote: {@code write DIR ROWS} fills an
 * embedded store in {@code DIR} with {@code ROWS} windows (1 000 series of 3 tags, consecutive 10 s windows, flushes
 * of 100 000), run with the old build on the class path; {@code open DIR} then opens it with the build on the class
 * path, which migrates the schema, and prints the time and the file's size before and after. With a third argument
 * {@code postgres} the store is an embedded PostgreSQL server whose data directory is {@code DIR/pg}, kept between
 * the two runs (and the sizes are the data directory's).
 *
 * <pre>
 * java -cp /tmp/bench-classes:old.jar dev.meterline.store.MigrationTime write /tmp/m 1000000
 * java -cp /tmp/bench-classes:new.jar dev.meterline.store.MigrationTime open /tmp/m
 * java -cp /tmp/bench-classes:old.jar:$(cat /tmp/cp.txt) dev.meterline.store.MigrationTime write /tmp/p 1000000 postgres
 * java -cp /tmp/bench-classes:new.jar:$(cat /tmp/cp.txt) dev.meterline.store.MigrationTime open /tmp/p 0 postgres
 * </pre>
 */
public final class MigrationTime {

    private static final int SERIES = 1_000;
    private static final int FLUSH = 100_000;

    private MigrationTime() {
    }

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[1]);
        boolean postgres = args.length > 3 && args[3].equals("postgres");
        EmbeddedPostgres pg = postgres ? EmbeddedPostgres.builder().setDataDirectory(dir.resolve("pg"))
                .setCleanDataDirectory(false).start() : null;
        try {
            run(args, dir, pg);
        } finally {
            if (pg != null) {
                pg.close();
            }
        }
    }

    private static void run(String[] args, Path dir, EmbeddedPostgres pg) throws Exception {
        StoreConfig config = pg == null
                ? new StoreConfig(dir, "", "", "", Tier.parseList("10s:3650d"), "bench")
                : new StoreConfig(dir, "jdbc:postgresql://localhost:" + pg.getPort() + "/postgres", "postgres", "",
                        Tier.parseList("10s:3650d"), "bench");
        if (args[0].equals("write")) {
            int rows = Integer.parseInt(args[2]);
            Random random = new Random(1);
            long t0 = 1_700_000_000_000L;
            try (Store store = Store.connect(config, Clock.systemUTC())) {
                List<Window> flush = new ArrayList<>(FLUSH);
                for (int i = 0; i < rows; i++) {
                    int s = i % SERIES;
                    SeriesKey key = SeriesKey.of("http.server.requests", Map.of("host", "host-" + (s % 100),
                            "route", "/api/v1/item/" + (s / 100), "status", "200"));
                    long start = t0 + (long) (i / SERIES) * 10_000L;
                    Aggregate a = new Aggregate();
                    for (int v = 0; v < 10; v++) {
                        a.accept(Math.exp(random.nextGaussian()), start + v * 1_000L);
                    }
                    flush.add(new Window(key, start, 10_000, a, true, 1 + i / FLUSH));
                    if (flush.size() == FLUSH || i == rows - 1) {
                        store.write(flush);
                        flush = new ArrayList<>(FLUSH);
                    }
                }
            }
            System.out.printf("migrationtime wrote %d rows, file %d bytes%n", rows, size(dir));
        } else {
            long before = size(dir);
            long t = System.nanoTime();
            try (Store store = Store.connect(config, Clock.systemUTC())) {
                double seconds = (System.nanoTime() - t) / 1e9;
                System.out.printf("migrationtime opened in %.2f s, file %d bytes before, last flush %d%n", seconds,
                        before, store.lastFlushSeq());
            }
            System.out.printf("migrationtime file %d bytes after%n", size(dir));
        }
    }

    private static long size(Path dir) throws Exception {
        try (var walk = Files.walk(dir)) {
            return walk.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
        }
    }
}
