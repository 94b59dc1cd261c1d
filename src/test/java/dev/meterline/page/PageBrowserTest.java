package dev.meterline.page;

import com.fasterxml.jackson.databind.JsonNode;
import dev.meterline.LineClient;
import dev.meterline.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The page in a real headless Chromium against real servers: the metric list, a chart with its legend, the errors a
 * person meets (unknown metric, a server that stops answering, a token asked for), at 1400×900 and on a phone-sized
 * screen, with nothing requested from another host and no script error. Screenshots go to target/page-screenshots.
 */
class PageBrowserTest {

    static final Path SHOTS = Path.of("target", "page-screenshots");
    private static final Duration WAIT = Duration.ofSeconds(20);
    private static final String METRIC = "checkout.latency";
    private static final String TOKEN = "page-test-token-0123456789abcdef";

    @TempDir
    static Path dir;
    private static TestServer server;
    private static TestServer secured;
    private static Chromium chromium;
    private Chromium.Tab tab;
    private boolean networkErrorsExpected;

    @BeforeAll
    static void start() throws Exception {
        // Windows of the last five minutes stay open, so the chart shows open and closed ones side by side.
        server = TestServer.start(dir.resolve("data"), Map.of("lateness", "5m"));
        sendPoints(server);
        Path tokens = dir.resolve("tokens");
        Files.writeString(tokens, TOKEN + "\n");
        secured = TestServer.start(dir.resolve("secured"), Map.of("auth-tokens-file", tokens.toString()));
        chromium = Chromium.start(dir.resolve("profile"));
    }

    /** Ten minutes of two series of one metric, one series of another, and one line refused for a bad value. */
    private static void sendPoints(TestServer s) throws Exception {
        long now = System.currentTimeMillis();
        StringBuilder lines = new StringBuilder();
        for (long t = now - Duration.ofMinutes(10).toMillis(); t <= now; t += 5000) {
            double phase = (t / 1000.0) / 60;
            lines.append(point(METRIC, 120 + 40 * Math.sin(phase), t, "a"));
            lines.append(point(METRIC, 180 + 25 * Math.cos(phase), t, "b"));
            lines.append("{\"metric\":\"queue.depth\",\"value\":").append(t % 97).append(",\"timestamp\":").append(t)
                    .append(",\"tags\":{\"queue\":\"orders\"}}\n");
        }
        lines.append("{\"metric\":\"queue.depth\",\"value\":\"many\"}\n");
        try (LineClient c = s.connect()) {
            JsonNode ack = c.send(lines.toString()).sync("loaded");
            assertEquals(1, ack.get("rejected").asInt(), ack.toString());
        }
    }

    private static String point(String metric, double value, long t, String host) {
        return "{\"metric\":\"" + metric + "\",\"value\":" + value + ",\"timestamp\":" + t
                + ",\"tags\":{\"host\":\"" + host + "\",\"region\":\"eu\"}}\n";
    }

    @AfterAll
    static void stop() throws Exception {
        if (chromium != null) {
            chromium.close();
        }
        if (secured != null) {
            secured.stop();
        }
        if (server != null) {
            server.stop();
        }
    }

    @AfterEach
    void closeTab(TestInfo info) throws Exception {
        if (tab == null) {
            return;
        }
        List<String> errors = tab.scriptErrors();
        List<String> network = tab.networkErrors();
        tab.close();
        assertEquals(List.of(), errors, "script or console errors in " + info.getDisplayName());
        if (!networkErrorsExpected) {
            assertEquals(List.of(), network, "failed loads in " + info.getDisplayName());
        }
    }

    private static String base(TestServer s) {
        return "http://127.0.0.1:" + s.pipeline().httpPort();
    }

    private void assertOnlyOwnHost(TestServer s) {
        List<String> foreign = new ArrayList<>();
        for (String url : tab.requests()) {
            if (!url.startsWith(base(s) + "/") && !url.startsWith("data:")) {
                foreign.add(url);
            }
        }
        assertTrue(tab.requests().size() > 3, "requests seen: " + tab.requests());
        assertEquals(List.of(), foreign, "requests to another host");
    }

    @Test
    void overviewListsTheMetricsTheRatesAndTheRejects() throws Exception {
        tab = chromium.open(1400, 900);
        tab.navigate(base(server) + "/");
        tab.waitFor("document.body.dataset.metrics === 'loaded'"
                + " && document.querySelector('#metrics tr[data-metric=\"" + METRIC + "\"]')"
                + " && document.body.dataset.stats === 'loaded'", WAIT);
        assertEquals("2", tab.eval("document.querySelector('#metrics tr[data-metric=\"" + METRIC + "\"] td:nth-child(2)')"
                + ".textContent").asText());
        assertEquals("?metric=" + METRIC, tab.eval("document.querySelector('#metrics tr[data-metric=\"" + METRIC
                + "\"] a').getAttribute('href')").asText());
        assertEquals("ready", tab.eval("document.getElementById('status-badge').textContent").asText());
        String tiles = tab.eval("document.getElementById('tiles').innerText").asText();
        assertTrue(tiles.contains("accepted") && tiles.contains("active series") && tiles.contains("3 / 1,000,000"),
                tiles);
        assertEquals("[\"1\"]", tab.eval("[...document.querySelectorAll('#rejects tbody tr')]"
                + ".map(r => r.cells[1].textContent)").toString(), "the refused line shows in the rejects table");
        assertTrue(tab.eval("document.getElementById('heaviest').innerText").asText().contains(METRIC));

        // The filter box narrows the list as one types.
        tab.focus("#metric-filter");
        tab.type("queue");
        tab.waitFor("!document.querySelector('#metrics tr[data-metric=\"" + METRIC + "\"]')"
                + " && document.querySelector('#metrics tr[data-metric=\"queue.depth\"]')", WAIT);
        tab.screenshot(SHOTS.resolve("overview-1400x900.png"));
        assertOnlyOwnHost(server);
    }

