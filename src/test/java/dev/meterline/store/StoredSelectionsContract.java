package dev.meterline.store;

import dev.meterline.config.StoreConfig;
import dev.meterline.model.SeriesKey;
import dev.meterline.model.SeriesValues;
import dev.meterline.model.Window;
import dev.meterline.telemetry.MeterNames;
import dev.meterline.telemetry.StoreMeters;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;

import static dev.meterline.store.StoreContract.HOUR;
import static dev.meterline.store.StoreContract.SECOND;
import static dev.meterline.store.StoreContract.T0;
import static dev.meterline.store.StoreContract.window;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The kept selections of stored series on a real store: through writes of new series, retention forgetting series
 * and the bound, every read by named values finds exactly the rows a scan of the metric's tag texts finds. Run on
 * SQLite ({@link StoredSelectionsTest}) and on PostgreSQL ({@link PostgresStoredSelectionsTest}).
 */
abstract class StoredSelectionsContract {

    static final long RESOLUTION = 10 * SECOND;

    final MutableClock clock = new MutableClock(T0 + HOUR);
    final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    final SimpleMeterRegistry keptRegistry = new SimpleMeterRegistry();
    private final List<Store> opened = new ArrayList<>();
    final WindowTable scan = new WindowTable(dialect());

    /** The store's configuration, replica {@code replica}, one tier of 10 s windows kept an hour. */
    abstract StoreConfig config(String replica, int selectionRows);

    /** The dialect of the store {@link #config} opens. */
    abstract Dialect dialect();

    @AfterEach
    void closeAll() {
        opened.forEach(Store::close);
    }

    JdbcStore open(int selectionRows) {
        return open(Store.connect(config("r1", selectionRows), clock, new StoreMeters(registry)));
    }

    /** {@code store}, closed after the test. */
    JdbcStore open(Store store) {
        opened.add(store);
        return (JdbcStore) store;
    }

    /** Selections kept in {@link #dialect}, metered on {@link #keptRegistry}. */
    StoredSelections selections(int maxRows) {
        return new StoredSelections(maxRows, new StoreMeters(keptRegistry), dialect());
    }

    static SeriesKey cpu(String... tags) {
        Map<String, String> map = new LinkedHashMap<>();
        for (int i = 0; i < tags.length; i += 2) {
            map.put(tags[i], tags[i + 1]);
        }
        return SeriesKey.of("cpu", map);
    }

    /** One window of each series at each start. */
    static List<Window> windows(List<SeriesKey> series, long... starts) {
        List<Window> out = new ArrayList<>();
        for (long start : starts) {
            for (int i = 0; i < series.size(); i++) {
                out.add(window(series.get(i), start, RESOLUTION, 1, true, i, start / SECOND % 97));
            }
        }
        return out;
    }

    /** Twenty hosts of cpu, odd ones in dc us, even ones in eu; and a series of another metric on h13. */
    static List<SeriesKey> hosts(int from, int to) {
        List<SeriesKey> out = new ArrayList<>();
        for (int h = from; h < to; h++) {
            out.add(cpu("host", "h" + h, "dc", h % 2 == 0 ? "eu" : "us"));
        }
        return out;
    }

    static TagValues byKey(String key, String... values) {
        return TagValues.of(Map.of(key, List.of(values)));
    }

    /** The asks of a dashboard and of PromQL: one value, several under a key, several keys, any key, none found. */
    static List<TagValues> asks() {
        return List.of(
                byKey("host", "h13"),
                byKey("host", "h1"),
                byKey("host", "h1", "h13", "h2"),
                TagValues.of(Map.of("host", List.of("h1", "h13", "h2", "h4"), "dc", List.of("eu"))),
                new TagValues(Map.of(), List.of(List.of("eu"))),
                new TagValues(Map.of("dc", List.of("us")), List.of(List.of("h13", "h3", "a"))),
                byKey("host", "h99"));
    }

    /** A read's rows as text: how it found them, then each row's id, series, tags and start, in its order. */
    static String rows(WindowTable.Selected selected) {
        StringBuilder out = new StringBuilder(selected.path().tag());
        for (WindowTable.Row r : selected.rows()) {
            out.append('\n').append(r.id()).append(' ').append(r.seriesId()).append(' ').append(r.tags())
                    .append(' ').append(r.start()).append(' ').append(r.aggregate().sum());
        }
        return out.toString();
    }

