package dev.meterline.store;

import dev.meterline.config.ConfigException;
import dev.meterline.config.StoreConfig;
import dev.meterline.config.Tier;
import dev.meterline.model.Aggregate;
import dev.meterline.model.SeriesKey;
import dev.meterline.model.SeriesValues;
import dev.meterline.model.Window;
import dev.meterline.telemetry.StoreMeters;
import dev.meterline.telemetry.StoreReadPath;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.TreeSet;
import java.util.Set;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The behaviour every {@link Store} must have; each database's test class supplies the configuration. */
abstract class StoreContract {

    /** An hour boundary in the past, so that every tier's windows line up with it. */
    static final long T0 = 1_700_000_000_000L / 3_600_000 * 3_600_000;
    static final long SECOND = 1_000;
    static final long MINUTE = 60 * SECOND;
    static final long HOUR = 60 * MINUTE;
    static final long DAY = 24 * HOUR;

    static final SeriesKey CPU_A = SeriesKey.of("cpu", Map.of("host", "a", "dc", "eu"));
    static final SeriesKey CPU_B = SeriesKey.of("cpu", Map.of("host", "b \"quoted\" \\ é\n", "dc", "eu"));
    static final SeriesKey MEM = SeriesKey.of("mem", Map.of());

    final MutableClock clock = new MutableClock(T0 + HOUR);
    private final List<Store> opened = new ArrayList<>();

    /** The configuration of a store of {@code replica} on this test's database, with {@code tiers}. */
    abstract StoreConfig config(String replica, List<Tier> tiers);

    /** Overwrites the stored schema version behind the store's back. */
    abstract void setSchemaVersion(int version) throws Exception;

    /** Runs statements on this test's database behind the store's back, each bound to its arguments. */
    abstract void execute(String sql, Object... args) throws Exception;

    /**
     * The statements of schema version 2 on this test's database, as the binaries of that version created it: the
     * window table with its unique key on (metric, tags, resolution, start, replica, flush number) and its read
     * index on (metric, resolution, start), and the side tables.
     */
    abstract List<String> schemaVersion2();

    /** {@code tables} of schema version 2, then its indexes and its export table, alike in both dialects. */
    static List<String> withVersion2Indexes(List<String> tables) {
        List<String> all = new ArrayList<>(tables);
        all.add("CREATE UNIQUE INDEX meterline_window_key"
                + " ON meterline_window (metric, tags, resolution_ms, start_ms, replica, flush_seq)");
        all.add("CREATE INDEX meterline_window_read ON meterline_window (metric, resolution_ms, start_ms)");
        all.add("CREATE TABLE meterline_export (target TEXT PRIMARY KEY, through_ms BIGINT NOT NULL,"
                + " after_metric TEXT NOT NULL, after_tags TEXT NOT NULL)");
        return all;
    }

    /** The database's plan of {@code sql} with {@code args}, as text, with sequential scans as dear as it allows. */
    abstract String plan(String sql, Object... args) throws Exception;

    /** The indexes on {@code meterline_window} with their definitions, in any textual form the database keeps. */
    abstract List<String> windowIndexes() throws Exception;

    Store open(String replica, String tiers) {
        Store s = Store.connect(config(replica, Tier.parseList(tiers)), clock);
        opened.add(s);
        return s;
    }

    /** A store of {@code replica} with the default tiers, its meters on {@code meters}. */
    Store open(String replica, StoreMeters meters) {
        Store s = Store.connect(config(replica, Tier.parseList("10s:24h,1m:30d,1h:1y")), clock, meters);
        opened.add(s);
        return s;
    }

    Store open(String replica) {
        return open(replica, "10s:24h,1m:30d,1h:1y");
    }

    /**
     * A store of {@code replica} with {@code tiers} on this test's database, its transactions of {@code what} hooked
     * ({@link InterceptedDb}).
     */
    Store open(String replica, String tiers, String what, InterceptedDb.Hooks hooks) {
        StoreConfig config = config(replica, Tier.parseList(tiers));
        boolean postgres = config.url().startsWith("jdbc:postgresql:");
        Db db = postgres ? new PostgresDb(config, JdbcStore.poolSize(config))
                : new SqliteDb(config, SqliteDb.STORE_PAGE_SIZE, true);
        Store s = new JdbcStore(new InterceptedDb(db, what, hooks), postgres ? Dialect.POSTGRES : Dialect.SQLITE,
                config, clock, JdbcStore.ROLLUP_DELAY);
        opened.add(s);
        s.open();
        return s;
    }

    @AfterEach
    void closeStores() {
        opened.forEach(Store::close);
    }

    static Window window(SeriesKey key, long start, long resolution, long flushSeq, boolean complete,
                         double... values) {
        Aggregate a = new Aggregate();
        for (int i = 0; i < values.length; i++) {
            a.accept(values[i], start + (i * 997L) % resolution);
        }
        return new Window(key, start, resolution, a, complete, flushSeq);
    }

    static List<Window> sample() {
        List<Window> ws = new ArrayList<>();
        ws.add(window(CPU_A, T0, 10 * SECOND, 1, true, 1.5, -2, 300, 4e9, 0.001));
        ws.add(window(CPU_B, T0, 10 * SECOND, 1, true, 7));
        ws.add(window(CPU_A, T0 + 10 * SECOND, 10 * SECOND, 1, false, 3, 3, 3));
        Window late = window(MEM, T0, 10 * SECOND, 2, true, 42, 43);
        late.aggregate().markLate();
        ws.add(late);
        // A correction that only counts late points: count 0, NaN last, empty bounds.
        Aggregate empty = new Aggregate();
        empty.markLate();
        ws.add(new Window(MEM, T0 + 10 * SECOND, 10 * SECOND, empty, true, 2));
        return ws;
    }

    static void assertSameWindow(Window expected, Window actual) {
        assertEquals(expected.series(), actual.series());
        assertEquals(expected.start(), actual.start());
        assertEquals(expected.resolution(), actual.resolution());
        assertEquals(expected.complete(), actual.complete());
        assertEquals(expected.flushSeq(), actual.flushSeq());
        Aggregate e = expected.aggregate();
        Aggregate a = actual.aggregate();
        assertEquals(e.count(), a.count(), "count");
        assertEquals(e.sum(), a.sum(), "sum");
        assertEquals(e.min(), a.min(), "min");
        assertEquals(e.max(), a.max(), "max");
        assertEquals(e.last(), a.last(), "last");
        assertEquals(e.firstTimestamp(), a.firstTimestamp(), "firstTimestamp");
        assertEquals(e.lastTimestamp(), a.lastTimestamp(), "lastTimestamp");
        assertEquals(e.late(), a.late(), "late");
        for (double q : new double[] {0, 0.25, 0.5, 0.9, 0.99, 1}) {
            assertEquals(e.valueAtQuantile(q), a.valueAtQuantile(q), "quantile " + q);
        }
    }

    private static Window find(List<StoredWindow> stored, SeriesKey key, long start) {
        return stored.stream().map(StoredWindow::window)
                .filter(w -> w.series().equals(key) && w.start() == start)
                .findFirst().orElseThrow(() -> new AssertionError("no stored window " + key + " at " + start));
    }

    static void assertSameAsSample(List<StoredWindow> cpu, List<StoredWindow> mem) {
        List<Window> sample = sample();
        assertEquals(3, cpu.size());
        assertEquals(2, mem.size());
        for (Window w : sample) {
            assertSameWindow(w, find(w.series().metric().equals("cpu") ? cpu : mem, w.series(), w.start()));
        }
    }

    @Test
    void writtenWindowsReadBackWithEveryField() {
        Store store = open("r1");
        store.write(sample());

        List<StoredWindow> cpu = store.read("cpu", T0, T0 + MINUTE, 10 * SECOND);
        List<StoredWindow> mem = store.read("mem", T0, T0 + MINUTE, 10 * SECOND);
        assertSameAsSample(cpu, mem);
        assertTrue(cpu.stream().allMatch(s -> s.replica().equals("r1")));
        assertEquals(Map.of("cpu", 2L, "mem", 1L), store.metrics());
        assertEquals(List.of(CPU_A, CPU_B).stream().sorted().toList(), store.series("cpu"));
        assertEquals(List.of(MEM), store.series("mem"));
        assertEquals(2, store.lastFlushSeq());
    }

    @Test
    void readsOnlyTheRequestedMetricAndRange() {
        Store store = open("r1");
        store.write(sample());

        assertEquals(2, store.read("cpu", T0, T0 + 10 * SECOND, 10 * SECOND).size());
        assertEquals(1, store.read("cpu", T0 + 10 * SECOND, T0 + HOUR, 10 * SECOND).size());
        assertEquals(0, store.read("disk", T0, T0 + HOUR, 10 * SECOND).size());
        assertThrows(IllegalArgumentException.class, () -> store.read("cpu", T0, T0 + HOUR, 15 * SECOND));
    }

    @Test
    void aSeriesFilterReadsOnlyTheSeriesItAcceptsWithEveryFieldInWriteOrder() {
        Store store = open("r1");
        store.write(sample());
        store.write(List.of(window(CPU_B, T0, 10 * SECOND, 3, true, 8), window(CPU_A, T0, 10 * SECOND, 3, true, 9)));
        List<SeriesKey> tested = new ArrayList<>();

        List<StoredWindow> quoted = store.read("cpu", s -> {
            tested.add(s);
            return s.tag("host").startsWith("b \"quoted\"");
        }, T0, T0 + MINUTE, 10 * SECOND);

        assertEquals(List.of(1L, 3L), quoted.stream().map(s -> s.window().flushSeq()).toList());
        assertSameWindow(sample().get(1), quoted.get(0).window());
        assertSameWindow(window(CPU_B, T0, 10 * SECOND, 3, true, 8), quoted.get(1).window());
        assertEquals(List.of(CPU_A, CPU_B), tested.stream().sorted().toList(), "each series is tested once");
        assertEquals(0, store.read("cpu", s -> false, T0, T0 + MINUTE, 10 * SECOND).size());
        assertEquals(5, store.read("cpu", s -> true, T0, T0 + MINUTE, 10 * SECOND).size());
    }