    @Test
    void chartOfOneMetricNamesEachSeriesInItsLegend() throws Exception {
        tab = chromium.open(1400, 900);
        tab.navigate(base(server) + "/?metric=" + METRIC + "&range=15m&stat=p99");
        tab.waitFor("document.body.dataset.chart === 'drawn'", WAIT);
        JsonNode legend = tab.eval("[...document.querySelectorAll('#chart .u-legend .u-series th .u-label')]"
                + ".map(e => e.textContent)");
        assertEquals("[\"time\",\"host=a, region=eu\",\"host=b, region=eu\"]", legend.toString());
        assertTrue(tab.eval("document.querySelector('#chart canvas').width").asInt() > 1000, "the chart fills the width");
        String info = tab.eval("document.getElementById('chart-info').textContent").asText();
        assertTrue(info.startsWith("2 series") && info.contains("open window"), info);
        assertEquals("p99", tab.eval("document.getElementById('stat').value").asText());
        assertTrue(tab.eval("document.getElementById('tag-keys').innerText").asText().contains("host"),
                "the metric's tag keys are ranked");
        tab.screenshot(SHOTS.resolve("chart-1400x900.png"));

        // The legend is reachable by keyboard: Enter on an entry hides its line.
        tab.focus("#chart .u-legend .u-series:nth-child(2)");
        tab.press("Enter", "Enter", 13);
        tab.waitFor("document.querySelector('#chart .u-legend .u-series:nth-child(2)').classList.contains('u-off')",
                WAIT);
        // Redrawn for another value, the hidden line stays hidden and the focus stays on its entry.
        String draws = tab.eval("document.body.dataset.draws").asText();
        tab.eval("const s = document.getElementById('stat'); s.value = 'max'; s.dispatchEvent(new Event('change'))");
        tab.waitFor("document.body.dataset.draws !== '" + draws + "'", WAIT);
        assertTrue(tab.eval("location.search.includes('stat=max')").asBoolean());
        assertTrue(tab.eval("document.querySelector('#chart .u-legend .u-series:nth-child(2)').classList"
                + ".contains('u-off')").asBoolean(), "the hidden line stays hidden");
        assertTrue(tab.eval("document.activeElement === document.querySelector('#chart .u-legend .u-series:nth-child(2)')")
                .asBoolean(), "the focus stays on the legend entry");
        assertOnlyOwnHost(server);
    }

    @Test
    void chartGroupedByATagHasOneLinePerValue() throws Exception {
        tab = chromium.open(1400, 900);
        tab.navigate(base(server) + "/?metric=" + METRIC + "&range=6h&stat=count&groupBy=region");
        tab.waitFor("document.body.dataset.chart === 'drawn'", WAIT);
        // Six hours on 1400 pixels: 2 min steps, each merged by the server from twelve 10 s windows, every point counted.
        String info = tab.eval("document.getElementById('chart-info').textContent").asText();
        assertTrue(info.startsWith("1 group, ") && info.contains(" windows of 2m (each merged from 12 windows of 10s"),
                info);
        assertEquals("242", tab.eval("document.querySelector('#series-table tbody tr td:nth-child(3)').textContent")
                .asText(), "two series of 121 points, grouped");
        JsonNode legend = tab.eval("[...document.querySelectorAll('#chart .u-legend .u-series th .u-label')]"
                + ".map(e => e.textContent)");
        assertEquals("[\"time\",\"region=eu\"]", legend.toString());
        assertEquals("region", tab.eval("document.getElementById('group-by').value").asText());
        // A tag filter from the controls lands in the address, so the view can be shared.
        tab.eval("document.getElementById('group-by').value = ''; document.getElementById('filter-key').value = 'host';"
                + " document.getElementById('filter-value').value = 'b'; document.getElementById('filter-add').click()");
        tab.waitFor("document.body.dataset.chart === 'drawn' && location.search.includes('tag=host%3Ab')"
                + " && document.querySelectorAll('#chart .u-legend .u-series').length === 2"
                + " && document.querySelector('#chart .u-legend .u-series:nth-child(2) .u-label').textContent"
                + " === 'host=b, region=eu'", WAIT);
        assertOnlyOwnHost(server);
    }