    static WindowTable.Selected select(JdbcStore store, WindowTable table, TagValues named,
                                               Predicate<SeriesKey> filter) {
        Predicate<String> wanted = tags -> named.admits(SeriesKey.of("cpu", TagsJson.decode(tags)), filter);
        return store.db().read("read", c -> table.select(c, "cpu", RESOLUTION, T0 - HOUR, T0 + 10 * HOUR, named,
                wanted));
    }

    /** Each ask, and each ask with a filter that takes only dc eu, finds the rows the scan finds. */
    static void sameAsScan(JdbcStore store, WindowTable kept, WindowTable scan, String when) {
        Predicate<SeriesKey> euOnly = k -> "eu".equals(k.tags().get("dc"));
        for (TagValues named : asks()) {
            for (Predicate<SeriesKey> filter : List.<Predicate<SeriesKey>>of(k -> true, euOnly)) {
                String expected = rows(select(store, scan, named, filter));
                assertEquals(expected, rows(select(store, kept, named, filter)), when + ": " + named);
            }
        }
    }

    /**
     * A listing's series of cpu by {@code named} and {@code filter}, at most {@code limit}, as their tag texts sorted:
     * a listing gives its series in no particular order.
     */
    static List<String> listing(JdbcStore store, WindowTable table, TagValues named, Predicate<SeriesKey> filter,
                                int limit) {
        List<String> out = new ArrayList<>(store.db().read("list", c -> table.seriesTags(c, "cpu", named,
                tags -> named.admits(SeriesKey.of("cpu", TagsJson.decode(tags)), filter) ? tags : null, limit)));
        out.sort(null);
        return out;
    }

    /**
     * Each ask's listing, and with a filter that takes only dc eu, lists the series the scan lists; at a bound of one
     * it stops as the scan does, at one of them.
     */
    static void sameListingsAsScan(JdbcStore store, WindowTable kept, WindowTable scan, String when) {
        Predicate<SeriesKey> euOnly = k -> "eu".equals(k.tags().get("dc"));
        for (TagValues named : asks()) {
            for (Predicate<SeriesKey> filter : Arrays.<Predicate<SeriesKey>>asList(null, euOnly)) {
                List<String> all = listing(store, scan, named, filter, Integer.MAX_VALUE);
                assertEquals(all, listing(store, kept, named, filter, Integer.MAX_VALUE), when + ": " + named);
                List<String> one = listing(store, kept, named, filter, 1);
                assertEquals(Math.min(1, all.size()), one.size(), when + ", bound 1: " + named);
                assertTrue(all.containsAll(one), when + ", bound 1: " + one + " among " + all);
            }
        }
    }

    /** Stored windows as text: each one's series, start, count and sum, one a line. */
    private static String windows(List<StoredWindow> read) {
        StringBuilder out = new StringBuilder();
        for (StoredWindow w : read) {
            Window window = w.window();
            out.append(window.series()).append(' ').append(window.start()).append(' ')
                    .append(window.aggregate().count()).append(' ').append(window.aggregate().sum()).append('\n');
        }
        return out.toString();
    }

    double lookups(SimpleMeterRegistry r, String result) {
        return r.get(MeterNames.STORE_SELECTIONS_LOOKUPS).tag("result", result).counter().count();
    }

    @Test
    void newSeriesAndForgottenSeriesLeaveEveryAnswerAsTheScansAnswer() {
        JdbcStore store = open(0);
        StoredSelections selections = selections(100_000);
        WindowTable kept = new WindowTable(dialect(), selections);
        List<SeriesKey> first = new ArrayList<>(hosts(0, 20));
        first.add(SeriesKey.of("mem", Map.of("host", "h13")));
        store.write(windows(first, T0, T0 + RESOLUTION));

        sameAsScan(store, kept, scan, "first asks");
        sameAsScan(store, kept, scan, "asked again");
        int asks = asks().size();
        assertEquals(asks, lookups(keptRegistry, "miss"));
        assertEquals(3 * asks, lookups(keptRegistry, "hit"));

        // New series between two asks, one of them a second series of h13 and one in neither dc.
        List<SeriesKey> more = new ArrayList<>(hosts(20, 30));
        more.add(cpu("host", "h13", "dc", "eu", "zone", "a"));
        more.add(cpu("host", "h3", "zone", "a"));
        store.write(windows(more, T0 + 2 * RESOLUTION));
        store.write(windows(first.subList(0, 5), T0 + 3 * RESOLUTION));
        sameAsScan(store, kept, scan, "after new series");
        assertEquals(asks, lookups(keptRegistry, "miss"));

        // An hour on, only some series are written; retention forgets the others, which moves the series epoch.
        long later = T0 + 2 * HOUR;
        clock.set(later);
        List<SeriesKey> stay = List.of(first.get(1), first.get(13), more.get(10));
        store.write(windows(stay, later));
        long rowsBefore = selections.rows();
        store.maintain(later);
        sameAsScan(store, kept, scan, "after series were forgotten");
        assertEquals(2 * asks, lookups(keptRegistry, "miss"));
        assertTrue(selections.rows() < rowsBefore, selections.rows() + " rows held, before " + rowsBefore);

        // The forgotten series come back under new ids.
        store.write(windows(first, later + RESOLUTION));
        store.write(windows(more, later + 2 * RESOLUTION));
        sameAsScan(store, kept, scan, "after forgotten series came back");
        assertEquals(2 * asks, lookups(keptRegistry, "miss"));
    }