    /**
     * A read of a few series of a metric with many looks their rows up, a seek per window start and series, and gives
     * what a walk over the metric's range gives: the accepted series' rows starting in the range, in write order,
     * corrections included, whatever the range's alignment and however many statements the series and starts take.
     */
    @Test
    void aReadOfAFewSeriesOfAManySeriesMetricGivesWhatAWalkGives() {
        Store store = open("r1");
        int series = 1_100;
        long res = 10 * SECOND;
        for (int w = 0; w < 4; w++) {
            List<Window> flush = new ArrayList<>();
            for (int i = 0; i < series; i++) {
                flush.add(window(host(i), T0 + w * res, res, w + 1, true, i, w));
            }
            flush.add(window(SeriesKey.of("other", Map.of("host", "h1")), T0 + w * res, res, w + 1, true, w));
            store.write(flush);
        }
        List<Window> corrections = new ArrayList<>();
        for (int i = 0; i < series; i += 7) {
            corrections.add(window(host(i), T0 + res, res, 5, true, -i));
        }
        store.write(corrections);

        Map<String, java.util.function.Predicate<SeriesKey>> filters = new java.util.LinkedHashMap<>();
        filters.put("one series", k -> k.equals(host(14)));
        filters.put("three series", k -> k.equals(host(3)) || k.equals(host(7)) || k.equals(host(1_099)));
        filters.put("two statements of series", k -> hostOf(k) % 4 == 0 && hostOf(k) < 1_040);
        filters.put("more than a quarter", k -> hostOf(k) % 3 == 0);
        filters.put("none", k -> false);
        long[][] ranges = {
                {T0, T0 + HOUR}, {T0 + 1, T0 + 3 * res}, {T0 + res, T0 + res + 1}, {T0 - 3 * HOUR, T0 + 2 * res},
                {T0 + 4 * res, T0 + HOUR}, {T0 - 3 * HOUR, Long.MAX_VALUE}, {T0 + 2 * res + 1, Long.MAX_VALUE}};
        for (Map.Entry<String, java.util.function.Predicate<SeriesKey>> f : filters.entrySet()) {
            for (long[] r : ranges) {
                List<String> walked = new ArrayList<>();
                for (StoredWindow w : store.read("m", k -> true, r[0], r[1], res)) {
                    if (f.getValue().test(w.window().series())) {
                        walked.add(describe(w));
                    }
                }
                List<String> read = store.read("m", f.getValue(), r[0], r[1], res).stream()
                        .map(StoreContract::describe).toList();
                assertEquals(walked, read, f.getKey() + " over " + (r[0] - T0) + ".." + (r[1] - T0));
                Map<String, List<String>> named = named(f.getKey());
                if (named != null) {
                    List<String> narrowed = store.read("m", TagValues.of(named), f.getValue(), r[0], r[1], res)
                            .stream().map(StoreContract::describe).toList();
                    assertEquals(walked, narrowed, f.getKey() + " named " + named);
                    TagValues anyKey = new TagValues(Map.of(), List.copyOf(named.values()));
                    List<String> byValues = store.read("m", anyKey, f.getValue(), r[0], r[1], res).stream()
                            .map(StoreContract::describe).toList();
                    assertEquals(walked, byValues, f.getKey() + " named under any key " + anyKey);
                }
            }
        }
        assertTrue(WindowTable.looksUp(1, series, HOUR / res));
        assertTrue(WindowTable.looksUp(260, series, 4));
        assertTrue(WindowTable.looksUp(1, series, (3 * HOUR + 2 * res) / res), "two statements of starts");
        assertTrue(!WindowTable.looksUp(367, series, 4));
    }

    /** The tag values a filter of the test above names, as a query's tag filters would; null for none. */
    private static Map<String, List<String>> named(String filter) {
        return switch (filter) {
            case "one series" -> Map.of("host", List.of("h14"), "dc", List.of("d2"));
            case "three series" -> Map.of("host", List.of("h3", "h7", "h1099"));
            case "more than a quarter" -> Map.of("dc", List.of("d0", "d1", "d2"));
            case "none" -> Map.of("host", List.of("h1", "nobody"), "dc", List.of("d0"));
            default -> null;
        };
    }

    /**
     * A dashboard's query names no end: its read of one series of a large metric still looks its rows up, counting
     * only the starts the metric has stored, and says so in the store's read meter; a read of the whole metric walks
     * its range, and a read where nothing is stored reads nothing.
     */
    @Test
    void anOpenEndedReadOfOneSeriesLooksItsRowsUp() {
        StoreMeters meters = new StoreMeters(new SimpleMeterRegistry());
        Store store = open("r1", meters);
        long res = 10 * SECOND;
        List<Window> flush = new ArrayList<>();
        for (int w = 0; w < 3; w++) {
            for (int i = 0; i < 100; i++) {
                flush.add(window(host(i), T0 + w * res, res, 1, true, i, w));
            }
        }
        store.write(flush);

        List<String> one = store.read("m", k -> k.equals(host(7)), T0 - HOUR, Long.MAX_VALUE, res).stream()
                .map(StoreContract::describe).toList();
        assertEquals(List.of(host(7) + "@0#1=7.0", host(7) + "@10000#1=8.0", host(7) + "@20000#1=9.0"), one);
        assertEquals(1, meters.reads(StoreReadPath.SEEK), "one series of 100 over an open range is looked up");
        assertEquals(300, store.read("m", k -> true, T0 - HOUR, Long.MAX_VALUE, res).size());
        assertEquals(1, meters.reads(StoreReadPath.RANGE), "every series is a walk of the range");
        assertEquals(List.of(), store.read("m", k -> true, T0 + 3 * res, Long.MAX_VALUE, res));
        assertEquals(List.of(), store.read("m", k -> true, T0 - HOUR, T0, res));
        assertEquals(List.of(), store.read("other", k -> true, T0 - HOUR, Long.MAX_VALUE, res));
        assertEquals(3, meters.reads(StoreReadPath.NONE), "after the newest, before the oldest, another metric");
    }

    /** Tag filters find series by their texts as stored, escapes and all, and only as tags of their own. */
    @Test
    void namedTagValuesFindTheirSeriesWhateverTheirCharacters() {
        Store store = open("r1");
        store.write(sample());
        SeriesKey tricky = SeriesKey.of("cpu", Map.of("host", "q\"x\\y", "note", "\"host\":\"a\""));
        store.write(List.of(window(tricky, T0, 10 * SECOND, 2, true, 5)));
        assertEquals(List.of(tricky), seriesRead(store, "cpu", byKey("host", "q\"x\\y")));
        assertEquals(List.of(CPU_B), seriesRead(store, "cpu", byKey("host", CPU_B.tag("host"))));
        assertEquals(List.of(CPU_A, CPU_A), seriesRead(store, "cpu", byKey("host", "a")),
                "a tag's text inside another tag's value is no tag");
        assertEquals(4, seriesRead(store, "cpu", TagValues.of(Map.of("host", List.of()))).size(),
                "a key named with no value narrows nothing: the test decides");
    }

    /**
     * A tag's values among every stored series of a metric are those of the series' keys, whatever the characters of
     * the key and the values (a key SQLite's JSON path cannot name is read from the texts), with the series read
     * counted and at most the bound plus one read.
     */
    @Test
    void aTagsValuesAmongEveryStoredSeriesAreThoseOfTheirKeysWhateverTheirCharacters() {
        Store store = open("r1");
        List<String> keys = List.of("host", "a.b", "[0]", "$", "é中", "k\"q", "k\\b", "sp ace", "");
        List<String> values = List.of("web-1", "q\"x\\y", "é中\uD83D\uDE00", "", "{\"a\":1}", "\u0001\t\n", "\u2028",
                "$.host", "null", "web-1 ");
        List<SeriesKey> series = new ArrayList<>();
        Random random = new Random(7);
        for (int i = 0; i < 60; i++) {
            Map<String, String> tags = new HashMap<>();
            for (String k : keys) {
                if (random.nextInt(3) > 0) {
                    tags.put(k, values.get(random.nextInt(values.size())));
                }
            }
            tags.put("n", Integer.toString(i));
            series.add(SeriesKey.of("v", tags));
        }
        List<Window> flush = new ArrayList<>();
        for (SeriesKey k : series) {
            flush.add(window(k, T0, 10 * SECOND, 1, true, 1));
        }
        flush.add(window(SeriesKey.of("w", Map.of("host", "other")), T0, 10 * SECOND, 1, true, 1));
        store.write(flush);

        for (String k : keys) {
            Set<String> expected = new HashSet<>();
            for (SeriesKey s : series) {
                if (s.tag(k) != null) {
                    expected.add(s.tag(k));
                }
            }
            SeriesValues got = store.seriesValues("v", TagValues.NONE, null, SeriesValues.Value.ofTag(k), 100);
            assertEquals(expected, got.values(), "values of " + k);
            assertEquals(series.size(), got.series(), "series read for " + k);
            SeriesValues bounded = store.seriesValues("v", TagValues.NONE, null, SeriesValues.Value.ofTag(k), 9);
            assertEquals(10, bounded.series(), "a read past the bound of 9 stops at 10 series: " + k);
            assertTrue(expected.containsAll(bounded.values()), k);
        }
        assertEquals(Set.of(), store.seriesValues("none", TagValues.NONE, null, SeriesValues.Value.ofTag("host"), 9)
                .values());
    }

    /**
     * Values named under any key find exactly the series with one of them as a tag's value, whatever the value's
     * characters and whatever other tags hold them: as a key, within a longer value, after a {@code :} that ends a
     * key, or with {@code :"} of their own.
     */
    @Test
    void valuesNamedUnderAnyKeyFindExactlyTheSeriesThatHaveThem() {
        Store store = open("r1");
        Map<String, SeriesKey> series = new java.util.LinkedHashMap<>();
        series.put("quotes", SeriesKey.of("v", Map.of("host", "q\"x\\y")));
        series.put("non-ascii", SeriesKey.of("v", Map.of("host", "é中\uD83D\uDE00", "dc", "eu")));
        series.put("as a key", SeriesKey.of("v", Map.of("web-1", "k")));
        series.put("web-1", SeriesKey.of("v", Map.of("host", "web-1", "dc", "us")));
        series.put("longer", SeriesKey.of("v", Map.of("host", "web-10")));
        series.put("ends with it", SeriesKey.of("v", Map.of("host", "xweb-1")));
        series.put("quoted inside", SeriesKey.of("v", Map.of("note", "a:\"web-1\"")));
        series.put("key ending in a colon", SeriesKey.of("v", Map.of("a:", ",b")));
        series.put("colon", SeriesKey.of("v", Map.of("x", ":")));
        series.put("its own colon quote", SeriesKey.of("v", Map.of("host", ":\"web-1\"")));
        series.put("other key", SeriesKey.of("v", Map.of("zone", "web-1")));
        series.put("empty", SeriesKey.of("v", Map.of()));
        List<Window> flush = new ArrayList<>();
        for (SeriesKey k : series.values()) {
            flush.add(window(k, T0, 10 * SECOND, 1, true, 1));
        }
        flush.add(window(SeriesKey.of("w", Map.of("host", "web-1")), T0, 10 * SECOND, 1, true, 1));
        store.write(flush);

        Map<List<List<String>>, List<String>> expected = new java.util.LinkedHashMap<>();
        expected.put(List.of(List.of("web-1")), List.of("web-1", "other key"));
        expected.put(List.of(List.of("q\"x\\y")), List.of("quotes"));
        expected.put(List.of(List.of("é中\uD83D\uDE00")), List.of("non-ascii"));
        expected.put(List.of(List.of("k")), List.of("as a key"));
        expected.put(List.of(List.of(":")), List.of("colon"));
        expected.put(List.of(List.of(":\"web-1\"")), List.of("its own colon quote"));
        expected.put(List.of(List.of("a:\"web-1\"")), List.of("quoted inside"));
        expected.put(List.of(List.of("web-1", "web-10", "eu")), List.of("non-ascii", "web-1", "longer", "other key"));
        expected.put(List.of(List.of("web-1"), List.of("us")), List.of("web-1"));
        expected.put(List.of(List.of("web"), List.of()), List.of());
        expected.put(List.of(List.of()), List.copyOf(series.keySet()));
        for (Map.Entry<List<List<String>>, List<String>> e : expected.entrySet()) {
            List<SeriesKey> want = e.getValue().stream().map(series::get).sorted().toList();
            TagValues named = new TagValues(Map.of(), e.getKey());
            assertEquals(want, seriesRead(store, "v", named).stream().sorted().toList(), "values " + e.getKey());
            for (SeriesKey k : series.values()) {
                assertEquals(want.contains(k), named.admits(k), k + " admitted by " + e.getKey());
            }
        }
        assertEquals(List.of(series.get("web-1")), seriesRead(store, "v",
                new TagValues(Map.of("host", List.of("web-1", "web-10")), List.of(List.of("us")))),
                "values under their key and under any key, both");
    }