    @Test
    void aCustomRangeFromTheAddressIsDrawnAndShown() throws Exception {
        long to = (System.currentTimeMillis() / 10_000) * 10_000 - 60_000;
        long from = to - 4 * 60_000;
        tab = chromium.open(1400, 900);
        tab.navigate(base(server) + "/?metric=" + METRIC + "&range=custom&from=" + from + "&to=" + to + "&stat=count");
        tab.waitFor("document.body.dataset.chart === 'drawn'", WAIT);
        assertEquals("custom", tab.eval("document.getElementById('range').value").asText());
        assertFalse(tab.eval("document.getElementById('from').closest('.control').hidden").asBoolean());
        assertEquals(from, tab.eval("Date.parse(document.getElementById('from').value)").asLong());
        String info = tab.eval("document.getElementById('chart-info').textContent").asText();
        assertTrue(info.startsWith("2 series, 24 windows of 10s"), info);
        // Two points a window, five seconds apart.
        assertEquals("48", tab.eval("document.querySelector('#series-table tbody tr td:nth-child(3)').textContent")
                .asText());
    }

    @Test
    void anUnknownMetricIsSaidSo() throws Exception {
        tab = chromium.open(1400, 900);
        tab.navigate(base(server) + "/?metric=no.such.metric");
        tab.waitFor("document.body.dataset.chart === 'unknown'", WAIT);
        String alert = tab.eval("document.getElementById('alerts').innerText").asText();
        assertTrue(alert.contains("Unknown metric \"no.such.metric\""), alert);
        tab.screenshot(SHOTS.resolve("unknown-metric.png"));
    }

    @Test
    void narrowScreenHasNoSidewaysScroll() throws Exception {
        tab = chromium.open(390, 844);
        tab.navigate(base(server) + "/");
        tab.waitFor("document.body.dataset.metrics === 'loaded' && document.body.dataset.stats === 'loaded'", WAIT);
        assertTrue(tab.eval("document.documentElement.scrollWidth <= window.innerWidth").asBoolean(),
                "page wider than the screen: " + tab.eval("document.documentElement.scrollWidth"));
        tab.screenshot(SHOTS.resolve("overview-390x844.png"));
        tab.navigate(base(server) + "/?metric=" + METRIC + "&range=15m");
        tab.waitFor("document.body.dataset.chart === 'drawn'", WAIT);
        assertTrue(tab.eval("document.documentElement.scrollWidth <= window.innerWidth").asBoolean(),
                "chart page wider than the screen: " + tab.eval("document.documentElement.scrollWidth"));
        tab.screenshot(SHOTS.resolve("chart-390x844.png"));
    }

    @Test
    void aServerThatStopsAnsweringIsShown(@TempDir Path data) throws Exception {
        TestServer doomed = TestServer.start(data, Map.of());
        try {
            tab = chromium.open(1400, 900);
            tab.navigate(base(doomed) + "/");
            tab.waitFor("document.body.dataset.stats === 'loaded'", WAIT);
            networkErrorsExpected = true; // the failed requests are logged by the browser as failed loads
            doomed.stop();
            // A stopped pipeline leaves the browser's kept-alive connection open (the process would exit and
            // close it); going offline cuts it, so every request fails as it would against a dead process.
            tab.offline();
            tab.waitFor("document.body.dataset.health === 'unreachable'", WAIT);
            String alert = tab.eval("document.getElementById('alerts').innerText").asText();
            assertTrue(alert.contains("Meterline is not answering"), alert);
            assertEquals("not answering", tab.eval("document.getElementById('status-badge').textContent").asText());
            assertTrue(tab.eval("document.getElementById('tiles').classList.contains('stale')").asBoolean(),
                    "the last figures are shown as stale");
            tab.screenshot(SHOTS.resolve("not-answering.png"));
        } finally {
            doomed.stop();
        }
    }

    @Test
    void withAuthenticationThePageAsksForATokenAndSendsItAsBearer() throws Exception {
        tab = chromium.open(1400, 900);
        networkErrorsExpected = true; // the 401 answers before the token is given are logged as failed loads
        tab.navigate(base(secured) + "/");
        tab.waitFor("document.body.dataset.auth === 'needed' && !document.getElementById('token-form').hidden", WAIT);
        assertEquals("token-input", tab.eval("document.activeElement.id").asText(), "the token field has the focus");
        assertFalse(tab.eval("document.body.dataset.metrics === 'loaded'").asBoolean());
        tab.screenshot(SHOTS.resolve("token-prompt.png"));

        tab.type(TOKEN);
        tab.press("Enter", "Enter", 13);
        tab.waitFor("document.body.dataset.metrics === 'loaded' && document.body.dataset.stats === 'loaded'"
                + " && document.getElementById('token-form').hidden", WAIT);
        assertEquals(TOKEN, tab.eval("sessionStorage.getItem('meterline.token')").asText());
        assertEquals(0, tab.eval("localStorage.length").asInt(), "the token is kept for the session only");
        boolean sent = tab.requestHeaders().stream()
                .anyMatch(h -> ("Bearer " + TOKEN).equals(h.path("Authorization").asText()));
        assertTrue(sent, "a request carried the bearer token");
        assertOnlyOwnHost(secured);
    }
}
