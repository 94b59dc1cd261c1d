package dev.meterline.store;

import dev.meterline.model.Aggregate;
import dev.meterline.model.SeriesKey;
import dev.meterline.model.Window;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
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

    private static SeriesTexts.Text textOf(SeriesTexts texts, SeriesKey key) {
        return texts.of(List.of(window(key)))[0];
    }

    @Test
    void instancesOfOneSeriesShareOneTextAndMetricsOneInstance() {
        SeriesTexts texts = new SeriesTexts(100);
        SeriesKey a = key("a");
        SeriesKey aAgain = key("a");
        SeriesTexts.Text[] out = texts.of(List.of(window(a), window(key("b")), window(aAgain), window(a)));
        assertSame(out[0], out[2]);
        assertSame(out[0], out[3]);
        assertNotSame(out[0], out[1]);
        assertSame(out[0].metric, out[1].metric);
        assertEquals("{\"host\":\"a\"}", out[0].tags());
        assertEquals("cpu", out[0].metric);
        assertEquals(2, texts.instances(), "a and b: the second instance of a is found by content, not kept");
        assertSame(out[0], textOf(texts, aAgain));
        assertEquals(2, texts.instances());
    }

    @Test
    void seriesWithTheSameHashKeepTheirOwnTexts() {
        // The key's hash runs over its content bytes with a factor of 31, like String's: "Aa" and "BB" hash alike.
        SeriesKey first = key("Aa");
        SeriesKey second = key("BB");
        assertEquals(first.hashCode(), second.hashCode());
        SeriesTexts texts = new SeriesTexts(100);
        assertEquals("{\"host\":\"Aa\"}", textOf(texts, first).tags());
        assertEquals("{\"host\":\"BB\"}", textOf(texts, second).tags());
        assertEquals("{\"host\":\"BB\"}", textOf(texts, key("BB")).tags());
        assertEquals("{\"host\":\"Aa\"}", textOf(texts, key("Aa")).tags());
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
            SeriesTexts.Text[] out = texts.of(first);
            int[] rank = new int[out.length];
            int[] metricRank = new int[out.length];
            texts.rank(out, rank, metricRank);
            if (round == 1) {
                // The write before stored "c" and "q": only the others are new.
                assertTrue(out[1].storedEpoch == 3 && out[5].storedEpoch == 3);
            }
            List<SeriesTexts.Text> fresh = SeriesTexts.unstored(out, rank, 3);
            List<String> listed = new ArrayList<>();
            for (SeriesTexts.Text t : fresh) {
                listed.add(t.metric + t.tags());
            }
            List<String> expected = round == 0
                    ? List.of("alpha{\"host\":\"z\"}", "cpu{\"host\":\"a\"}", "cpu{\"host\":\"c\"}",
                            "cpu{\"host\":\"m\"}", "cpu{\"host\":\"q\"}", "cpu{\"host\":\"x\"}")
                    : List.of("alpha{\"host\":\"z\"}", "cpu{\"host\":\"a\"}", "cpu{\"host\":\"m\"}",
                            "cpu{\"host\":\"x\"}");
            assertEquals(expected, listed, "round " + round);
            out[1].storedEpoch = 3;
            out[5].storedEpoch = 3;
        }
    }

    @Test
    void belowTheBoundTextsAndWhatWasStoredAreKept() {
        SeriesTexts texts = new SeriesTexts(2000);
        List<Window> many = windows(1500);
        SeriesTexts.Text[] first = texts.of(many);
        first[0].storedEpoch = 0;
        SeriesTexts.Text[] second = texts.of(many);
        assertSame(first[7], second[7]);
        assertEquals(0, second[0].storedEpoch);
        assertEquals(1500, texts.instances());
    }

    @Test
    void aWriteThatFindsTheTableFullStartsItAfreshAndForgetsWhatWasStored() {
        SeriesTexts texts = new SeriesTexts(1000);
        List<Window> many = windows(1500);
        SeriesTexts.Text[] first = texts.of(many);
        assertEquals(1000, texts.instances(), "the series past the bound get texts that are not kept");
        assertEquals("{\"host\":\"h1400\"}", first[1400].tags());
        first[0].storedEpoch = 0;
        SeriesTexts.Text[] second = texts.of(many);
        assertNotSame(first[7], second[7]);
        assertEquals(Long.MIN_VALUE, second[0].storedEpoch);
        assertEquals(first[7].tags(), second[7].tags());
        assertEquals(1000, texts.instances());
        assertEquals(1, texts.fullResets());
    }

    @Test
    void aTableHoldingExactlyItsBoundOfSeriesKeepsThemAndFindsOtherInstancesByContent() {
        SeriesTexts texts = new SeriesTexts(1000);
        List<Window> many = windows(1000);
        SeriesTexts.Text[] first = texts.of(many);
        first[0].storedEpoch = 0;
        // The same series under other key instances, as replay or another event loop hands them over.
        SeriesTexts.Text[] again = texts.of(windows(1000));
        assertSame(first[7], again[7]);
        assertEquals(0, again[0].storedEpoch);
        assertSame(first[7], texts.of(many)[7]);
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

    @Test
    void clearForgetsWhatWasStored() {
        SeriesTexts texts = new SeriesTexts(100);
        SeriesKey a = key("a");
        textOf(texts, a).storedEpoch = 0;
        assertEquals(0, textOf(texts, a).storedEpoch);
        texts.clear();
        assertEquals(0, texts.instances());
        assertEquals(Long.MIN_VALUE, textOf(texts, a).storedEpoch);
    }

    private static List<Window> windows(int series) {
        List<Window> out = new ArrayList<>();
        for (int i = 0; i < series; i++) {
            out.add(window(key("h" + i)));
        }
        return out;
    }

    @Test
    void theSortOnPackedPrefixesGivesTheTextsOrderStably() {
        Random random = new Random(19);
        String[] metrics = {"cpu", "cpu.user", "Cpu", "mem", "é", "a"};
        String[] pieces = {"a", "b", "h1", "h10", "h2", "\"", "é", "\u2603", "\uffff", "\u0001", "", "zz", "\uD83D\uDE00",
                "\uE000", "\u00ff", "\u0100"};
        for (int round = 0; round < 300; round++) {
            int n = random.nextInt(400);
            String shared = round % 3 == 0 ? "" : "{\"host\":\"" + (round % 2 == 0 ? "node-" : "");
            int metricCount = 1 + random.nextInt(metrics.length);
            List<SeriesTexts.Text> texts = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                if (i > 0 && random.nextInt(10) == 0) {
                    // The same series under another text object (a text not kept), and the same object twice apart.
                    SeriesTexts.Text other = texts.get(random.nextInt(i));
                    texts.add(SeriesTexts.Text.of(other.metric, other.tags()));
                    continue;
                }
                StringBuilder tags = new StringBuilder(shared);
                int parts = random.nextInt(round % 4 == 0 ? 3 : 6);
                for (int p = 0; p < parts; p++) {
                    tags.append(pieces[random.nextInt(round % 5 == 0 ? 6 : pieces.length)]);
                }
                texts.add(SeriesTexts.Text.of(metrics[random.nextInt(metricCount)], tags.toString()));
            }
            List<SeriesTexts.Text> expected = new ArrayList<>(texts);
            expected.sort(SeriesTexts.ORDER);

            SeriesTexts.Text[] sorted = SeriesTexts.sorted(texts.toArray(new SeriesTexts.Text[0]));

            assertEquals(expected.size(), sorted.length);
            for (int i = 0; i < sorted.length; i++) {
                assertSame(expected.get(i), sorted[i], "round " + round + ", place " + i);
            }
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
        List<SeriesTexts.Text> texts = new ArrayList<>();
        for (String t : tags) {
            texts.add(SeriesTexts.Text.of("m", t));
        }
        texts.sort(SeriesTexts.ORDER);
        List<String> byCodePoints = new ArrayList<>(List.of(tags));
        byCodePoints.sort((x, y) -> Arrays.compare(x.codePoints().toArray(), y.codePoints().toArray()));
        List<String> sorted = new ArrayList<>();
        for (SeriesTexts.Text t : texts) {
            sorted.add(t.tags());
        }
        assertEquals(byCodePoints, sorted);
        assertEquals(List.of("{\"k\":\"\"}", "{\"k\":\"z\"}", "{\"k\":\"\u00e9\"}", "{\"k\":\"\u07ff\"}",
                "{\"k\":\"\u0800\"}", "{\"k\":\"\uE000\"}", "{\"k\":\"\uFFFF\"}", "{\"k\":\"\uD800\uDC00\"}",
                "{\"k\":\"\uD83D\uDE00\"}"), sorted);
        assertEquals(0, SeriesTexts.ORDER.compare(SeriesTexts.Text.of("m", tags[0]), SeriesTexts.Text.of("m", tags[0])));
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
        SeriesTexts.Text text = texts.of(List.of(window(key("a")), window(key)))[1];
        assertEquals(TagsJson.encode(key), text.tags());
        assertEquals(tags, TagsJson.decode(text.tags()));
    }

    /** Texts of many series span several slabs, a text longer than a slab takes one of its own, and each stays whole. */
    @Test
    void textsSpanningSlabsAndOneLongerThanASlabStayWhole() {
        SeriesTexts texts = new SeriesTexts(100_000);
        List<Window> windows = new ArrayList<>();
        List<String> hosts = new ArrayList<>();
        Random random = new Random(3);
        for (int i = 0; i < 60_000; i++) {
            String host = i == 30_000 ? "x".repeat(SeriesTexts.SLAB_BYTES + 5) : "h" + i + "-" + random.nextInt(1 << 20);
            hosts.add(host);
            windows.add(window(key(host)));
        }
        SeriesTexts.Text[] out = texts.of(windows);
        SeriesTexts.Text[] again = texts.of(windows);
        for (int i = 0; i < hosts.size(); i++) {
            assertEquals(TagsJson.encode(key(hosts.get(i))), out[i].tags(), "series " + i);
            assertSame(out[i], again[i]);
        }
    }

    @Test
    void aBoundBelowOneIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> new SeriesTexts(0));
    }
}
