package dev.meterline.aggregate;

import dev.meterline.model.SeriesKey;
import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class QueryViewTest {

    private static QueryView view(Map<String, List<String>> tags, NamedFilter filter) {
        return new QueryView(QueryView.keyOf("cpu", tags, filter), filter, 2, 0L);
    }

    private static SeriesKey series(String host, String region) {
        Map<String, String> tags = new LinkedHashMap<>();
        if (host != null) {
            tags.put("host", host);
        }
        if (region != null) {
            tags.put("region", region);
        }
        return SeriesKey.of("cpu", tags);
    }

    @Test
    void aSeriesMatchesWhenEachFilteredKeyHasOneOfItsValuesAndTheNamedFilterPasses() {
        Map<String, List<String>> tags = new LinkedHashMap<>();
        tags.put("host", List.of("h1", "h2"));
        tags.put("region", List.of("eu"));
        QueryView v = view(tags, null);
        assertTrue(v.matches(series("h2", "eu")));
        assertFalse(v.matches(series("h3", "eu")), "a value not listed");
        assertFalse(v.matches(series("h1", "us")), "the second key's value not listed");
        assertFalse(v.matches(series("h1", null)), "a filtered key the series lacks");

        QueryView named = view(Map.of("host", List.of("h1")), new NamedFilter("eu", s -> s.hasTag("region", "eu")));
        assertTrue(named.matches(series("h1", "eu")));
        assertFalse(named.matches(series("h1", "us")), "the named filter refuses");
        assertFalse(named.matches(series("h2", "eu")), "the tags refuse before the named filter");

        QueryView any = view(Map.of(), null);
        assertTrue(any.matches(series(null, null)), "no tag filter");
    }

    @Test
    void matchingAgreesWithTheFiltersOfAViewsFirstQuery() {
        Map<String, List<String>> tags = new LinkedHashMap<>();
        tags.put("region", List.of("us", "eu"));
        tags.put("host", List.of("h3"));
        QueryView v = view(tags, null);
        for (String host : new String[] {"h3", "h4", null}) {
            for (String region : new String[] {"eu", "us", "ap", null}) {
                SeriesKey s = series(host, region);
                assertEquals(QueryViews.passes(tags, s), v.matches(s), host + " " + region);
            }
        }
    }

    /** A shard tests every point of a watched metric whose series it has not published: no garbage per point. */
    @Test
    void matchingAllocatesNothing() {
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        QueryView v = view(Map.of("host", List.of("h1")), null);
        SeriesKey other = series("h2", "eu");
        SeriesKey matching = series("h1", "eu");
        int matched = 0;
        for (int i = 0; i < 100; i++) {
            matched += v.matches(i % 2 == 0 ? other : matching) ? 1 : 0;
        }
        long before = threads.getCurrentThreadAllocatedBytes();
        for (int i = 0; i < 10_000; i++) {
            matched += v.matches(i % 2 == 0 ? other : matching) ? 1 : 0;
        }
        long allocated = threads.getCurrentThreadAllocatedBytes() - before;
        assertEquals(5_050, matched);
        assertTrue(allocated < 10_000, "allocated " + allocated + " bytes for 10 000 tests (expected: none per test)");
    }
}
