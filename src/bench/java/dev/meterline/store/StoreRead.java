package dev.meterline.store;

import dev.meterline.config.StoreConfig;
import dev.meterline.config.Tier;
import dev.meterline.model.Aggregate;
import dev.meterline.model.PrometheusNames;
import dev.meterline.model.SeriesKey;
import dev.meterline.model.SeriesValues;
import dev.meterline.model.Window;

import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.IntSupplier;
import java.util.function.Predicate;

/**
 * How long a stored read takes for a few series of a metric with many: a fresh store (SQLite, or a fresh database
 * on a PostgreSQL server) holding SERIES series of one metric over WINDOWS 10 s windows, then reads over the whole
 * range of one series (tested by its key; with {@code --named}, also with its host named as a query's tag filter
 * names it) and of one in a hundred, each timed R times after one untimed read. With {@code --promql}, also the read
 * of a selector's series as the Prometheus query API makes it: tested by its labels, with the selector's value named
 * under its key ({@code {host="h50000"}}) and under any key (as for a label that more than one tag key may give).
 * Builds before the store took named values have only the read by test, and builds before values named under any
 * key took them by key alone; the program uses what the jar has, so the same program times any build's jar:
 * With {@code --values}, also a listing of a tag's values among every series of the metric, as
 * {@code /label/region/values} reads the store: seven values, and {@code host}'s, one per series.
 * With {@code --listing}, also the listings by one host's value as {@code /api/v1/series?match[]=bench_m{host="h…"}}
 * and {@code /label/region/values} under that selector read the store: the first (which finds the series) timed
 * apart from the repeats.
 * With {@code --beside-scan}, another thread reads the one-in-a-hundred range back to back while the reads are timed,
 * as a long PromQL query would beside a dashboard's.
 * {@code java -cp target/test-classes:JAR dev.meterline.store.StoreRead [--series 100000] [--windows 60]
 * [--reads 20] [--named] [--promql] [--values] [--listing] [--beside-scan]
 * [--postgres jdbc:postgresql://127.0.0.1:55432/postgres?user=postgres]}; a run on PostgreSQL analyzes its
 * database once written and drops it once the store is closed.
 */
public final class StoreRead {

    private static final long RES = 10_000;

    private StoreRead() {
    }

    public static void main(String[] args) throws Exception {
        int series = 100_000;
        int windows = 60;
        int reads = 20;
        String postgres = null;
        boolean named = false;
        boolean promql = false;
        boolean values = false;
        boolean besideScan = false;
        boolean listing = false;
        for (int i = 0; i < args.length; i += 2) {
            switch (args[i]) {
                case "--series" -> series = Integer.parseInt(args[i + 1]);
                case "--windows" -> windows = Integer.parseInt(args[i + 1]);
                case "--reads" -> reads = Integer.parseInt(args[i + 1]);
                case "--postgres" -> postgres = args[i + 1];
                case "--named" -> {
                    named = true;
                    i--;
                }
                case "--promql" -> {
                    promql = true;
                    i--;
                }
                case "--values" -> {
                    values = true;
                    i--;
                }
                case "--listing" -> {
                    listing = true;
                    i--;
                }
                case "--beside-scan" -> {
                    besideScan = true;
                    i--;
                }
                default -> throw new IllegalArgumentException("unknown option: " + args[i]);
            }
        }
        Path dir = Files.createTempDirectory("meterline-storeread");
        long now = System.currentTimeMillis();
        long t0 = Window.startOf(now - 2L * windows * RES, RES);
        try (Store store = open(dir, postgres)) {
            long began = System.nanoTime();
            for (int w = 0; w < windows; w++) {
                List<Window> flush = new ArrayList<>(series);
                for (int i = 0; i < series; i++) {
                    Aggregate a = new Aggregate();
                    a.accept(i + w, t0 + w * RES);
                    flush.add(new Window(key(i), t0 + w * RES, RES, a, true, w + 1));
                }
                store.write(flush);
            }
            System.out.printf(Locale.ROOT, "%s: %,d series x %d windows written in %.1f s%n",
                    postgres == null ? "sqlite" : "postgresql", series, windows, (System.nanoTime() - began) / 1e9);
            if (postgres != null) {
                analyze(postgres);
            }
            SeriesKey one = key(series / 2);
            Scanner scanner = besideScan ? new Scanner(store, t0, t0 + windows * RES) : null;
            time(store, "one series", Map.of(), List.of(), one::equals, t0, t0 + windows * RES, reads);
            Map<String, List<String>> host = Map.of("host", List.of(one.tag("host")));
            if (named) {
                time(store, "one series, its host named", host, List.of(), one::equals, t0, t0 + windows * RES, reads);
            }
            if (promql) {
                // What a selector {host="h…"} tests each series by: its labels.
                Predicate<SeriesKey> byLabels = k -> one.tag("host").equals(PrometheusNames.labels(k, false)
                        .get("host"));
                time(store, "{host=...} as PromQL reads it", Map.of(), List.of(), byLabels, t0, t0 + windows * RES,
                        reads);
                if (Named.BY_KEY) {
                    time(store, "{host=...}, its value named under its key", host, List.of(), byLabels, t0,
                            t0 + windows * RES, reads);
                }
                if (Named.ANY_KEY) {
                    time(store, "{host=...}, its value named under any key", Map.of(),
                            List.of(List.of(one.tag("host"))), byLabels, t0, t0 + windows * RES, reads);
                }
            }
            if (values) {
                for (String tag : List.of("region", "host")) {
                    timeValues(store, tag, reads);
                }
            }
            if (listing) {
                timeListing(store, one.tag("host"), reads);
            }
            if (scanner != null) {
                scanner.stop();
            }
            time(store, "one in 100", Map.of(), List.of(), k -> Integer.parseInt(k.tag("host").substring(1)) % 100 == 7,
                    t0, t0 + windows * RES, Math.max(1, reads / 4));
        }
        if (postgres != null) {
            try (Connection c = DriverManager.getConnection(postgres); Statement st = c.createStatement()) {
                st.execute("DROP DATABASE " + database());
            }
        }
    }

