package dev.meterline.store;

import dev.meterline.model.Aggregate;
import dev.meterline.model.SeriesKey;
import dev.meterline.model.Window;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The kept texts of series: one per series whatever the key instance, none shared by two, and the table's bound. */
class SeriesTextsTest {

    private static SeriesKey key(String host) {
        return SeriesKey.of("cpu", Map.of("host", host));
    }

    private static Window window(SeriesKey key) {
        return new Window(key, 0, 10_000, new Aggregate(), true, 1);
    }

    private static WindowTexts textOf(SeriesTexts texts, SeriesKey key) {
        return texts.of(List.of(window(key)));
    }

    /** Whether window {@code i} of {@code a} and window {@code j} of {@code b} have the one kept text. */
    private static boolean same(WindowTexts a, int i, WindowTexts b, int j) {
        return a.columns() == b.columns() && a.number(i) == b.number(j);
    }

    private static long epoch(WindowTexts texts, int i) {
        return texts.columns().storedEpoch(texts.number(i));
    }

    private static void stored(WindowTexts texts, int i, long epoch) {
        texts.columns().stored(new int[] {texts.number(i)}, 1, epoch);
    }

    @Test
    void instancesOfOneSeriesShareOneTextAndMetricsOneInstance() {
        SeriesTexts texts = new SeriesTexts(100);
        SeriesKey a = key("a");
        SeriesKey aAgain = key("a");
        WindowTexts out = texts.of(List.of(window(a), window(key("b")), window(aAgain), window(a)));
        assertTrue(same(out, 0, out, 2));
        assertTrue(same(out, 0, out, 3));
        assertFalse(same(out, 0, out, 1));
        assertSame(out.metric(0), out.metric(1));
        assertTrue(out.sameMetric(0, 1));
        assertEquals("{\"host\":\"a\"}", out.tags(0));
        assertEquals("cpu", out.metric(0));
        assertEquals(2, texts.instances(), "a and b: the second instance of a is found by content, not kept");
        assertTrue(same(out, 0, textOf(texts, aAgain), 0));
        assertEquals(2, texts.instances());
    }

    @Test
    void seriesWithTheSameHashKeepTheirOwnTexts() {
        // The key's hash runs over its content bytes with a factor of 31, like String's: "Aa" and "BB" hash alike.
        SeriesKey first = key("Aa");
        SeriesKey second = key("BB");
        assertEquals(first.hashCode(), second.hashCode());
        SeriesTexts texts = new SeriesTexts(100);
        assertEquals("{\"host\":\"Aa\"}", textOf(texts, first).tags(0));
        assertEquals("{\"host\":\"BB\"}", textOf(texts, second).tags(0));
        assertEquals("{\"host\":\"BB\"}", textOf(texts, key("BB")).tags(0));
        assertEquals("{\"host\":\"Aa\"}", textOf(texts, key("Aa")).tags(0));
    }

    /**
     * A write's new series are listed once each in the stored order (the order replicas take their row locks in),
     * from the ranks, whether the write ranks its texts afresh or reuses the ranks of the write before.
     */
    @Test
    void newSeriesComeOnceEachInTheStoredOrder() {
        SeriesTexts texts = new SeriesTexts(100);
        List<Window> first = new ArrayList<>();
        for (String host : List.of("m", "c", "x", "a", "c", "q")) {
            first.add(window(key(host)));
        }
        first.add(new Window(SeriesKey.of("alpha", Map.of("host", "z")), 0, 10_000, new Aggregate(), true, 1));
        first.add(window(key("a")));
        for (int round = 0; round < 2; round++) {
            WindowTexts out = texts.of(first);
            int[] rank = new int[out.size()];
            int[] metricRank = new int[out.size()];
            out.rank(rank, metricRank);
            if (round == 1) {
                // The write before stored "c" and "q": only the others are new.
                assertTrue(epoch(out, 1) == 3 && epoch(out, 5) == 3);
            }
            NewSeries fresh = SeriesTexts.unstored(out, rank, 3);
            List<String> listed = new ArrayList<>();
            for (int k = 0; k < fresh.size(); k++) {
                listed.add(fresh.metric(k) + fresh.tags(k));
            }
            List<String> expected = round == 0
                    ? List.of("alpha{\"host\":\"z\"}", "cpu{\"host\":\"a\"}", "cpu{\"host\":\"c\"}",
                            "cpu{\"host\":\"m\"}", "cpu{\"host\":\"q\"}", "cpu{\"host\":\"x\"}")
                    : List.of("alpha{\"host\":\"z\"}", "cpu{\"host\":\"a\"}", "cpu{\"host\":\"m\"}",
                            "cpu{\"host\":\"x\"}");
            assertEquals(expected, listed, "round " + round);
            stored(out, 1, 3);
            stored(out, 5, 3);
        }
    }

