package dev.meterline.model;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;

class PrometheusNamesTest {

    @Test
    void baseNamesFollowTheCharacterRule() {
        assertEquals("cpu_usage", PrometheusNames.baseName("cpu.usage"));
        assertEquals("http_requests:rate5m", PrometheusNames.baseName("http_requests:rate5m"));
        assertEquals("_9lives", PrometheusNames.baseName("9lives"));
        assertEquals("a_b_c_d1", PrometheusNames.baseName("a-b c/d1"));
        assertEquals("caf_", PrometheusNames.baseName("café"));
        assertEquals("emoji_", PrometheusNames.baseName("emoji\uD83D\uDE00"));
        assertEquals("cpu_usage_count", PrometheusNames.Stat.COUNT.sampleName("cpu_usage"));
        assertEquals("cpu_usage_last", PrometheusNames.Stat.LAST.sampleName("cpu_usage"));
    }

    @Test
    void labelNamesHaveNoColon() {
        assertEquals("k8s_pod", PrometheusNames.labelName("k8s:pod"));
        assertEquals("_1st", PrometheusNames.labelName("1st"));
        assertEquals("host", PrometheusNames.labelName("host"));
    }

    @Test
    void collidingTagKeysAreToldApartNotMixed() {
        SeriesKey key = SeriesKey.of("m", Map.of("host.name", "a", "host_name", "b", "host-name", "c"));
        // Key order: "host-name" < "host.name" < "host_name".
        assertEquals(Map.of("host_name", "c", "host_name_2", "a", "host_name_3", "b"),
                PrometheusNames.labels(key, false));
    }

    @Test
    void reservedLabelNamesArePrefixed() {
        SeriesKey key = SeriesKey.of("m", Map.of("quantile", "x", "__name__", "y", "le", "z", "meterline_metric", "w"));
        assertEquals(Map.of("tag_quantile", "x", "tag___name__", "y", "tag_le", "z", "tag_meterline_metric", "w"),
                PrometheusNames.labels(key, false));
    }

    @Test
    void collidingMetricsCarryTheirOwnName() {
        assertEquals(Set.of("cpu.usage", "cpu_usage"),
                PrometheusNames.colliding(List.of("cpu.usage", "cpu_usage", "mem.used", "disk")));
        assertEquals(Set.of(), PrometheusNames.colliding(List.of("cpu.usage", "mem.used", "cpu.usage")));
        SeriesKey key = SeriesKey.of("cpu.usage", Map.of("host", "a"));
        assertEquals(Map.of("host", "a", "meterline_metric", "cpu.usage"), PrometheusNames.labels(key, true));
    }
}