    /** Reads the one-in-a-hundred range back to back on a thread of its own until stopped. */
    private static final class Scanner {
        private final Thread thread;
        private volatile boolean stopped;
        private int scans;
        private long nanos;

        Scanner(Store store, long from, long to) {
            thread = new Thread(() -> {
                while (!stopped) {
                    long began = System.nanoTime();
                    store.read("bench.m", Scanner::oneIn100, from, to, RES);
                    nanos += System.nanoTime() - began;
                    scans++;
                }
            }, "beside-scan");
            thread.setDaemon(true);
            thread.start();
        }

        static boolean oneIn100(SeriesKey k) {
            return Integer.parseInt(k.tag("host").substring(1)) % 100 == 7;
        }

        void stop() throws InterruptedException {
            stopped = true;
            thread.join();
            System.out.printf(Locale.ROOT, "  beside: %d scans of one in 100, %.1f ms each%n", scans,
                    scans == 0 ? 0 : nanos / 1e6 / scans);
        }
    }

    /** The database a run creates on the PostgreSQL server, named by the process. */
    private static String database() {
        return "storeread_" + ProcessHandle.current().pid();
    }

    private static int read(Store store, Map<String, List<String>> byKey, List<List<String>> anyKey,
                            Predicate<SeriesKey> filter, long from, long to) throws Exception {
        if (byKey.isEmpty() && anyKey.isEmpty()) {
            return store.read("bench.m", filter, from, to, RES).size();
        }
        return Named.read(store, byKey, anyKey, filter, from, to);
    }

    /** The read with values named, in whichever form the jar's store takes them. */
    private static final class Named {
        private static final Class<?> TAG_VALUES = tagValues();
        /** Whether the jar's store takes values named under their keys, and under any key. */
        static final boolean BY_KEY = TAG_VALUES != null || method(Map.class) != null;
        static final boolean ANY_KEY = TAG_VALUES != null;

        static int read(Store store, Map<String, List<String>> byKey, List<List<String>> anyKey,
                        Predicate<SeriesKey> filter, long from, long to) throws Exception {
            Object named = TAG_VALUES != null
                    ? TAG_VALUES.getConstructor(Map.class, List.class).newInstance(byKey, anyKey) : byKey;
            Method read = method(TAG_VALUES != null ? TAG_VALUES : Map.class);
            return ((List<?>) read.invoke(store, "bench.m", named, filter, from, to, RES)).size();
        }

        private static Class<?> tagValues() {
            try {
                return Class.forName("dev.meterline.store.TagValues");
            } catch (ClassNotFoundException e) {
                return null;
            }
        }