    /**
     * A write's new series get their ids into the table before the rows that carry them: the write reads them back,
     * a write that found its texts before reads them once it reads its ids again, and the epoch marks them stored
     * only once the write has committed.
     */
    @Test
    void idsGoIntoTheTableAndEveryHolderOfTheTextsReadsThem() {
        SeriesTexts texts = new SeriesTexts(100);
        List<Window> ws = List.of(window(key("a")), window(key("b")), window(key("a")));
        WindowTexts earlier = texts.of(ws);
        WindowTexts out = texts.of(ws);
        int[] rank = new int[3];
        out.rank(rank, new int[3]);
        NewSeries fresh = SeriesTexts.unstored(out, rank, 7);
        assertEquals(2, fresh.size());
        assertFalse(fresh.storedBefore());
        fresh.id(0, 41);
        fresh.id(1, 42);
        fresh.keepIds();
        assertEquals(0, out.id(0), "read when the texts were found");
        out.readIds();
        assertEquals(List.of(41L, 42L, 41L), List.of(out.id(0), out.id(1), out.id(2)));
        assertFalse(out.storedEver());
        assertEquals(Long.MIN_VALUE, epoch(out, 0));
        fresh.stored(7);
        assertTrue(out.storedEver());
        assertEquals(0, SeriesTexts.unstored(out, rank, 7).size());
        assertEquals(2, SeriesTexts.unstored(out, rank, 8).size(), "another epoch: ids no longer trusted");
        assertTrue(SeriesTexts.unstored(out, rank, 8).storedBefore());
        earlier.readIds();
        assertEquals(42, earlier.id(1));
    }

    @Test
    void belowTheBoundTextsAndWhatWasStoredAreKept() {
        SeriesTexts texts = new SeriesTexts(2000);
        List<Window> many = windows(1500);
        WindowTexts first = texts.of(many);
        stored(first, 0, 0);
        WindowTexts second = texts.of(many);
        assertTrue(same(first, 7, second, 7));
        assertEquals(0, epoch(second, 0));
        assertEquals(Long.MIN_VALUE, epoch(second, 1499), "a series the columns grew for: not stored");
        assertFalse(second.storedEver());
        assertEquals(1500, texts.instances());
    }

    /**
     * Series met while the table is full are numbered past the bound in the same columns, once per run of one key
     * instance, and dropped with the rest when the next write starts the table afresh in columns of its own; the
     * write that holds the columns left keeps its texts.
     */
    @Test
    void aWriteThatFindsTheTableFullStartsItAfreshAndForgetsWhatWasStored() {
        SeriesTexts texts = new SeriesTexts(1000);
        List<Window> many = windows(1500);
        many.add(many.get(1400));
        many.add(window(key("h1400")));
        WindowTexts first = texts.of(many);
        assertEquals(1000, texts.instances(), "the series past the bound get texts that are not kept");
        assertEquals(1000, texts.series());
        assertEquals("{\"host\":\"h1400\"}", first.tags(1400));
        assertEquals(1400, first.number(1400));
        assertEquals(1500, first.number(1500), "the same key instance again, not next to it: another number");
        assertEquals(1501, first.number(1501));
        assertEquals(1502, first.columns().size());
        stored(first, 0, 0);
        WindowTexts second = texts.of(many);
        assertFalse(same(first, 7, second, 7));
        assertEquals(Long.MIN_VALUE, epoch(second, 0));
        assertEquals(0, epoch(first, 0), "the columns left stay as their holder had them");
        assertEquals(first.tags(7), second.tags(7));
        assertEquals("{\"host\":\"h1400\"}", first.tags(1500));
        assertEquals(1000, texts.instances());
        assertEquals(1, texts.fullResets());
    }