    /**
     * Listings by named values read the kept selections, and list what the scan lists through new series, forgotten
     * series and their return.
     */
    @Test
    void listingsByNamedValuesListTheScansSeriesThroughNewAndForgottenSeries() {
        JdbcStore store = open(0);
        StoredSelections selections = selections(100_000);
        WindowTable kept = new WindowTable(dialect(), selections);
        List<SeriesKey> first = new ArrayList<>(hosts(0, 20));
        first.add(SeriesKey.of("mem", Map.of("host", "h13")));
        store.write(windows(first, T0));

        sameListingsAsScan(store, kept, scan, "first listings");
        int asks = asks().size();
        assertEquals(asks, lookups(keptRegistry, "miss"));
        assertTrue(lookups(keptRegistry, "hit") > 0);

        List<SeriesKey> more = new ArrayList<>(hosts(20, 30));
        more.add(cpu("host", "h13", "dc", "eu", "zone", "a"));
        more.add(cpu("host", "h3", "zone", "a"));
        store.write(windows(more, T0 + RESOLUTION));
        sameListingsAsScan(store, kept, scan, "after new series");
        assertEquals(asks, lookups(keptRegistry, "miss"), "new series read after the ids held");

        long later = T0 + 2 * HOUR;
        clock.set(later);
        store.write(windows(List.of(first.get(1), first.get(13), more.get(10)), later));
        store.maintain(later);
        sameListingsAsScan(store, kept, scan, "after series were forgotten");
        assertEquals(2 * asks, lookups(keptRegistry, "miss"));

        store.write(windows(first, later + RESOLUTION));
        sameListingsAsScan(store, kept, scan, "after forgotten series came back");
        assertEquals(2 * asks, lookups(keptRegistry, "miss"));
    }

    /** The store's listings of series and of a tag's values by named values ask its kept selections. */
    @Test
    void theStoresListingsAskItsSelections() {
        JdbcStore store = open(StoreConfig.DEFAULT_SELECTION_ROWS);
        store.write(windows(hosts(0, 20), T0));
        TagValues h13 = byKey("host", "h13");
        assertEquals(List.of(cpu("host", "h13", "dc", "us")), store.series("cpu", h13, null, 10));
        assertEquals(1, lookups(registry, "miss"));
        TagValues eu = byKey("dc", "eu");
        assertEquals(6, store.series("cpu", eu, null, 5).size(), "one past the bound");
        assertEquals(10, store.series("cpu", eu, null, 10_000).size());

        store.write(windows(List.of(cpu("host", "h13", "dc", "eu")), T0 + RESOLUTION));
        SeriesValues dcs = store.seriesValues("cpu", h13, null, SeriesValues.Value.ofTag("dc"), 10);
        assertEquals(Set.of("eu", "us"), dcs.values());
        assertEquals(2, dcs.series());
        assertEquals(2, lookups(registry, "miss"));
        assertEquals(2, lookups(registry, "hit"));
    }

