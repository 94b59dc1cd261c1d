package dev.meterline.page;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;

/**
 * A headless Chromium (Debian's {@code chromium}) driven over the DevTools protocol through the JDK's own WebSocket
 * client: no driver binary, no extra library, and every event the page causes (requests, console, exceptions) seen.
 */
final class Chromium implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(30);
    private static final List<String> BINARIES = List.of("/usr/bin/chromium", "/usr/bin/chromium-browser");

    private final Process process;
    private final StringBuffer output = new StringBuffer();
    private final WebSocket socket;
    private final AtomicLong ids = new AtomicLong();
    private final Map<Long, CompletableFuture<JsonNode>> replies = new ConcurrentHashMap<>();
    private final List<Waiter> waiters = new CopyOnWriteArrayList<>();
    private final Map<String, Tab> tabs = new ConcurrentHashMap<>();

    private Chromium(Process process, String endpoint) throws Exception {
        this.process = process;
        this.socket = HttpClient.newHttpClient().newWebSocketBuilder()
                .buildAsync(URI.create(endpoint), new Listener()).get(30, TimeUnit.SECONDS);
    }

    /** Starts the browser with a fresh profile in {@code profile}; fails, saying how to install it, when it is absent. */
    static Chromium start(Path profile) throws Exception {
        String binary = BINARIES.stream().filter(b -> Files.isExecutable(Path.of(b))).findFirst()
                .orElseThrow(() -> new IllegalStateException("chromium not found at " + BINARIES
                        + ": install Debian's package (apt-get install -y chromium); .ci/run does"));
        Files.createDirectories(profile);
        Process p = new ProcessBuilder(binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-extensions", "--disable-default-apps", "--mute-audio", "--hide-scrollbars",
                "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0",
                "--user-data-dir=" + profile, "about:blank")
                .redirectErrorStream(true).start();
        // Chromium names its DevTools endpoint on stderr once it listens (it also writes DevToolsActivePort into the
        // profile); the line is the event waited for, and the rest of the output is kept for failure messages.
        CompletableFuture<String> endpoint = new CompletableFuture<>();
        StringBuffer out = new StringBuffer();
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    out.append(line).append('\n');
                    int at = line.indexOf("ws://");
                    if (line.startsWith("DevTools listening on ") && at >= 0) {
                        endpoint.complete(line.substring(at).trim());
                    }
                }
            } catch (IOException e) {
                endpoint.completeExceptionally(e);
            }
            endpoint.completeExceptionally(new IllegalStateException("chromium exited before listening:\n" + out));
        }, "chromium-output");
        reader.setDaemon(true);
        reader.start();
        String ws;
        try {
            ws = endpoint.get(60, TimeUnit.SECONDS);
        } catch (Exception e) {
            p.descendants().forEach(ProcessHandle::destroy);
            p.destroyForcibly();
            throw new IllegalStateException("chromium did not open its DevTools endpoint:\n" + out, e);
        }
        Chromium c = new Chromium(p, ws);
        c.output.append(out);
        return c;
    }

    /** Opens a new tab of {@code width} × {@code height} CSS pixels, with its network, console and errors watched. */
    Tab open(int width, int height) throws Exception {
        String target = command(null, "Target.createTarget", obj().put("url", "about:blank")).get("targetId").asText();
        String session = command(null, "Target.attachToTarget", obj().put("targetId", target).put("flatten", true))
                .get("sessionId").asText();
        Tab tab = new Tab(target, session);
        tabs.put(session, tab);
        for (String domain : List.of("Page", "Runtime", "Log", "Network")) {
            command(session, domain + ".enable", obj());
        }
        tab.resize(width, height);
        return tab;
    }

    private JsonNode command(String session, String method, ObjectNode params) throws Exception {
        long id = ids.incrementAndGet();
        ObjectNode msg = obj().put("id", id).put("method", method);
        msg.set("params", params);
        if (session != null) {
            msg.put("sessionId", session);
        }
        CompletableFuture<JsonNode> reply = new CompletableFuture<>();
        replies.put(id, reply);
        socket.sendText(JSON.writeValueAsString(msg), true).get(COMMAND_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        JsonNode r = reply.get(COMMAND_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        if (r.has("error")) {
            throw new IllegalStateException(method + " failed: " + r.get("error"));
        }
        return r.get("result");
    }

    private CompletableFuture<JsonNode> next(String session, String method, Predicate<JsonNode> when) {
        Waiter w = new Waiter(session, method, when, new CompletableFuture<>());
        waiters.add(w);
        return w.future();
    }

    private void dispatch(JsonNode msg) {
        if (msg.has("id")) {
            CompletableFuture<JsonNode> r = replies.remove(msg.get("id").asLong());
            if (r != null) {
                r.complete(msg);
            }
            return;
        }
        String session = msg.path("sessionId").asText(null);
        String method = msg.path("method").asText();
        JsonNode params = msg.path("params");
        Tab tab = session == null ? null : tabs.get(session);
        if (tab != null) {
            tab.record(method, params);
        }
        for (Waiter w : waiters) {
            if (w.method().equals(method) && (w.session() == null || w.session().equals(session))
                    && w.when().test(params)) {
                waiters.remove(w);
                w.future().complete(params);
            }
        }
    }

    private static ObjectNode obj() {
        return JSON.createObjectNode();
    }

    @Override
    public void close() throws Exception {
        try {
            socket.sendClose(WebSocket.NORMAL_CLOSURE, "").get(5, TimeUnit.SECONDS);
        } catch (Exception ignored) {
            // the process is ended below either way
        }
        List<ProcessHandle> children = new ArrayList<>(process.descendants().toList());
        process.destroy();
        children.forEach(ProcessHandle::destroy);
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            children.forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }

    private record Waiter(String session, String method, Predicate<JsonNode> when, CompletableFuture<JsonNode> future) {
    }

    private final class Listener implements WebSocket.Listener {
        private final StringBuilder text = new StringBuilder();

        @Override
        public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
            text.append(data);
            if (last) {
                String message = text.toString();
                text.setLength(0);
                try {
                    dispatch(JSON.readTree(message));
                } catch (IOException e) {
                    output.append("unreadable DevTools message: ").append(e).append('\n');
                }
            }
            ws.request(1);
            return null;
        }
    }

    /** One page: navigation, script evaluation, waiting on the DOM, screenshots, and what the page logged. */
    final class Tab {
        private final String target;
        private final String session;
        private final List<String> requests = new CopyOnWriteArrayList<>();
        private final List<JsonNode> requestHeaders = new CopyOnWriteArrayList<>();
        private final List<String> exceptions = new CopyOnWriteArrayList<>();
        private final List<String> consoleErrors = new CopyOnWriteArrayList<>();
        private final List<String> networkErrors = new CopyOnWriteArrayList<>();

        private Tab(String target, String session) {
            this.target = target;
            this.session = session;
        }

        private void record(String method, JsonNode p) {
            switch (method) {
                case "Network.requestWillBeSent" -> {
                    requests.add(p.path("request").path("url").asText());
                    requestHeaders.add(p.path("request").path("headers"));
                }
                case "Runtime.exceptionThrown" -> exceptions.add(p.path("exceptionDetails").toString());
                case "Runtime.consoleAPICalled" -> {
                    String type = p.path("type").asText();
                    if (type.equals("error") || type.equals("assert") || type.equals("warning")) {
                        consoleErrors.add(type + ": " + p.path("args"));
                    }
                }
                case "Log.entryAdded" -> {
                    JsonNode e = p.path("entry");
                    if (e.path("level").asText().equals("error") || e.path("level").asText().equals("warning")) {
                        String line = e.path("source").asText() + ": " + e.path("text").asText() + " "
                                + e.path("url").asText("");
                        if (e.path("source").asText().equals("network")) {
                            networkErrors.add(line);
                        } else {
                            consoleErrors.add(line);
                        }
                    }
                }
                default -> { }
            }
        }

        void resize(int width, int height) throws Exception {
            command(session, "Emulation.setDeviceMetricsOverride", obj().put("width", width).put("height", height)
                    .put("deviceScaleFactor", 1).put("mobile", width < 600));
        }

        /** Loads {@code url} and returns once its load event fired. */
        void navigate(String url) throws Exception {
            CompletableFuture<JsonNode> loaded = next(session, "Page.loadEventFired", p -> true);
            JsonNode r = command(session, "Page.navigate", obj().put("url", url));
            if (r.hasNonNull("errorText")) {
                throw new IllegalStateException("navigation to " + url + " failed: " + r.get("errorText"));
            }
            loaded.get(COMMAND_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        }

        /** The value of a script expression (awaited when it is a promise). */
        JsonNode eval(String expression) throws Exception {
            JsonNode r = command(session, "Runtime.evaluate", obj().put("expression", expression)
                    .put("returnByValue", true).put("awaitPromise", true));
            if (r.has("exceptionDetails")) {
                throw new AssertionError("script failed: " + expression + "\n" + r.get("exceptionDetails")
                        + "\nexceptions: " + exceptions + "\nconsole: " + consoleErrors + "\nrequests: " + requests);
            }
            return r.path("result").path("value");
        }

        /**
         * Returns once {@code condition} (a script expression) holds, watching the DOM for changes; fails after
         * {@code timeout}, naming the condition.
         */
        void waitFor(String condition, Duration timeout) throws Exception {
            String quoted = JSON.writeValueAsString(condition);
            eval("new Promise((resolve, reject) => {"
                    + " const check = () => { try { return !!(" + condition + "); } catch (e) { return false; } };"
                    + " if (check()) { resolve(true); return; }"
                    + " let timer;"
                    + " const seen = new MutationObserver(() => { if (check()) { seen.disconnect(); clearTimeout(timer);"
                    + " resolve(true); } });"
                    + " seen.observe(document, { subtree: true, childList: true, attributes: true, characterData: true });"
                    + " timer = setTimeout(() => { seen.disconnect(); reject(new Error('timed out waiting for '"
                    + " + " + quoted + " + '; body: ' + document.body.outerHTML.slice(0, 3000))); }, "
                    + timeout.toMillis() + ");"
                    + "})");
        }

        /** Focuses the element matched by {@code selector}. */
        void focus(String selector) throws Exception {
            eval("document.querySelector(" + JSON.writeValueAsString(selector) + ").focus()");
        }

        /** Types text into the focused element, as a keyboard would. */
        void type(String text) throws Exception {
            command(session, "Input.insertText", obj().put("text", text));
        }

        /** Presses and releases a key such as Enter, Tab or " " on the focused element. */
        void press(String key, String code, int keyCode) throws Exception {
            for (String type : List.of("keyDown", "keyUp")) {
                ObjectNode p = obj().put("type", type).put("key", key).put("code", code)
                        .put("windowsVirtualKeyCode", keyCode);
                if (type.equals("keyDown") && (key.length() == 1 || key.equals("Enter"))) {
                    p.put("text", key.equals("Enter") ? "\r" : key);
                }
                command(session, "Input.dispatchKeyEvent", p);
            }
        }

        /** Cuts the tab off the network: every request fails from now on. */
        void offline() throws Exception {
            command(session, "Network.emulateNetworkConditions", obj().put("offline", true).put("latency", 0)
                    .put("downloadThroughput", -1).put("uploadThroughput", -1));
        }

        void screenshot(Path file) throws Exception {
            JsonNode r = command(session, "Page.captureScreenshot", obj().put("format", "png"));
            Files.createDirectories(file.getParent());
            Files.write(file, Base64.getDecoder().decode(r.get("data").asText()));
        }

        List<String> requests() {
            return List.copyOf(requests);
        }

        List<JsonNode> requestHeaders() {
            return List.copyOf(requestHeaders);
        }

        /** Uncaught exceptions and console errors or warnings (network failures apart). */
        List<String> scriptErrors() {
            List<String> all = new ArrayList<>(exceptions);
            all.addAll(consoleErrors);
            return all;
        }

        /** Failed loads the browser logged (a 401, a refused connection). */
        List<String> networkErrors() {
            return List.copyOf(networkErrors);
        }

        void close() throws Exception {
            command(null, "Target.closeTarget", obj().put("targetId", target));
            tabs.remove(session);
        }
    }
}