    @Test
    void aTableHoldingExactlyItsBoundOfSeriesKeepsThemAndFindsOtherInstancesByContent() {
        SeriesTexts texts = new SeriesTexts(1000);
        List<Window> many = windows(1000);
        WindowTexts first = texts.of(many);
        stored(first, 0, 0);
        // The same series under other key instances, as replay or another event loop hands them over.
        WindowTexts again = texts.of(windows(1000));
        assertTrue(same(first, 7, again, 7));
        assertEquals(0, epoch(again, 0));
        assertTrue(same(first, 7, texts.of(many), 7));
        assertEquals(1000, texts.series());
        assertEquals(1000, texts.instances(), "one instance kept per series");
        assertEquals(0, texts.fullResets());
    }

    @Test
    void theWriteAfterOneThatMetASeriesPastTheBoundCountsAReset() {
        SeriesTexts texts = new SeriesTexts(1000);
        texts.of(windows(1001));
        assertEquals(1000, texts.series());
        assertEquals(0, texts.fullResets());
        texts.of(windows(10));
        assertEquals(1, texts.fullResets());
        assertEquals(10, texts.series());
    }

    /** Clearing starts new columns: what was stored is forgotten, while a write holding the old ones keeps them. */
    @Test
    void clearForgetsWhatWasStored() {
        SeriesTexts texts = new SeriesTexts(100);
        SeriesKey a = key("a");
        WindowTexts held = textOf(texts, a);
        stored(held, 0, 0);
        assertEquals(0, epoch(textOf(texts, a), 0));
        texts.clear();
        assertEquals(0, texts.instances());
        WindowTexts after = texts.of(List.of(window(key("b")), window(a)));
        assertEquals(Long.MIN_VALUE, epoch(after, 1));
        assertEquals(0, epoch(held, 0));
        assertEquals("{\"host\":\"a\"}", held.tags(0));
        assertEquals(0, held.number(0));
        assertEquals(0, after.number(0), "numbered from 0 again");
        assertEquals("{\"host\":\"b\"}", after.tags(0));
    }

    private static List<Window> windows(int series) {
        List<Window> out = new ArrayList<>();
        for (int i = 0; i < series; i++) {
            out.add(window(key("h" + i)));
        }
        return out;
    }

    /** The texts of {@code tags}, each series numbered in {@code columns} as one of metric {@code metric}. */
    private static int add(SeriesColumns columns, String metric, String tags) {
        byte[] utf8 = tags.getBytes(StandardCharsets.UTF_8);
        return columns.add(metric, utf8, utf8.length);
    }