    /** The series of the windows a read of {@code metric}'s first minute finds by {@code named} alone. */
    private static List<SeriesKey> seriesRead(Store store, String metric, TagValues named) {
        return store.read(metric, named, k -> true, T0, T0 + MINUTE, 10 * SECOND).stream()
                .map(w -> w.window().series()).toList();
    }

    private static TagValues byKey(String key, String value) {
        return TagValues.of(Map.of(key, List.of(value)));
    }

    private static SeriesKey host(int i) {
        return SeriesKey.of("m", Map.of("host", "h" + i, "dc", "d" + i % 3));
    }

    private static int hostOf(SeriesKey k) {
        return Integer.parseInt(k.tag("host").substring(1));
    }

    private static String describe(StoredWindow w) {
        Window x = w.window();
        return x.series() + "@" + (x.start() - T0) + "#" + x.flushSeq() + "=" + x.aggregate().sum();
    }

    /** The stored metrics' names are listed once each, in order, however many series each has. */
    @Test
    void metricNamesAreEachStoredMetricOnceInOrder() {
        Store store = open("r1");
        assertEquals(List.of(), store.metricNames());
        List<Window> flush = new ArrayList<>();
        for (String metric : List.of("b", "a.b", "ab", "a", "é", "a b")) {
            for (int i = 0; i < 30; i++) {
                flush.add(window(SeriesKey.of(metric, Map.of("host", "h" + i)), T0, 10 * SECOND, 1, true, i));
            }
        }
        store.write(flush);
        List<String> names = store.metricNames();
        assertEquals(List.copyOf(store.metrics().keySet()), names);
        assertEquals(6, new java.util.TreeSet<>(names).size(), names.toString());
    }

    @Test
    void partialsComeBackInWriteOrder() {
        Store store = open("r1");
        store.write(List.of(window(CPU_A, T0, 10 * SECOND, 5, true, 1)));
        store.write(List.of(window(CPU_A, T0, 10 * SECOND, 6, true, 2)));
        store.write(List.of(window(CPU_A, T0, 10 * SECOND, 7, true, 3)));

        List<Long> seqs = store.read("cpu", T0, T0 + 10 * SECOND, 10 * SECOND).stream()
                .map(s -> s.window().flushSeq()).toList();
        assertEquals(List.of(5L, 6L, 7L), seqs);
        assertEquals(7, store.lastFlushSeq());
    }

    @Test
    void writingTheSameBatchTwiceStoresItOnce() {
        Store store = open("r1");
        store.write(sample());
        store.write(sample());

        assertSameAsSample(store.read("cpu", T0, T0 + MINUTE, 10 * SECOND),
                store.read("mem", T0, T0 + MINUTE, 10 * SECOND));
        assertEquals(Map.of("cpu", 2L, "mem", 1L), store.metrics());
    }

    @Test
    void aBacklogPartlyStoredAlreadyAddsOnlyItsNewWindowsAfterTheStoredOnes() {
        Store store = open("r1");
        store.write(List.of(window(CPU_A, T0, 10 * SECOND, 1, true, 1), window(CPU_B, T0, 10 * SECOND, 1, true, 2)));
        // The first flush again (its commit's answer was lost), with the flush that followed it.
        store.write(List.of(window(CPU_A, T0, 10 * SECOND, 1, true, 1), window(CPU_B, T0, 10 * SECOND, 1, true, 2),
                window(CPU_A, T0, 10 * SECOND, 2, true, 3), window(CPU_A, T0 + 10 * SECOND, 10 * SECOND, 2, true, 4)));

        List<StoredWindow> stored = store.read("cpu", T0, T0 + MINUTE, 10 * SECOND);
        assertEquals(List.of(1L, 1L, 2L, 2L), stored.stream().map(s -> s.window().flushSeq()).toList());
        assertEquals(List.of(1.0, 2.0, 3.0, 4.0), stored.stream().map(s -> s.window().aggregate().sum()).toList());
        assertEquals(2, store.lastFlushSeq());
    }

    @Test
    void aPartOfAFlushLeavesTheLastFlushNumberAndTheFlushWrittenAgainAddsOnlyTheRest() {
        Store store = open("r1");
        store.write(List.of(window(CPU_A, T0, 10 * SECOND, 1, true, 1)));
        store.writePart(List.of(window(CPU_A, T0 + 10 * SECOND, 10 * SECOND, 2, true, 2)));
        // A restart now replays flush 2 from the log: its part is stored, its number is not.
        assertEquals(1, store.lastFlushSeq());
        store.write(List.of(window(CPU_A, T0 + 10 * SECOND, 10 * SECOND, 2, true, 2),
                window(CPU_B, T0 + 10 * SECOND, 10 * SECOND, 2, true, 3)));

        List<StoredWindow> stored = store.read("cpu", T0, T0 + MINUTE, 10 * SECOND);
        assertEquals(List.of(1L, 2L, 2L), stored.stream().map(s -> s.window().flushSeq()).toList());
        assertEquals(List.of(1.0, 2.0, 3.0), stored.stream().map(s -> s.window().aggregate().sum()).toList());
        assertEquals(2, store.lastFlushSeq());
    }

    @Test
    void theKeyOrderOfAFlushIsTheOrderItsWriteInsertsIn() {
        Store store = open("r1");
        List<Window> flush = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            flush.add(window(SeriesKey.of(i % 3 == 0 ? "mem" : "cpu", Map.of("host", "h" + (i * 7 % 40))),
                    T0 + (i % 2) * 10 * SECOND, 10 * SECOND, 1, true, i));
        }
        java.util.Collections.shuffle(flush, new Random(3));
        List<Window> ordered = store.inKeyOrder(flush);
        store.write(flush);

