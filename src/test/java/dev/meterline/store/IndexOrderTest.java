package dev.meterline.store;

import dev.meterline.model.Aggregate;
import dev.meterline.model.SeriesKey;
import dev.meterline.model.Window;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/**
 * A write's insert order: the unique key's (metric, resolution, start, tag text), stable, the same whether sorted on
 * kept ranks or by comparing texts, and across writes that reuse, extend or drop series.
 */
class IndexOrderTest {

    private static final String[] METRICS = {"mem", "cpu", "cpu.user", "Cpu", "disk", "é"};
    private static final String[] HOSTS = {"a", "b", "h1", "h10", "h2", "A", "a\"b", "z", "é", ""};

    /** The expected order, by the texts' content alone: a stable sort of the indexes. */
    private static int[] expected(List<Window> windows) {
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < windows.size(); i++) {
            order.add(i);
        }
        order.sort(Comparator.<Integer, String>comparing(i -> windows.get(i).series().metric())
                .thenComparingLong(i -> windows.get(i).resolution())
                .thenComparingLong(i -> windows.get(i).start())
                .thenComparing(i -> TagsJson.encode(windows.get(i).series())));
        return order.stream().mapToInt(Integer::intValue).toArray();
    }

    private static List<Window> write(Random random, int size, int metrics, int hosts) {
        List<Window> windows = new ArrayList<>();
        for (int i = 0; i < size; i++) {
            // A fresh key instance for every window, as each event loop hands out its own.
            SeriesKey key = SeriesKey.of(METRICS[random.nextInt(metrics)],
                    Map.of("host", HOSTS[random.nextInt(hosts)], "dc", "d" + random.nextInt(3)));
            long resolution = random.nextInt(4) == 0 ? 60_000 : 10_000;
            long start = resolution * (170_000_000L + random.nextInt(5));
            windows.add(new Window(key, start, resolution, new Aggregate(), true, 1 + random.nextInt(3)));
        }
        return windows;
    }

    @Test
    void ranksAndTextComparesGiveTheKeysOrderStably() {
        Random random = new Random(11);
        for (int round = 0; round < 200; round++) {
            SeriesTexts kept = new SeriesTexts(1_000);
            List<Window> windows = write(random, 1 + random.nextInt(300), METRICS.length, HOSTS.length);
            WindowTexts texts = kept.of(windows);

            int[] expected = expected(windows);
            assertArrayEquals(expected, IndexOrder.of(windows, texts));
            assertArrayEquals(expected, IndexOrder.sorted(windows, texts));
        }
    }

    @Test
    void windowsAlreadyInTheKeysOrderKeepItAndAnyPairOutOfOrderIsSorted() {
        Random random = new Random(23);
        for (int round = 0; round < 200; round++) {
            SeriesTexts kept = new SeriesTexts(1_000);
            List<Window> shuffled = write(random, 2 + random.nextInt(300), METRICS.length, HOSTS.length);
            List<Window> windows = new ArrayList<>();
            for (int i : expected(shuffled)) {
                windows.add(shuffled.get(i));
            }
            WindowTexts texts = kept.of(windows);
            int[] identity = new int[windows.size()];
            for (int i = 0; i < identity.length; i++) {
                identity[i] = i;
            }
            assertArrayEquals(identity, IndexOrder.of(windows, texts), "round " + round);

            // Two windows swapped: sorted as any write (equal keys keep their order, so the expectation is stable).
            int a = random.nextInt(windows.size());
            int b = random.nextInt(windows.size());
            Window w = windows.get(a);
            windows.set(a, windows.get(b));
            windows.set(b, w);
            assertArrayEquals(expected(windows), IndexOrder.of(windows, kept.of(windows)), "round " + round);
        }
    }

    @Test
    void keptRanksStayRightAcrossWritesThatRepeatAddOrDropSeries() {
        Random random = new Random(5);
        SeriesTexts kept = new SeriesTexts(1_000_000);
        for (int round = 0; round < 300; round++) {
            // Few metrics and hosts at first, then more: later writes bring series that sort between kept ones.
            int metrics = Math.min(METRICS.length, 1 + round / 40);
            int hosts = Math.min(HOSTS.length, 2 + round / 30);
            List<Window> windows = write(random, 1 + random.nextInt(200), metrics, hosts);
            WindowTexts texts = kept.of(windows);

            assertArrayEquals(expected(windows), IndexOrder.of(windows, texts), "write " + round);
        }
    }

    @Test
    void byIdsPutsEachStartsWindowsInSeriesIdOrderStably() {
        Random random = new Random(17);
        for (int round = 0; round < 300; round++) {
            SeriesTexts kept = new SeriesTexts(1_000);
            List<Window> windows = write(random, 1 + random.nextInt(300), METRICS.length, HOSTS.length);
            WindowTexts texts = kept.of(windows);
            int[] order = IndexOrder.of(windows, texts);
            // Ids in the texts' order (stored together), at random (stored over time), or far apart (the long sort).
            int kind = round % 3;
            SeriesColumns columns = texts.columns();
            List<Integer> distinct = new ArrayList<>();
            Set<Long> taken = new HashSet<>();
            for (int i = 0; i < texts.size(); i++) {
                if (!distinct.contains(texts.number(i))) {
                    distinct.add(texts.number(i));
                }
            }
            distinct.sort(columns::compare);
            long[] ids = new long[distinct.size()];
            for (int d = 0; d < distinct.size(); d++) {
                long id = kind == 0 ? d + 1 : kind == 1 ? 1 + random.nextInt(1_000_000) : 1 + (random.nextLong() >>> 1);
                while (!taken.add(id)) {
                    id++;
                }
                ids[d] = id;
            }
            columns.ids(distinct.stream().mapToInt(Integer::intValue).toArray(), ids, ids.length);
            texts.readIds();
            int[] byText = order.clone();

            IndexOrder.byIds(windows, texts, order);
            int[] metricRank = new int[texts.size()];
            texts.rank(new int[texts.size()], metricRank);
            int[] inOneSort = IndexOrder.ofIds(windows, texts, metricRank);
            // Ids far apart may not fit the packed sort: then there is no order (the caller sorts twice).
            if (kind != 2 || inOneSort != null) {
                assertArrayEquals(order, inOneSort, "one sort by ids, round " + round);
            }

            List<Integer> expected = new ArrayList<>();
            for (int i = 0; i < windows.size(); i++) {
                expected.add(i);
            }
            expected.sort(Comparator.<Integer, String>comparing(i -> windows.get(i).series().metric())
                    .thenComparingLong(i -> windows.get(i).resolution())
                    .thenComparingLong(i -> windows.get(i).start())
                    .thenComparingLong(texts::id));
            assertArrayEquals(expected.stream().mapToInt(Integer::intValue).toArray(), order, "round " + round);
            if (kind == 0) {
                assertArrayEquals(byText, order, "ids in the texts' order leave the order as it was");
            }
        }
    }

    @Test
    void aWriteWithNoWindowsHasAnEmptyOrder() {
        WindowTexts none = new SeriesTexts(10).of(List.of());
        assertArrayEquals(new int[0], IndexOrder.of(List.of(), none));
        assertArrayEquals(new int[0], IndexOrder.ofIds(List.of(), none, new int[0]));
        assertArrayEquals(new int[0], IndexOrder.identity(0));
    }
}