    @Test
    void theSortOnPackedPrefixesGivesTheTextsOrderStably() {
        Random random = new Random(19);
        String[] metrics = {"cpu", "cpu.user", "Cpu", "mem", "é", "a"};
        String[] pieces = {"a", "b", "h1", "h10", "h2", "\"", "é", "\u2603", "\uffff", "\u0001", "", "zz",
                "\uD83D\uDE00", "\uE000", "\u00ff", "\u0100"};
        for (int round = 0; round < 300; round++) {
            int n = random.nextInt(400);
            String shared = round % 3 == 0 ? "" : "{\"host\":\"" + (round % 2 == 0 ? "node-" : "");
            int metricCount = 1 + random.nextInt(metrics.length);
            SeriesColumns columns = new SeriesColumns();
            List<Integer> texts = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                if (i > 0 && random.nextInt(10) == 0) {
                    // The same series under another number (a text not kept), and the same number twice apart.
                    int other = texts.get(random.nextInt(i));
                    texts.add(add(columns, columns.metric(other), columns.tags(other)));
                    if (random.nextBoolean()) {
                        texts.add(other);
                        i++;
                    }
                    continue;
                }
                StringBuilder tags = new StringBuilder(shared);
                int parts = random.nextInt(round % 4 == 0 ? 3 : 6);
                for (int p = 0; p < parts; p++) {
                    tags.append(pieces[random.nextInt(round % 5 == 0 ? 6 : pieces.length)]);
                }
                texts.add(add(columns, metrics[random.nextInt(metricCount)], tags.toString()));
            }
            List<Integer> expected = new ArrayList<>(texts);
            expected.sort(columns::compare);

            int[] sorted = columns.sorted(texts.stream().mapToInt(Integer::intValue).toArray());

            assertEquals(expected, Arrays.stream(sorted).boxed().toList(), "round " + round);
        }
    }

    /**
     * Tag texts go in the order of their code points, their UTF-8 bytes' order: SQLite's {@code BINARY} collation and
     * PostgreSQL's {@code C}. It parts from {@link String#compareTo} where a supplementary character (two UTF-16
     * units from U+D800) meets one from U+E000 to U+FFFF: the supplementary one goes last.
     */
    @Test
    void tagTextsGoInTheOrderOfTheirCodePoints() {
        String[] tags = {"{\"k\":\"\uD83D\uDE00\"}", "{\"k\":\"\uFFFF\"}", "{\"k\":\"\uE000\"}",
                "{\"k\":\"\u00e9\"}", "{\"k\":\"z\"}", "{\"k\":\"\uD800\uDC00\"}", "{\"k\":\"\"}",
                "{\"k\":\"\u07ff\"}", "{\"k\":\"\u0800\"}"};
        SeriesColumns columns = new SeriesColumns();
        List<Integer> texts = new ArrayList<>();
        for (String t : tags) {
            texts.add(add(columns, "m", t));
        }
        List<Integer> packed = Arrays.stream(columns.sorted(texts.stream().mapToInt(Integer::intValue).toArray()))
                .boxed().toList();
        texts.sort(columns::compare);
        assertEquals(texts, packed);
        List<String> byCodePoints = new ArrayList<>(List.of(tags));
        byCodePoints.sort((x, y) -> Arrays.compare(x.codePoints().toArray(), y.codePoints().toArray()));
        List<String> sorted = new ArrayList<>();
        for (int t : texts) {
            sorted.add(columns.tags(t));
        }
        assertEquals(byCodePoints, sorted);
        assertEquals(List.of("{\"k\":\"\"}", "{\"k\":\"z\"}", "{\"k\":\"\u00e9\"}", "{\"k\":\"\u07ff\"}",
                "{\"k\":\"\u0800\"}", "{\"k\":\"\uE000\"}", "{\"k\":\"\uFFFF\"}", "{\"k\":\"\uD800\uDC00\"}",
                "{\"k\":\"\uD83D\uDE00\"}"), sorted);
        assertEquals(0, columns.compare(add(columns, "m", tags[0]), add(columns, "m", tags[0])));
        assertTrue(columns.compare(add(columns, "a", tags[0]), add(columns, "b", tags[6])) < 0, "the metric first");
    }

    /** A series whose tags need every escape JSON has, and characters of one to four UTF-8 bytes, kept exactly. */
    @Test
    void aTextNeedingEveryEscapeIsKeptAsTheStringWayWritesIt() {
        Map<String, String> tags = new HashMap<>();
        tags.put("q\"b\\s/", "\b\f\n\r\t\u0000\u001f\u007f");
        tags.put("\u00e9\u2603", "\uD83D\uDE00x");
        tags.put("", "");
        SeriesKey key = SeriesKey.of("cpu", tags);
        SeriesTexts texts = new SeriesTexts(10);
        WindowTexts out = texts.of(List.of(window(key("a")), window(key)));
        assertEquals(TagsJson.encode(key), out.tags(1));
        assertEquals(tags, TagsJson.decode(out.tags(1)));
    }

    /** Texts of many series span several slabs, a text longer than a slab takes a slab of its own; each stays whole. */
    @Test
    void textsSpanningSlabsAndOneLongerThanASlabStayWhole() {
        SeriesTexts texts = new SeriesTexts(100_000);
        List<Window> windows = new ArrayList<>();
        List<String> hosts = new ArrayList<>();
        Random random = new Random(3);
        for (int i = 0; i < 60_000; i++) {
            String host = i == 30_000 ? "x".repeat(SeriesColumns.SLAB_BYTES + 5)
                    : "h" + i + "-" + random.nextInt(1 << 20);
            hosts.add(host);
            windows.add(window(key(host)));
        }
        WindowTexts out = texts.of(windows);
        WindowTexts again = texts.of(windows);
        for (int i = 0; i < hosts.size(); i++) {
            assertEquals(TagsJson.encode(key(hosts.get(i))), out.tags(i), "series " + i);
            assertTrue(same(out, i, again, i));
        }
    }

    @Test
    void aBoundBelowOneIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> new SeriesTexts(0));
    }
}