    /**
     * At the bound the least recently asked selection goes, a selection of more than its share is not kept, and every
     * answer stays the scan's.
     */
    @Test
    void atTheBoundTheEldestSelectionGoesAndALargeOneIsNotKept() {
        JdbcStore store = open(0);
        StoredSelections selections = selections(8 * StoredSelections.SHARE / 2);
        WindowTable kept = new WindowTable(dialect(), selections);
        store.write(windows(hosts(0, 12), T0));

        // 64 rows, at most 4 series a selection: dc eu selects 6.
        TagValues eu = byKey("dc", "eu");
        assertEquals(rows(select(store, scan, eu, null)), rows(select(store, kept, eu, null)));
        assertEquals(0, selections.selections());
        assertEquals(0, selections.rows());

        // A host's selection weighs 2: 32 of them fill the bound, and each one more evicts the eldest.
        for (int h = 0; h < 40; h++) {
            TagValues host = byKey("host", "h" + (h % 12), "h" + h);
            assertEquals(rows(select(store, scan, host, null)), rows(select(store, kept, host, null)), "h" + h);
            assertTrue(selections.rows() <= 64, selections.rows() + " rows held");
        }
        assertEquals(32, selections.selections());
        assertEquals(64, selections.rows());
        assertEquals(8, keptRegistry.get(MeterNames.STORE_SELECTIONS_EVICTIONS).counter().count());
        assertEquals(64, keptRegistry.get(MeterNames.STORE_SELECTIONS_ROWS).gauge().value());
        double misses = lookups(keptRegistry, "miss");

        // The last asked is held, the first was evicted.
        select(store, kept, byKey("host", "h3", "h39"), null);
        assertEquals(misses, lookups(keptRegistry, "miss"));
        select(store, kept, byKey("host", "h0", "h0"), null);
        assertEquals(misses + 1, lookups(keptRegistry, "miss"));

        // More series of the same hosts: a held selection that outgrows its share leaves, and its answer is right.
        List<SeriesKey> more = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            more.add(cpu("host", "h3", "n", String.valueOf(i)));
        }
        store.write(windows(more, T0 + RESOLUTION));
        TagValues h3 = byKey("host", "h3", "h39");
        int before = selections.selections();
        assertEquals(rows(select(store, scan, h3, null)), rows(select(store, kept, h3, null)));
        assertEquals(before - 1, selections.selections());
        assertTrue(selections.rows() <= 64, selections.rows() + " rows held");
    }

    /** The store keeps its selections and meters them; at 0 it keeps none and reads the texts. */
    @Test
    void theStoreKeepsItsSelectionsUnlessTurnedOff() {
        JdbcStore store = open(StoreConfig.DEFAULT_SELECTION_ROWS);
        store.write(windows(hosts(0, 20), T0));
        TagValues h13 = byKey("host", "h13");
        String firstRead = windows(store.read("cpu", h13, null, T0, T0 + HOUR, RESOLUTION));
        String secondRead = windows(store.read("cpu", h13, null, T0, T0 + HOUR, RESOLUTION));
        assertEquals(1, firstRead.lines().count(), firstRead);
        assertEquals(firstRead, secondRead);
        assertEquals(1, lookups(registry, "miss"));
        assertEquals(1, lookups(registry, "hit"));
        assertEquals(2, registry.get(MeterNames.STORE_SELECTIONS_ROWS).gauge().value());
        store.close();
        opened.remove(store);

        SimpleMeterRegistry off = new SimpleMeterRegistry();
        Store unkept = open(Store.connect(config("r1", 0), clock, new StoreMeters(off)));
        assertEquals(firstRead, windows(unkept.read("cpu", h13, null, T0, T0 + HOUR, RESOLUTION)));
        assertEquals(0, lookups(off, "miss") + lookups(off, "hit"));
        assertFalse(new StoredSelections(StoredSelections.SHARE - 1, StoreMeters.unregistered(), dialect()).keeps());
    }

    /** The ids of a selection's series, ascending. */
    static List<Long> ids(StoredSelections.Series series) {
        List<Long> out = new ArrayList<>();
        for (int i = 0; i < series.size(); i++) {
            out.add(series.ids()[i]);
        }
        out.sort(null);
        return out;
    }

    /** A filter that names its keys, or a key's values, in another order asks for the same selection. */
    @Test
    void aFilterNamedInAnotherOrderFindsTheSameSelection() {
        JdbcStore store = open(0);
        StoredSelections selections = selections(100_000);
        store.write(windows(hosts(0, 20), T0));
        List<String> hosts = List.of(TagsJson.pair("host", "h1"), TagsJson.pair("host", "h13"));
        List<String> us = List.of(TagsJson.pair("dc", "us"));
        List<Long> first = ids(store.db().read("read", c -> selections.select(c, "cpu", List.of(hosts, us))));
        List<Long> again = ids(store.db().read("read", c -> selections.select(c, "cpu",
                List.of(us, List.of(hosts.get(1), hosts.get(0), hosts.get(1))))));

        assertEquals(2, first.size(), first.toString());
        assertEquals(first, again);
        assertEquals(1, selections.selections());
        assertEquals(1, lookups(keptRegistry, "miss"));
        assertEquals(1, lookups(keptRegistry, "hit"));
    }
}