        List<Window> inserted = new ArrayList<>();
        for (String metric : List.of("cpu", "mem")) {
            store.read(metric, T0, T0 + MINUTE, 10 * SECOND).forEach(w -> inserted.add(w.window()));
        }
        assertEquals(inserted.stream().map(w -> w.series() + "@" + w.start()).toList(),
                ordered.stream().map(w -> w.series() + "@" + w.start()).toList());
    }

    @Test
    void thePartsOfAFlushInKeyOrderAreStoredInThatOrderAsTheWholeFlushWouldBe() {
        Store store = open("r1");
        // A third of the series stored before, so that the parts hold known and new series.
        List<Window> before = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            before.add(window(SeriesKey.of("cpu", Map.of("host", "h" + i)), T0 - MINUTE, 10 * SECOND, 1, true, i));
        }
        store.write(before);
        List<Window> flush = new ArrayList<>();
        for (int i = 0; i < 60; i++) {
            flush.add(window(SeriesKey.of(i % 4 == 0 ? "mem" : "cpu", Map.of("host", "h" + i)), T0, 10 * SECOND, 2,
                    true, 100 + i));
        }
        java.util.Collections.shuffle(flush, new Random(5));
        List<Window> ordered = store.inKeyOrder(flush);
        assertEquals(ordered.get(15), ordered.subList(10, 40).subList(5, 10).get(0));

        store.writePart(ordered.subList(0, 25));
        assertEquals(1, store.lastFlushSeq());
        store.writePart(ordered.subList(25, 50));
        store.write(ordered.subList(50, 60));

        // Rows come back in write order: each part's rows after those of the part before.
        Map<String, Integer> partOf = new HashMap<>();
        for (int p = 0; p < ordered.size(); p++) {
            partOf.put(ordered.get(p).series() + "@" + ordered.get(p).aggregate().sum(), p < 25 ? 0 : p < 50 ? 1 : 2);
        }
        int rows = 0;
        for (String metric : List.of("cpu", "mem")) {
            int part = 0;
            for (StoredWindow w : store.read(metric, T0, T0 + MINUTE, 10 * SECOND)) {
                Integer p = partOf.get(w.window().series() + "@" + w.window().aggregate().sum());
                assertTrue(p != null && p >= part, w + " of part " + p + " after part " + part);
                part = p;
                rows++;
            }
        }
        assertEquals(60, rows);
        assertEquals(2, store.lastFlushSeq());
        assertEquals(Map.of("cpu", 50L, "mem", 15L), store.metrics());
    }

    @Test
    void aWindowTwiceInOneWriteIsStoredOnceAsItsFirstCopy() {
        Store store = open("r1");
        store.write(List.of(window(CPU_A, T0, 10 * SECOND, 1, true, 1)));
        store.write(List.of(window(CPU_A, T0, 10 * SECOND, 2, true, 5), window(CPU_B, T0, 10 * SECOND, 2, true, 6),
                window(CPU_A, T0, 10 * SECOND, 2, true, 7)));

        List<StoredWindow> stored = store.read("cpu", T0, T0 + MINUTE, 10 * SECOND);
        assertEquals(3, stored.size());
        Map<String, Double> sums = new TreeMap<>();
        for (StoredWindow s : stored) {
            sums.merge(s.window().series().tag("host") + "/" + s.window().flushSeq(), s.window().aggregate().sum(),
                    Double::sum);
        }
        assertEquals(Map.of("a/1", 1.0, "a/2", 5.0, CPU_B.tag("host") + "/2", 6.0), sums);
        assertEquals(2, store.lastFlushSeq());
    }

    @Test
    void aWindowTwiceAtTheStartOfALargeWriteIsStoredOnce() {
        Store store = open("r1");
        List<Window> written = new ArrayList<>();
        for (int s = 0; s < 2000; s++) {
            SeriesKey key = SeriesKey.of("cpu", Map.of("host", "host-" + s));
            for (int w = 0; w < 10; w++) {
                written.add(window(key, T0 + w * 10 * SECOND, 10 * SECOND, 1, true, s, w));
            }
        }
        // Rows are written in series order, so the copy meets the repeated key long before its last row is sent.
        written.add(written.get(0));
        store.write(written);

        assertEquals(20_000, store.read("cpu", T0, T0 + HOUR, 10 * SECOND).size());
        assertEquals(2000L, store.metrics().get("cpu"));
        assertEquals(1, store.lastFlushSeq());
    }

    @Test
    void aFlushIsWrittenInTheUniqueIndexOrderWithEachSeriesOnceWhateverItsKeyInstances() {
        Store store = open("r1");
        List<Window> written = new ArrayList<>();
        for (int s = 0; s < 50; s++) {
            for (int w = 0; w < 3; w++) {
                // A fresh key instance per window, as two event loops' key caches hand out their own.
                SeriesKey key = SeriesKey.of("cpu", Map.of("host", "h" + s, "dc", "eu"));
                written.add(window(key, T0 + w * 10 * SECOND, 10 * SECOND, 1, true, s));
            }
        }
        java.util.Collections.shuffle(written, new Random(7));
        written.sort(Comparator.comparingLong(Window::start));
        store.write(written);

        List<String> order = store.read("cpu", T0, T0 + MINUTE, 10 * SECOND).stream()
                .map(s -> s.window().series().tag("host") + "@" + (s.window().start() - T0)).toList();
        List<String> expected = new ArrayList<>();
        for (int s = 0; s < 50; s++) {
            for (int w = 0; w < 3; w++) {
                expected.add("h" + s + "@" + w * 10 * SECOND);
            }
        }
        // The unique key's order: start, then the stored tag text ("h1" sorts before "h10" and "h10" before "h2").
        expected.sort(Comparator.comparingLong((String e) -> Long.parseLong(e.substring(e.indexOf('@') + 1)))
                .thenComparing(e -> "{\"dc\":\"eu\",\"host\":\"" + e.substring(0, e.indexOf('@')) + "\"}"));
        assertEquals(expected, order);
        assertEquals(Map.of("cpu", 50L), store.metrics());
        assertEquals(50, store.series("cpu").size());
    }

    @Test
    void aLargeFlushReadsBackWithEveryFieldAndAHugeTagValue() {
        Store store = open("r1");
        SeriesKey huge = SeriesKey.of("cpu", Map.of("host", "h".repeat(100_000) + "é"));
        Random random = new Random(3);
        List<Window> written = new ArrayList<>();
        for (int s = 0; s < 300; s++) {
            SeriesKey key = s == 150 ? huge : SeriesKey.of("cpu", Map.of("host", "host-" + s));
            for (int w = 0; w < 10; w++) {
                double[] values = new double[random.nextInt(40)];
                for (int i = 0; i < values.length; i++) {
                    values[i] = random.nextGaussian() * 1e6;
                }
                written.add(window(key, T0 + w * 10 * SECOND, 10 * SECOND, 1 + w % 2, w != 9, values));
            }
        }
        store.write(written);

        List<StoredWindow> stored = store.read("cpu", T0, T0 + HOUR, 10 * SECOND);
        assertEquals(written.size(), stored.size());
        for (Window w : written) {
            assertSameWindow(w, find(stored, w.series(), w.start()));
        }
        assertTrue(store.series("cpu").contains(huge));
    }

    @Test
    void reopenedStoreReadsTheSame() {
        Store store = open("r1");
        store.write(sample());
        store.close();

        Store again = open("r1");
        assertSameAsSample(again.read("cpu", T0, T0 + MINUTE, 10 * SECOND),
                again.read("mem", T0, T0 + MINUTE, 10 * SECOND));
        assertEquals(2, again.lastFlushSeq());
        assertEquals(Map.of("cpu", 2L, "mem", 1L), again.metrics());
    }

    @Test
    void aNewerSchemaIsAClearStartupError() throws Exception {
        open("r1").close();
        setSchemaVersion(Schema.VERSION + 1);

        ConfigException e = assertThrows(ConfigException.class, () -> open("r1"));
        String msg = e.getMessage();
        assertTrue(msg.startsWith("METERLINE_STORAGE_URL: "), msg);
        assertTrue(msg.contains("schema version " + (Schema.VERSION + 1) + " is newer than this binary supports ("
                + Schema.VERSION + ")"), msg);
        assertTrue(!msg.contains("\n"), msg);
    }

    @Test
    void aVersion2DatabaseIsMigratedAndItsWindowsReadBack() throws Exception {
        for (String sql : schemaVersion2()) {
            execute(sql);
        }
        execute("INSERT INTO meterline_schema (version) VALUES (2)");
        insertSampleAsVersion2Or3();
        execute("INSERT INTO meterline_series (metric, tags) VALUES ('cpu', ?), ('cpu', ?), ('mem', ?)",
                TagsJson.encode(CPU_A), TagsJson.encode(CPU_B), TagsJson.encode(MEM));
        execute("INSERT INTO meterline_replica (replica, last_flush_seq) VALUES ('r1', 2)");

        Store store = open("r1");

        assertMigratedSampleReadsBack(store);
    }

    @Test
    void aVersion3DatabaseIsMigratedToSeriesIdsAndItsWindowsReadBack() throws Exception {
        for (String sql : schemaVersion2()) {
            execute(sql);
        }
        for (String sql : Dialect.VERSION3) {
            execute(sql);
        }
        execute("INSERT INTO meterline_schema (version) VALUES (3)");
        insertSampleAsVersion2Or3();
        // The series of mem is missing from meterline_series, as in a spool written by version 3.
        execute("INSERT INTO meterline_series (metric, tags) VALUES ('cpu', ?), ('cpu', ?)",
                TagsJson.encode(CPU_A), TagsJson.encode(CPU_B));
        execute("INSERT INTO meterline_replica (replica, last_flush_seq) VALUES ('r1', 2)");
        execute("INSERT INTO meterline_export (target, through_ms, after_metric, after_tags)"
                + " VALUES ('http://a/write', ?, 'cpu', ?)", T0, TagsJson.encode(CPU_A));

        Store store = open("r1");

        assertMigratedSampleReadsBack(store);
        // A slice's export resumes from its start: the order of series inside a slice is now their ids'.
        assertEquals(ExportCursor.at(T0), store.exportCursor("http://a/write"));
        assertEquals(List.of(MEM), store.series("mem"));
    }

    /** The windows of {@link #sample()} inserted as versions 2 and 3 stored them, with their tag text in each row. */
    private void insertSampleAsVersion2Or3() throws Exception {
        List<Window> stored = sample();
        for (Window w : stored) {
            Aggregate a = w.aggregate();
            boolean empty = a.count() == 0;
            execute("INSERT INTO meterline_window (replica, metric, tags, resolution_ms, start_ms, flush_seq,"
                            + " value_count, value_sum, value_min, value_max, value_last, first_ts, last_ts, late,"
                            + " complete, sketch) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    "r1", w.series().metric(), TagsJson.encode(w.series()), w.resolution(), w.start(), w.flushSeq(),
                    a.count(), a.sum(), empty ? null : a.min(), empty ? null : a.max(),
                    Double.isNaN(a.last()) ? null : a.last(), a.firstTimestamp(), a.lastTimestamp(), a.late(),
                    w.complete(), a.sketchBytes());
        }
    }

    /** Checks a store opened on a migrated {@link #sample()}: every window, the listings, the key, later writes. */
    private void assertMigratedSampleReadsBack(Store store) throws Exception {
        assertSameAsSample(store.read("cpu", T0, T0 + MINUTE, 10 * SECOND),
                store.read("mem", T0, T0 + MINUTE, 10 * SECOND));
        assertEquals(Map.of("cpu", 2L, "mem", 1L), store.metrics());
        assertEquals(2, store.lastFlushSeq());
        String indexes = String.join("\n", windowIndexes());
        assertTrue(!indexes.contains("meterline_window_read"), indexes);
        assertTrue(indexes.replace(" ", "").contains("(metric,resolution_ms,start_ms,series_id,replica,flush_seq)"),
                indexes);
        long lastId = store.lastWrittenId();
        // The new key still makes a retried write a no-op, and new windows go in beside the migrated ones, with
        // ids after theirs.
        store.write(sample());
        store.write(List.of(window(CPU_A, T0 + 20 * SECOND, 10 * SECOND, 3, true, 9)));
        assertEquals(4, store.read("cpu", T0, T0 + MINUTE, 10 * SECOND).size());
        assertEquals(3, store.lastFlushSeq());
        assertTrue(store.lastWrittenId() > lastId);
        assertEquals(Map.of("cpu", 2L, "mem", 1L), store.metrics());
    }

    @Test
    void theWindowQueriesUseAnIndex() throws Exception {
        Store store = open("r1");
        List<Window> many = new ArrayList<>();
        for (int m = 0; m < 20; m++) {
            for (int s = 0; s < 50; s++) {
                SeriesKey key = SeriesKey.of("m" + m, Map.of("host", "h" + s));
                for (int w = 0; w < 10; w++) {
                    many.add(window(key, T0 + w * 10 * SECOND, 10 * SECOND, 1, true, w));
                }
            }
        }
        store.write(many);
        store.prepareExport();
        boolean postgres = store instanceof JdbcStore j && j.dialect() == Dialect.POSTGRES;
        if (postgres) {
            // What autovacuum does to a table of this size; the plans below are those of a table with statistics.
            execute("ANALYZE meterline_window");
        }
        String key = "meterline_window_key";
        Map<String, String> expected = new java.util.LinkedHashMap<>();
        Map<String, Object[]> args = new HashMap<>();
        expected.put(WindowTable.READ, key);
        args.put(WindowTable.READ, new Object[] {"m3", 10_000L, T0, T0 + HOUR});
        expected.put(WindowTable.STORED_STARTS, key);
        args.put(WindowTable.STORED_STARTS, new Object[] {"m3", 10_000L, "m3", 10_000L});
        expected.put(WindowTable.SERIES_OF_METRIC, "meterline_series");
        args.put(WindowTable.SERIES_OF_METRIC, new Object[] {"m3"});
        // Equalities on every column either index leads with: a seek per (start, series) in both.
        expected.put(WindowTable.lookUpRows(3, 2), "meterline_window_");
        args.put(WindowTable.lookUpRows(3, 2), new Object[] {"m3", 10_000L, T0, T0 + 10_000, T0 + 20_000, 7L, 9L});
        // Either index serves a replica's own rows; the planner picks by the statistics of replica and resolution.
        // A rollup batch: a seek per start of the coarse window, each into the batch's range of series.
        expected.put(WindowTable.COUNT_STARTS, "meterline_window_");
        args.put(WindowTable.COUNT_STARTS, new Object[] {"m3", 10_000L, T0, T0 + MINUTE, "m3", 10_000L, T0 + MINUTE});
        expected.put(WindowTable.BATCH_END, "meterline_window_");
        args.put(WindowTable.BATCH_END, new Object[] {"m3", 10_000L, T0, T0 + MINUTE, "m3", 10_000L, T0 + MINUTE,
                "m3", 10_000L, 10L, "r1", 20});
        Dialect dialect = postgres ? Dialect.POSTGRES : Dialect.SQLITE;
        expected.put(WindowTable.readWritten(dialect), "meterline_window_");
        args.put(WindowTable.readWritten(dialect), new Object[] {"m3", 10_000L, T0, T0 + MINUTE, "m3", 10_000L,
                T0 + MINUTE, "m3", 10_000L, 10L, 30L, "r1"});
        expected.put(WindowTable.readFiner(dialect), "meterline_window_");
        args.put(WindowTable.readFiner(dialect), new Object[] {"m3", 60_000L, T0, T0 + HOUR, "m3", 60_000L, T0 + HOUR,
                "m3", 60_000L, 10L, 30L, "r1"});
        expected.put(WindowTable.READ_ROLLED, "meterline_window_");
        args.put(WindowTable.READ_ROLLED, new Object[] {"m3", 60_000L, T0, T0 + 1, "r1", 10L, 40L});
        expected.put(WindowTable.DELETE_BEFORE, key);
        args.put(WindowTable.DELETE_BEFORE, new Object[] {"m3", 10_000L, T0 + MINUTE, "r1"});
        String prune = postgres ? WindowTable.PRUNE_POSTGRES : WindowTable.PRUNE_SQLITE;
        expected.put(prune, key);
        args.put(prune, prune.equals(WindowTable.PRUNE_SQLITE) ? new Object[] {"m3", "m3"} : new Object[] {"m3"});
        expected.put(ExportTable.exportPage(true), "meterline_window_export");
        args.put(ExportTable.exportPage(true), new Object[] {10_000L, T0, "m3", 0L, 100_000L, 100});
        expected.put(ExportTable.SERIES_FOR_EXPORT, "meterline_window_");
        args.put(ExportTable.SERIES_FOR_EXPORT, new Object[] {10_000L, T0, T0 + MINUTE, "m3", 157L, 100_000L});
        expected.put(ExportTable.NEXT_WRITTEN_START, "meterline_window_export");
        args.put(ExportTable.NEXT_WRITTEN_START, new Object[] {10_000L, T0});
        for (Map.Entry<String, String> e : expected.entrySet()) {
            String plan = plan(e.getKey(), args.get(e.getKey()));
            assertTrue(plan.contains(e.getValue()), e.getKey() + " -> " + plan);
            assertTrue(!plan.matches("(?s).*(SCAN meterline_window|Seq Scan on meterline_window|SCAN w\\b).*"),
                    e.getKey() + " -> " + plan);
        }
        // A rollup batch seeks each start's rows of its range of series: it never walks the whole coarse window.
        for (String sql : List.of(WindowTable.BATCH_END, WindowTable.readWritten(dialect),
                WindowTable.readFiner(dialect))) {
            String plan = plan(sql, args.get(sql));
            assertTrue(plan.lines().anyMatch(l -> l.matches(".*start_ms ?= ?(\\?|starts\\.s).*series_id ?> ?.*")),
                    sql + " -> " + plan);
        }
        // One seek in the series key per metric, not a pass over every series.
        String names = plan(WindowTable.METRIC_NAMES);
        assertTrue(!names.matches("(?s).*(SCAN meterline_series|Seq Scan on meterline_series|SCAN s\\b).*"), names);
    }

    @Test
    void twoReplicasKeepTheirOwnPartials() {
        Store one = open("replica-1");
        Store two = open("replica-2");
        // Same series, same window, same flush sequence: only the replica tells them apart.
        one.write(List.of(window(CPU_A, T0, 10 * SECOND, 1, true, 1, 2, 3)));
        two.write(List.of(window(CPU_A, T0, 10 * SECOND, 1, true, 10, 20)));
        two.write(List.of(window(CPU_A, T0, 10 * SECOND, 2, true, 30)));

        List<StoredWindow> both = one.read("cpu", T0, T0 + 10 * SECOND, 10 * SECOND);
        assertEquals(3, both.size());
        assertEquals(3, two.read("cpu", T0, T0 + 10 * SECOND, 10 * SECOND).size());
        Map<String, Long> perReplica = new TreeMap<>();
        Aggregate total = new Aggregate();
        for (StoredWindow s : both) {
            perReplica.merge(s.replica(), s.window().aggregate().count(), Long::sum);
            total.mergeWith(s.window().aggregate());
        }
        assertEquals(Map.of("replica-1", 3L, "replica-2", 3L), perReplica);
        assertEquals(6, total.count());
        assertEquals(66, total.sum());
        assertEquals(1, total.min());
        assertEquals(30, total.max());
        assertEquals(1, one.lastFlushSeq());
        assertEquals(2, two.lastFlushSeq());
        assertEquals(Map.of("cpu", 1L), one.metrics());
    }

    /** Two hours of 10 s windows for two series, with values that differ from window to window. */
    static List<Window> twoHours(long flushSeq) {
        Random random = new Random(7);
        List<Window> ws = new ArrayList<>();
        for (long start = T0; start < T0 + 2 * HOUR; start += 10 * SECOND) {
            for (SeriesKey key : List.of(CPU_A, CPU_B)) {
                double[] values = new double[1 + random.nextInt(5)];
                for (int i = 0; i < values.length; i++) {
                    values[i] = Math.exp(random.nextGaussian() * 2);
                }
                ws.add(window(key, start, 10 * SECOND, flushSeq, true, values));
            }
        }
        return ws;
    }

    /** The expected coarse windows: the written windows merged in write order, per series and coarse start. */
    static Map<String, Aggregate> mergedBy(List<Window> written, long coarse) {
        Map<String, Aggregate> out = new HashMap<>();
        for (Window w : written) {
            out.computeIfAbsent(w.series() + "@" + Window.startOf(w.start(), coarse), k -> new Aggregate())
                    .mergeWith(w.aggregate());
        }
        return out;
    }

    static void assertRolledUp(Map<String, Aggregate> expected, List<StoredWindow> stored, long coarse) {
        assertEquals(expected.size(), stored.size(), "coarse windows");
        for (StoredWindow s : stored) {
            Window w = s.window();
            assertEquals(coarse, w.resolution());
            Aggregate e = expected.get(w.series() + "@" + w.start());
            Aggregate a = w.aggregate();
            assertEquals(e.count(), a.count(), "count");
            assertEquals(e.sum(), a.sum(), Math.abs(e.sum()) * 1e-12, "sum");
            assertEquals(e.min(), a.min(), "min");
            assertEquals(e.max(), a.max(), "max");
            assertEquals(e.last(), a.last(), "last");
            assertEquals(e.firstTimestamp(), a.firstTimestamp());
            assertEquals(e.lastTimestamp(), a.lastTimestamp());
            for (double q : new double[] {0.5, 0.9, 0.99}) {
                double eq = e.valueAtQuantile(q);
                assertEquals(eq, a.valueAtQuantile(q), eq * Aggregate.RELATIVE_ACCURACY, "quantile " + q);
            }
            assertTrue(w.complete());
        }
    }

    @Test
    void coarseTiersAreTheMergeOfTheFinerWindows() {
        Store store = open("r1", "10s:1h,1m:1d,1h:30d");
        List<Window> written = twoHours(1);
        store.write(written);
        long now = T0 + 2 * HOUR + 2 * MINUTE;
        clock.set(now);
        store.maintain(now);

        // T0 is past the 10 s tier's hour, so a one-minute read comes from the one-minute tier.
        assertRolledUp(mergedBy(written, MINUTE), store.read("cpu", T0, T0 + 2 * HOUR, MINUTE), MINUTE);
        clock.set(now + 2 * DAY);
        assertRolledUp(mergedBy(written, HOUR), store.read("cpu", T0, T0 + 2 * HOUR, HOUR), HOUR);
    }

    @Test
    void maintainingTwiceChangesNothing() {
        Store store = open("r1", "10s:1d,1m:2d,1h:30d");
        List<Window> written = twoHours(1);
        store.write(written);
        long now = T0 + 3 * HOUR;
        store.maintain(now);
        store.maintain(now);
        store.maintain(now + MINUTE);

        clock.set(now + DAY + HOUR);
        assertRolledUp(mergedBy(written, MINUTE), store.read("cpu", T0, T0 + 2 * HOUR, MINUTE), MINUTE);
        clock.set(now + 3 * DAY);
        assertRolledUp(mergedBy(written, HOUR), store.read("cpu", T0, T0 + 2 * HOUR, HOUR), HOUR);
    }

    @Test
    void aCoarseWindowWhosePartialsSpanManyScanPagesIsRolledUpWhole() {
        Store store = open("r1", "10s:1d,1m:2d,1h:30d");
        // 1 500 series: a minute's six flushes hold 9 000 partials, more ids than one page of the rollup's scan
        // and more partials than one batch of its merge.
        List<SeriesKey> keys = new ArrayList<>();
        for (int i = 0; i < 1_500; i++) {
            keys.add(SeriesKey.of("cpu", Map.of("host", "h" + i)));
        }
        List<Window> written = new ArrayList<>();
        for (int w = 0; w < 7; w++) {
            List<Window> flush = new ArrayList<>();
            for (int i = 0; i < keys.size(); i++) {
                flush.add(window(keys.get(i), T0 + w * 10 * SECOND, 10 * SECOND, w + 1, true, i, w + 0.5));
            }
            store.write(flush);
            if (w < 6) {
                written.addAll(flush);
            }
        }
        // The first minute is due; the second (one flush so far) is not.
        long now = T0 + 2 * MINUTE;
        store.maintain(now);
        store.maintain(now);

        clock.set(now + DAY + HOUR);
        assertRolledUp(mergedBy(written, MINUTE), store.read("cpu", T0, T0 + MINUTE, MINUTE), MINUTE);

        // Late partials of a series in the merge's first batch and of one in its second.
        List<Window> late = List.of(window(keys.get(3), T0 + 20 * SECOND, 10 * SECOND, 8, true, 1e6),
                window(keys.get(1_450), T0 + 30 * SECOND, 10 * SECOND, 8, true, -1e6));
        store.write(late);
        written.addAll(late);
        store.maintain(now + MINUTE);
        assertRolledUp(mergedBy(written, MINUTE), store.read("cpu", T0, T0 + MINUTE, MINUTE), MINUTE);
    }

    /**
     * Six flushes (a minute) of 3 000 series of {@code cpu}, then one of the next minute, into {@code store}; returns
     * the first minute's windows. The minute's 18 000 partials are three batches of the rollup.
     */
    private static List<Window> aLargeMinute(Store store) {
        List<Window> written = new ArrayList<>();
        for (int w = 0; w < 7; w++) {
            List<Window> flush = new ArrayList<>();
            for (int i = 0; i < 3_000; i++) {
                flush.add(window(SeriesKey.of("cpu", Map.of("host", "h" + i)), T0 + w * 10 * SECOND, 10 * SECOND,
                        w + 1, true, i, w + 0.5));
            }
            store.write(flush);
            if (w < 6) {
                written.addAll(flush);
            }
        }
        return written;
    }

    @Test
    void aRollupStoppedBetweenBatchesKeepsTheBatchesBeforeItAndTheNextPassMergesTheRestOnce() {
        // The second batch fails after its writes: they roll back, the first batch's stay.
        Store store = open("r1", "10s:1d,1m:2d", "rollup", new InterceptedDb.Hooks() {
            private boolean failed;

            @Override
            public void after(int n, java.sql.Connection c) throws java.sql.SQLException {
                if (n == 2 && !failed) {
                    failed = true;
                    throw new java.sql.SQLException("the connection broke");
                }
            }
        });
        List<Window> written = aLargeMinute(store);
        long now = T0 + 2 * MINUTE;

        StoreException e = assertThrows(StoreException.class, () -> store.maintain(now));
        assertTrue(e.getMessage().contains("the connection broke"), e.getMessage());
        clock.set(now + DAY + HOUR);
        List<StoredWindow> first = store.read("cpu", T0, T0 + MINUTE, MINUTE);
        assertTrue(!first.isEmpty() && first.size() < 3_000, first.size() + " series rolled up");
        Map<String, Aggregate> expected = mergedBy(written, MINUTE);
        expected.keySet().retainAll(first.stream().map(w -> w.window().series() + "@" + T0).toList());
        assertRolledUp(expected, first, MINUTE);

        store.maintain(now);
        assertRolledUp(mergedBy(written, MINUTE), store.read("cpu", T0, T0 + MINUTE, MINUTE), MINUTE);
    }

    @Test
    void aWriteIsAdmittedBetweenTheBatchesOfARollup() throws Exception {
        java.util.concurrent.ExecutorService other = java.util.concurrent.Executors.newSingleThreadExecutor();
        try {
            java.util.concurrent.CompletableFuture<java.util.concurrent.Future<?>> write =
                    new java.util.concurrent.CompletableFuture<>();
            List<Integer> visibleBeforeSecond = new ArrayList<>();
            Store[] store = new Store[1];
            store[0] = open("r1", "10s:1d,1m:2d", "rollup", new InterceptedDb.Hooks() {
                @Override
                public void after(int n, java.sql.Connection c) {
                    if (n == 1) {
                        // Issued while the first batch holds the writer.
                        write.complete(other.submit(() -> store[0].write(List.of(
                                window(MEM, T0 + 2 * MINUTE, 10 * SECOND, 9, true, 1)))));
                    }
                }

                @Override
                public void before(int n) throws Exception {
                    if (n == 2) {
                        write.getNow(null).get(60, java.util.concurrent.TimeUnit.SECONDS);
                        visibleBeforeSecond.add(store[0].read("cpu", T0, T0 + MINUTE, MINUTE).size());
                    }
                }
            });
            List<Window> written = aLargeMinute(store[0]);
            long now = T0 + 2 * MINUTE;
            clock.set(now + DAY + HOUR);

            store[0].maintain(now);

            assertTrue(write.isDone() && write.get().isDone(), "the write was issued and returned during the pass");
            assertEquals(1, visibleBeforeSecond.size());
            assertTrue(visibleBeforeSecond.get(0) > 0 && visibleBeforeSecond.get(0) < 3_000,
                    visibleBeforeSecond + " series committed by the first batch");
            assertRolledUp(mergedBy(written, MINUTE), store[0].read("cpu", T0, T0 + MINUTE, MINUTE), MINUTE);
            assertEquals(1, store[0].read("mem", T0 + 2 * MINUTE, T0 + 3 * MINUTE, 10 * SECOND).size());
        } finally {
            other.shutdownNow();
        }
    }

    @Test
    void aLatePartialIsMergedIntoAnAlreadyRolledUpWindow() {
        Store store = open("r1", "10s:1d,1m:2d,1h:30d");
        List<Window> written = new ArrayList<>(twoHours(1));
        store.write(written);
        long now = T0 + 3 * HOUR;
        store.maintain(now);

        Window late = window(CPU_A, T0 + 30 * SECOND, 10 * SECOND, 2, true, 1e6, -1e6);
        late.aggregate().markLate();
        store.write(List.of(late));
        written.add(late);
        store.maintain(now + MINUTE);
        store.maintain(now + 2 * MINUTE);

        clock.set(now + DAY + HOUR);
        assertRolledUp(mergedBy(written, MINUTE), store.read("cpu", T0, T0 + 2 * HOUR, MINUTE), MINUTE);
        Window first = store.read("cpu", T0, T0 + MINUTE, MINUTE).stream().map(StoredWindow::window)
                .filter(w -> w.series().equals(CPU_A)).findFirst().orElseThrow();
        assertEquals(1, first.aggregate().late());
        assertEquals(2, first.flushSeq());
    }

    /** Reads the minute tier of the first two hours, then the hour tier, and checks each against {@code written}. */
    private void assertBothTiers(Store store, List<Window> written, long now) {
        clock.set(now + DAY + HOUR);
        assertRolledUp(mergedBy(written, MINUTE), store.read("cpu", T0, T0 + 2 * HOUR, MINUTE), MINUTE);
        clock.set(now + 3 * DAY);
        assertRolledUp(mergedBy(written, HOUR), store.read("cpu", T0, T0 + 2 * HOUR, HOUR), HOUR);
    }

    @Test
    void aLatePartialReachesTheMinuteAndTheHourTier() {
        Store store = open("r1", "10s:1d,1m:2d,1h:30d");
        List<Window> written = new ArrayList<>(twoHours(1));
        store.write(written);
        long now = T0 + 3 * HOUR;
        store.maintain(now);

        // Both hours were rolled up (from the minute tier); a correction of each arrives.
        Window late = window(CPU_A, T0 + 30 * SECOND, 10 * SECOND, 2, true, 1e6, -1e6);
        late.aggregate().markLate();
        Window later = window(CPU_B, T0 + HOUR + 50 * MINUTE, 10 * SECOND, 3, true, 7);
        later.aggregate().markLate();
        store.write(List.of(late));
        store.write(List.of(later));
        written.add(late);
        written.add(later);
        store.maintain(now + MINUTE);
        store.maintain(now + 2 * MINUTE);

        assertBothTiers(store, written, now);
        Window hour = store.read("cpu", T0, T0 + HOUR, HOUR).stream().map(StoredWindow::window)
                .filter(w -> w.series().equals(CPU_A)).findFirst().orElseThrow();
        assertEquals(1, hour.aggregate().late());
        assertEquals(2, hour.flushSeq());
    }

    /** Hooks that, inside the first read of their kind, count {@code reading} down and wait for {@code release}. */
    private static InterceptedDb.Hooks holdingTheFirstRead(CountDownLatch reading, CountDownLatch release) {
        return new InterceptedDb.Hooks() {
            @Override
            public void reading(int n) throws InterruptedException {
                if (n == 1) {
                    reading.countDown();
                    release.await();
                }
            }
        };
    }

    @Test
    void aQueryIsAnsweredWhileRollupsScanIsUnderWay() throws Exception {
        // Rollup runs on a store thread at ingest's priority and may wait for a core in the middle of a scan: a
        // query's read must not wait for it.
        CountDownLatch scanning = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        Store store = open("r1", "10s:1d,1m:2d", "rollup scan", holdingTheFirstRead(scanning, release));
        List<Window> written = twoHours(1);
        store.write(written);
        ExecutorService threads = Executors.newFixedThreadPool(2);
        try {
            Future<?> rollup = threads.submit(() -> store.maintain(T0 + 3 * HOUR));
            assertTrue(scanning.await(30, TimeUnit.SECONDS), "rollup's scan under way");

            Future<List<StoredWindow>> query = threads.submit(() -> store.read("cpu", T0, T0 + HOUR, 10 * SECOND));
            List<StoredWindow> stored = query.get(30, TimeUnit.SECONDS);

            assertEquals(written.stream().filter(w -> w.start() < T0 + HOUR).count(), stored.size());
            assertFalse(rollup.isDone());
            release.countDown();
            rollup.get(30, TimeUnit.SECONDS);
        } finally {
            release.countDown();
            threads.shutdown();
        }
    }

    @Test
    void aQueryIsAnsweredWhileAnotherQuerysReadIsUnderWay() throws Exception {
        // A dashboard's quick query must not wait behind another query's long read (a PromQL range over a large
        // metric, say), nor that read for a core while it holds the database.
        CountDownLatch reading = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        Store store = open("r1", "10s:1d", "read mem", holdingTheFirstRead(reading, release));
        List<Window> cpu = twoHours(1);
        store.write(cpu);
        store.write(List.of(window(MEM, T0, 10 * SECOND, 2, true, 42)));
        ExecutorService threads = Executors.newFixedThreadPool(2);
        try {
            Future<List<StoredWindow>> slow = threads.submit(() -> store.read("mem", T0, T0 + HOUR, 10 * SECOND));
            assertTrue(reading.await(30, TimeUnit.SECONDS), "the slow read under way");

            List<StoredWindow> quick = threads.submit(() -> store.read("cpu", T0, T0 + HOUR, 10 * SECOND))
                    .get(30, TimeUnit.SECONDS);

            assertEquals(cpu.stream().filter(w -> w.start() < T0 + HOUR).count(), quick.size());
            assertFalse(slow.isDone());
            release.countDown();
            assertEquals(1, slow.get(30, TimeUnit.SECONDS).size());
        } finally {
            release.countDown();
            threads.shutdown();
        }
    }

    @Test
    void rollupResumesAfterACrashBeforeAnyWatermarkWasStored() throws Exception {
        Store store = open("r1", "10s:1d,1m:2d,1h:30d");
        List<Window> written = new ArrayList<>(twoHours(1));
        store.write(written);
        long now = T0 + 3 * HOUR;
        store.maintain(now);
        Window late = window(CPU_B, T0 + 40 * SECOND, 10 * SECOND, 2, true, 123);
        store.write(List.of(late));
        written.add(late);
        store.maintain(now + MINUTE);

        // A crash after the minute tier's rows were stored and before the hour tier's pass: the hour's watermark is
        // where it started; then one that also lost the minute tier's watermark.
        execute("UPDATE meterline_rollup SET through_id = 0 WHERE resolution_ms = ?", HOUR);
        store.maintain(now + 2 * MINUTE);
        assertBothTiers(store, written, now);
        execute("UPDATE meterline_rollup SET through_id = 0");
        store.maintain(now + 3 * MINUTE);
        assertBothTiers(store, written, now);
    }

    @Test
    void aStoreWhoseHourTierWasRolledUpFromItsPartialsGoesOnExactly() {
        // The rows and watermarks of a store whose hour tier was merged from the written partials, as every tier
        // was before coarse tiers were built from finer ones: one store rolls the minute tier, another (same
        // replica) the hour tier from the partials, over more partials than the first saw, so the hour's watermark
        // is ahead of the minute's.
        Store minutes = open("r1", "10s:1d,1m:2d");
        Store hours = open("r1", "10s:1d,1h:30d");
        List<Window> written = new ArrayList<>(twoHours(1));
        minutes.write(written);
        long now = T0 + 3 * HOUR;
        minutes.maintain(now);
        Window late = window(CPU_A, T0 + HOUR + 10 * SECOND, 10 * SECOND, 2, true, 1e3);
        minutes.write(List.of(late));
        written.add(late);
        hours.maintain(now);

        Store upgraded = open("r1", "10s:1d,1m:2d,1h:30d");
        upgraded.maintain(now + MINUTE);
        assertBothTiers(upgraded, written, now);
        Window later = window(CPU_A, T0 + 20 * SECOND, 10 * SECOND, 3, true, -5);
        upgraded.write(List.of(later));
        written.add(later);
        upgraded.maintain(now + 2 * MINUTE);
        upgraded.maintain(now + 3 * MINUTE);
        assertBothTiers(upgraded, written, now);
    }

    @Test
    void aLatePartialOfAnHourOlderThanTheMinuteTierIsMergedFromThePartials() {
        Store store = open("r1", "10s:1h,1m:2h,1h:30d");
        List<Window> written = new ArrayList<>(twoHours(1));
        store.write(written);
        store.maintain(T0 + 2 * HOUR + 2 * MINUTE);

        // Five hours on, the minute tier no longer holds the first hour: its correction goes in from the partials.
        long now = T0 + 5 * HOUR;
        Window late = window(CPU_A, T0 + 30 * SECOND, 10 * SECOND, 2, true, 1e6);
        store.write(List.of(late));
        written.add(late);
        store.maintain(now);
        store.maintain(now + MINUTE);

        clock.set(now + 3 * DAY);
        assertRolledUp(mergedBy(written, HOUR), store.read("cpu", T0, T0 + 2 * HOUR, HOUR), HOUR);
    }

    @Test
    void windowsStillOpenAreNotRolledUp() {
        Store store = open("r1", "10s:1d,1m:2d,1h:30d");
        store.write(twoHours(1));
        // Ten minutes into the second hour: the first hour is done (plus the delay), the second is not.
        long now = T0 + HOUR + 10 * MINUTE;
        store.maintain(now);

        clock.set(now + 3 * DAY);
        List<StoredWindow> hours = store.read("cpu", T0, T0 + 2 * HOUR, HOUR);
        assertEquals(2, hours.size());
        assertTrue(hours.stream().allMatch(s -> s.window().start() == T0));
        clock.set(now + DAY + HOUR);
        List<StoredWindow> minutes = store.read("cpu", T0, T0 + 2 * HOUR, MINUTE);
        assertTrue(minutes.stream().allMatch(s -> s.window().start() < now - JdbcStore.ROLLUP_DELAY.toMillis()));
    }

    @Test
    void retentionDeletesExpiredRowsAndKeepsTheRest() {
        Store store = open("r1", "10s:1h,1m:1d,1h:30d");
        List<Window> written = twoHours(1);
        store.write(written);
        long now = T0 + 2 * HOUR + 2 * MINUTE;
        clock.set(now);
        store.maintain(now);

        long cutoff = now - HOUR;
        List<StoredWindow> fine = store.read("cpu", T0, T0 + 2 * HOUR, 10 * SECOND);
        long kept = written.stream().filter(w -> w.start() >= cutoff && w.series().metric().equals("cpu")).count();
        assertEquals(kept, fine.size());
        assertTrue(fine.stream().allMatch(s -> s.window().start() >= cutoff));
        for (StoredWindow s : fine) {
            assertSameWindow(written.stream().filter(w -> w.series().equals(s.window().series())
                    && w.start() == s.window().start()).findFirst().orElseThrow(), s.window());
        }

        // Two days on, the minute tier is gone and the hour tier is untouched.
        store.maintain(now + 2 * DAY);
        clock.set(now + 2 * DAY);
        assertEquals(0, store.read("cpu", T0, T0 + 2 * HOUR, 10 * SECOND).size());
        assertRolledUp(mergedBy(written, HOUR), store.read("cpu", T0, T0 + 2 * HOUR, HOUR), HOUR);
        assertEquals(Map.of("cpu", 2L), store.metrics());
    }

    @Test
    void seriesWithNoRowsLeftAreForgotten() {
        Store store = open("r1", "10s:1h,1m:2h,1h:3h");
        store.write(List.of(window(MEM, T0, 10 * SECOND, 1, true, 1)));
        store.maintain(T0 + DAY);

        assertEquals(Map.of(), store.metrics());
        assertEquals(List.of(), store.series("mem"));
        store.write(List.of(window(MEM, T0 + DAY, 10 * SECOND, 2, true, 1)));
        assertEquals(Map.of("mem", 1L), store.metrics());
    }

    @Test
    void aSeriesForgottenByAnotherStoreIsStoredAgainByTheStoreThatKnewIt() {
        Store writer = open("r1", "10s:1h,1m:2h,1h:3h");
        Store other = open("r1", "10s:1h,1m:2h,1h:3h");
        writer.write(List.of(window(MEM, T0, 10 * SECOND, 1, true, 1)));
        // The other store's retention deletes the row and forgets the series the writer still knows as stored.
        other.maintain(T0 + DAY);
        assertEquals(Map.of(), writer.metrics());

        writer.write(List.of(window(MEM, T0 + DAY, 10 * SECOND, 2, true, 5)));

        clock.set(T0 + DAY + MINUTE);
        List<StoredWindow> read = writer.read("mem", T0 + DAY, T0 + DAY + MINUTE, 10 * SECOND);
        assertEquals(1, read.size());
        assertEquals(MEM, read.get(0).window().series());
        assertEquals(5, read.get(0).window().aggregate().sum());
        assertEquals(Map.of("mem", 1L), writer.metrics());
        assertEquals(List.of(MEM), other.series("mem"));
    }

    /** Each tag key set of {@code store}'s stored series as metric and keys ({@code cpu[dc, host]}). */
    static Set<String> keySets(Store store) {
        Set<String> out = new TreeSet<>();
        for (SeriesKey k : store.tagKeySets()) {
            assertTrue(out.add(k.metric() + new TreeSet<>(k.tags().keySet())), "each set once: " + k);
        }
        return out;
    }

    @Test
    void theTagKeySetsOfStoredSeriesFollowTheWritesOfEveryStoreAndForgetting() {
        Store store = open("r1", "10s:1h,1m:2h,1h:3h");
        Store other = open("r2", "10s:1h,1m:2h,1h:3h");
        assertEquals(Set.of(), keySets(store));
        store.write(List.of(window(CPU_A, T0, 10 * SECOND, 1, true, 1), window(CPU_B, T0, 10 * SECOND, 1, true, 2)));
        assertEquals(Set.of("cpu[dc, host]"), keySets(store));
        SeriesKey racked = SeriesKey.of("cpu", Map.of("host", "c", "rack", "r1"));
        other.write(List.of(window(racked, T0 + DAY, 10 * SECOND, 1, true, 3)));
        assertEquals(Set.of("cpu[dc, host]", "cpu[host, rack]"), keySets(store), "another store's series");
        store.write(List.of(window(MEM, T0, 10 * SECOND, 2, true, 4)));
        assertEquals(Set.of("cpu[dc, host]", "cpu[host, rack]", "mem[]"), keySets(store));
        assertEquals(keySets(store), keySets(other));

        store.maintain(T0 + DAY);
        assertEquals(Set.of("cpu[host, rack]"), keySets(store), "forgotten with their rows");
        assertEquals(Set.of("cpu[host, rack]"), keySets(other), "forgotten by another store");
        store.write(List.of(window(MEM, T0 + DAY, 10 * SECOND, 3, true, 5)));
        assertEquals(Set.of("cpu[host, rack]", "mem[]"), keySets(store));
        assertEquals(Set.of("cpu[host, rack]", "mem[]"), keySets(other));
    }

    @Test
    void aReopenedStoreWritesNewSeriesAmongItsStoredOnes() {
        Store store = open("r1");
        List<Window> first = new ArrayList<>();
        for (int s = 50; s < 100; s++) {
            first.add(window(SeriesKey.of("cpu", Map.of("host", "h" + s)), T0, 10 * SECOND, 1, true, s));
        }
        store.write(first);
        store.close();

        // The reopened store knows none of its series to be stored; in the stored order the new ones come first.
        Store again = open("r1");
        List<Window> second = new ArrayList<>();
        for (int s = 10; s < 100; s++) {
            second.add(window(SeriesKey.of("cpu", Map.of("host", "h" + s)), T0 + 10 * SECOND, 10 * SECOND, 2, true,
                    1000 + s));
        }
        again.write(second);

        assertEquals(Map.of("cpu", 90L), again.metrics());
        Map<SeriesKey, Double> sums = new HashMap<>();
        for (StoredWindow w : again.read("cpu", T0, T0 + 20 * SECOND, 10 * SECOND)) {
            sums.merge(w.window().series(), w.window().aggregate().sum(), Double::sum);
        }
        assertEquals(90, sums.size());
        for (int s = 10; s < 100; s++) {
            assertEquals(s < 50 ? 1000 + s : 1000 + 2 * s, sums.get(SeriesKey.of("cpu", Map.of("host", "h" + s))));
        }
    }

    @Test
    void replicasWritingTheSameNewSeriesAtOnceAgreeOnTheirIds() throws Exception {
        Store one = open("replica-1");
        Store two = open("replica-2");
        List<Window> first = new ArrayList<>();
        List<Window> second = new ArrayList<>();
        for (int s = 0; s < 300; s++) {
            SeriesKey key = SeriesKey.of("cpu", Map.of("host", "h" + s));
            first.add(window(key, T0, 10 * SECOND, 1, true, s));
            second.add(window(key, T0, 10 * SECOND, 1, true, 1000 + s));
        }
        java.util.concurrent.CyclicBarrier start = new java.util.concurrent.CyclicBarrier(2);
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(2);
        try {
            java.util.concurrent.Future<?> a = pool.submit(() -> {
                start.await();
                one.write(first);
                return null;
            });
            java.util.concurrent.Future<?> b = pool.submit(() -> {
                start.await();
                two.write(second);
                return null;
            });
            a.get();
            b.get();
        } finally {
            pool.shutdownNow();
        }

        assertEquals(Map.of("cpu", 300L), one.metrics());
        Map<SeriesKey, Double> sums = new HashMap<>();
        for (StoredWindow w : one.read("cpu", T0, T0 + 10 * SECOND, 10 * SECOND)) {
            sums.merge(w.window().series(), w.window().aggregate().sum(), Double::sum);
        }
        assertEquals(300, sums.size());
        for (int s = 0; s < 300; s++) {
            assertEquals(1000 + 2 * s, sums.get(SeriesKey.of("cpu", Map.of("host", "h" + s))));
        }
        // Each store goes on with the ids it read.
        one.write(List.of(window(SeriesKey.of("cpu", Map.of("host", "h7")), T0 + 10 * SECOND, 10 * SECOND, 2, true, 1)));
        two.write(List.of(window(SeriesKey.of("cpu", Map.of("host", "h7")), T0 + 10 * SECOND, 10 * SECOND, 2, true, 2)));
        assertEquals(2, one.read("cpu", T0 + 10 * SECOND, T0 + 20 * SECOND, 10 * SECOND).stream()
                .filter(w -> w.window().series().tag("host").equals("h7")).count());
    }

    @Test
    void eachReplicaRollsUpItsOwnRows() {
        Store one = open("replica-1", "10s:1d,1m:2d,1h:30d");
        Store two = open("replica-2", "10s:1d,1m:2d,1h:30d");
        List<Window> written = twoHours(1);
        one.write(written);
        two.write(written);
        long now = T0 + 3 * HOUR;
        one.maintain(now);
        two.maintain(now);
        one.maintain(now);

        clock.set(now + 3 * DAY);
        List<StoredWindow> hours = one.read("cpu", T0, T0 + 2 * HOUR, HOUR);
        assertEquals(8, hours.size());
        Map<String, Aggregate> expected = mergedBy(written, HOUR);
        for (StoredWindow s : hours) {
            assertEquals(expected.get(s.window().series() + "@" + s.window().start()).count(),
                    s.window().aggregate().count());
        }
        assertEquals(List.of("replica-1", "replica-2"), hours.stream().map(StoredWindow::replica).distinct()
                .sorted(Comparator.naturalOrder()).toList());
    }

    // ---- remote write export -----------------------------------------------------------------------------------

    @Test
    void anExportCursorStartsAbsentOnlyMovesForwardAndOutlivesTheStore() {
        Store store = open("r1");
        store.prepareExport();
        assertEquals(null, store.exportCursor("http://a/write"));

        store.advanceExportCursor("http://a/write", ExportCursor.at(T0));
        store.advanceExportCursor("http://a/write", new ExportCursor(T0, "cpu", 7));
        // Behind the stored one (a replica that lost the lock late, say): ignored.
        store.advanceExportCursor("http://a/write", ExportCursor.at(T0));
        store.advanceExportCursor("http://a/write", new ExportCursor(T0, "app", 99));
        store.advanceExportCursor("http://a/write", new ExportCursor(T0, "cpu", 6));
        assertEquals(new ExportCursor(T0, "cpu", 7), store.exportCursor("http://a/write"));
        store.advanceExportCursor("http://b/write", ExportCursor.at(T0 + HOUR));
        store.advanceExportCursor("http://a/write", ExportCursor.at(T0 + 10 * SECOND));
        store.close();

        Store again = open("r1");
        assertEquals(ExportCursor.at(T0 + 10 * SECOND), again.exportCursor("http://a/write"));
        assertEquals(ExportCursor.at(T0 + HOUR), again.exportCursor("http://b/write"));
    }

    /** 40 series of two metrics, each written by two replicas, one of them with a late correction as well. */
    private List<Store> writeSlice() {
        Store one = open("replica-1");
        Store two = open("replica-2");
        List<Window> first = new ArrayList<>();
        List<Window> second = new ArrayList<>();
        List<Window> late = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            SeriesKey key = SeriesKey.of(i % 2 == 0 ? "cpu" : "mem", Map.of("host", "h" + i));
            first.add(window(key, T0, 10 * SECOND, 1, true, i, 1));
            second.add(window(key, T0, 10 * SECOND, 1, true, 100));
            if (i % 3 == 0) {
                late.add(window(key, T0, 10 * SECOND, 2, true, 1000));
            }
            // Neighbouring slices, which a page of the slice at T0 must not return.
            first.add(window(key, T0 - 10 * SECOND, 10 * SECOND, 1, true, 5));
            first.add(window(key, T0 + 10 * SECOND, 10 * SECOND, 1, true, 5));
        }
        one.write(first);
        two.write(second);
        two.write(late);
        one.prepareExport();
        return List.of(one, two);
    }

    @Test
    void exportPagesWalkASliceInSeriesOrderWithEveryPartialOfASeriesTogether() {
        Store store = writeSlice().get(0);
        ExportCursor at = ExportCursor.at(T0);
        List<SeriesKey> order = new ArrayList<>();
        Map<SeriesKey, Aggregate> merged = new HashMap<>();
        int pages = 0;
        boolean more = true;
        while (more) {
            ExportPage page = store.exportPage(10 * SECOND, T0, T0 + 10 * SECOND, at, Long.MAX_VALUE, 7);
            more = page.more();
            if (page.rows().isEmpty()) {
                assertEquals(at, page.next());
                break;
            }
            pages++;
            assertTrue(page.rows().size() <= 7, "page of " + page.rows().size());
            SeriesKey previous = null;
            for (ExportRow w : page.rows()) {
                assertEquals(T0, w.start());
                SeriesKey key = w.series();
                if (!key.equals(previous)) {
                    assertTrue(!merged.containsKey(key), key + " split across pages or out of order");
                    order.add(key);
                    merged.put(key, new Aggregate());
                    previous = key;
                }
                merged.get(key).mergeWith(w.aggregate());
            }
            at = page.next();
            assertEquals(T0, at.through());
        }
        assertTrue(pages >= 40 * 2 / 7, "pages: " + pages);
        assertEquals(40, order.size());
        for (int i = 0; i < 40; i++) {
            SeriesKey key = SeriesKey.of(i % 2 == 0 ? "cpu" : "mem", Map.of("host", "h" + i));
            Aggregate a = merged.get(key);
            assertEquals(i % 3 == 0 ? 4 : 3, a.count(), key.toString());
            assertEquals(i + 1 + 100 + (i % 3 == 0 ? 1000 : 0), a.sum(), key.toString());
        }
        // Metric first: every cpu series before every mem series.
        assertEquals(20, order.subList(0, 20).stream().filter(k -> k.metric().equals("cpu")).count());
        // Read again from the middle: the same remainder.
        assertEquals(order.size(), new HashSet<>(order).size());
    }

    @Test
    void aCoarserSliceMergesTheWindowsInsideItAndASeriesLargerThanAPageComesWhole() {
        Store store = writeSlice().get(1);
        ExportPage page = store.exportPage(10 * SECOND, T0 - 10 * SECOND, T0 + 20 * SECOND, ExportCursor.at(T0 - 10 * SECOND),
                Long.MAX_VALUE, 2);
        // The first series has 5 or 6 partials across three windows: more than a page, returned whole.
        SeriesKey first = page.rows().get(0).series();
        assertTrue(page.rows().stream().allMatch(w -> w.series().equals(first)));
        assertTrue(page.rows().size() >= 5, "partials: " + page.rows().size());
        assertTrue(page.more());
    }

    @Test
    void theNextWrittenStartAndTheLateWritesAreFound() {
        List<Store> stores = writeSlice();
        Store store = stores.get(0);
        assertEquals(T0 - 10 * SECOND, store.nextWrittenStart(10 * SECOND, 0));
        assertEquals(T0, store.nextWrittenStart(10 * SECOND, T0 - 10 * SECOND + 1));
        assertEquals(T0 + 10 * SECOND, store.nextWrittenStart(10 * SECOND, T0 + 1));
        assertEquals(-1, store.nextWrittenStart(10 * SECOND, T0 + 10 * SECOND + 1));
        assertEquals(-1, store.nextWrittenStart(MINUTE, 0));

        long before = store.lastWrittenId();
        stores.get(1).write(List.of(window(MEM, T0 - 10 * SECOND, 10 * SECOND, 9, true, 1),
                window(MEM, T0 + 10 * SECOND, 10 * SECOND, 9, true, 1)));
        long after = store.lastWrittenId();
        assertTrue(after > before);
        assertEquals(1, store.countWrittenBetween(before, after, 10 * SECOND, T0));
        assertEquals(2, store.countWrittenBetween(before, after, 10 * SECOND, T0 + HOUR));
        assertEquals(0, store.countWrittenBetween(after, after, 10 * SECOND, T0 + HOUR));
        // A page read as of the earlier look leaves the later rows out.
        ExportCursor slice = ExportCursor.at(T0 + 10 * SECOND);
        assertEquals(40, store.exportPage(10 * SECOND, T0 + 10 * SECOND, T0 + 20 * SECOND, slice, before, 1000)
                .rows().size());
        assertEquals(41, store.exportPage(10 * SECOND, T0 + 10 * SECOND, T0 + 20 * SECOND, slice, after, 1000)
                .rows().size());
    }

    @Test
    void theFirstExportLockIsHeld() {
        Store store = open("r1");
        store.prepareExport();
        try (ExportLock lock = store.exportLock("http://a/write")) {
            assertTrue(lock.hold());
            assertTrue(lock.hold());
        }
    }
}