        private static Method method(Class<?> named) {
            try {
                return Store.class.getMethod("read", String.class, named, Predicate.class, long.class, long.class,
                        long.class);
            } catch (NoSuchMethodException e) {
                return null;
            }
        }
    }

    private static SeriesKey key(int i) {
        return SeriesKey.of("bench.m", Map.of("host", "h" + i, "region", "r" + i % 7, "svc", "s" + i % 13));
    }

    private static void time(Store store, String what, Map<String, List<String>> byKey, List<List<String>> anyKey,
                             Predicate<SeriesKey> filter, long from, long to, int reads) throws Exception {
        int rows = read(store, byKey, anyKey, filter, from, to);
        double[] ms = new double[reads];
        for (int r = 0; r < reads; r++) {
            long began = System.nanoTime();
            read(store, byKey, anyKey, filter, from, to);
            ms[r] = (System.nanoTime() - began) / 1e6;
        }
        Arrays.sort(ms);
        System.out.printf(Locale.ROOT, "  %s: %,d rows, median %.1f ms (%.1f-%.1f) over %d reads%n", what, rows,
                ms[reads / 2], ms[0], ms[reads - 1], reads);
    }

    private static void timeValues(Store store, String tag, int reads) {
        SeriesValues.Value valueOf = SeriesValues.Value.ofTag(tag);
        int distinct = store.seriesValues("bench.m", TagValues.NONE, null, valueOf, 1_000_000).values().size();
        double[] ms = new double[reads];
        for (int r = 0; r < reads; r++) {
            long began = System.nanoTime();
            store.seriesValues("bench.m", TagValues.NONE, null, valueOf, 1_000_000);
            ms[r] = (System.nanoTime() - began) / 1e6;
        }
        Arrays.sort(ms);
        System.out.printf(Locale.ROOT, "  values of %s among every series: %,d values, median %.1f ms (%.1f-%.1f)"
                + " over %d reads%n", tag, distinct, ms[reads / 2], ms[0], ms[reads - 1], reads);
    }

    /**
     * Times the listings by one host's value named under its key, the series and the values of {@code region}: the
     * first of each apart, then {@code reads} more.
     */
    private static void timeListing(Store store, String host, int reads) {
        TagValues named = TagValues.of(Map.of("host", List.of(host)));
        SeriesValues.Value region = SeriesValues.Value.ofTag("region");
        timeListing("series of one host", reads,
                () -> store.series("bench.m", named, null, 1_000_000).size());
        timeListing("values of region of one host", reads,
                () -> store.seriesValues("bench.m", named, null, region, 1_000_000).series());
    }

    private static void timeListing(String what, int reads, IntSupplier listing) {
        long began = System.nanoTime();
        int series = listing.getAsInt();
        double first = (System.nanoTime() - began) / 1e6;
        double[] ms = new double[reads];
        for (int r = 0; r < reads; r++) {
            began = System.nanoTime();
            listing.getAsInt();
            ms[r] = (System.nanoTime() - began) / 1e6;
        }
        Arrays.sort(ms);
        System.out.printf(Locale.ROOT, "  listing, %s: %,d series, first %.1f ms, then median %.2f ms (%.2f-%.2f)"
                + " over %d%n", what, series, first, ms[reads / 2], ms[0], ms[reads - 1], reads);
    }

    /**
     * Gathers the planner's statistics of the run's database, as autovacuum does some time after a bulk write: the
     * reads' plans then do not depend on whether it got there before them.
     */
    private static void analyze(String postgres) throws Exception {
        try (Connection c = DriverManager.getConnection(url(postgres)); Statement st = c.createStatement()) {
            st.execute("ANALYZE");
        }
    }

    /** The URL of the run's database on the server of {@code postgres}. */
    private static String url(String postgres) {
        return postgres.replaceFirst("/[^/?]*(\\?|$)", "/" + database() + "$1");
    }

    private static Store open(Path dir, String postgres) throws Exception {
        List<Tier> tiers = Tier.parseList("10s:24h,1m:30d,1h:1y");
        if (postgres == null) {
            return Store.connect(new StoreConfig(dir, "", "", "", tiers, "bench"), Clock.systemUTC());
        }
        String db = database();
        try (Connection c = DriverManager.getConnection(postgres); Statement st = c.createStatement()) {
            st.execute("CREATE DATABASE " + db);
        }
        return Store.connect(new StoreConfig(dir, url(postgres), "", "", tiers, "bench"), Clock.systemUTC());
    }
}
