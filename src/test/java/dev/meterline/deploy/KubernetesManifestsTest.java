package dev.meterline.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.meterline.config.Config;
import dev.meterline.config.Durations;
import dev.meterline.config.Setting;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Checks the Dockerfile and k8s/ against each other and against the settings the code defines. */
final class KubernetesManifestsTest {

    private static final Path ROOT = Path.of(System.getProperty("basedir", ".")).toAbsolutePath().normalize();
    private static final Path K8S = ROOT.resolve("k8s");
    private static final String EMBEDDED = "overlays/embedded";
    private static final String POSTGRES = "overlays/postgres";
    /** `kubectl apply -k k8s/` and the two variants. */
    private static final List<String> VARIANTS = List.of(".", EMBEDDED, POSTGRES);

    /** Settings whose default is the CPU count, so a manifest has to name a number. */
    private static final Set<String> CPU_DEPENDENT = Set.of("io-threads", "workers", "shards");
    /** Defaults the container changes on purpose, in every variant. */
    private static final Map<String, String> CONTAINER_OVERRIDES = Map.of("data-dir", "/data");
    /** Settings the postgres variant sets; each is checked for its own shape below. */
    private static final Set<String> POSTGRES_OVERRIDES = Set.of("storage-url", "storage-user", "storage-password-file");

    private static final int RUN_AS = 10001;

    // ---- files ----------------------------------------------------------------------------------------------

    @Test
    void everyYamlFileParsesAndNamesItsKind() throws IOException {
        List<Path> files = yamlFiles();
        assertFalse(files.isEmpty(), "no YAML under " + K8S);
        for (Path f : files) {
            List<JsonNode> docs = Kustomize.readAll(f);
            assertFalse(docs.isEmpty(), f + ": no document");
            for (JsonNode doc : docs) {
                assertTrue(doc.isObject(), f + ": a document is not a mapping");
                assertFalse(doc.path("apiVersion").asText().isEmpty(), f + ": apiVersion missing");
                assertFalse(doc.path("kind").asText().isEmpty(), f + ": kind missing");
                if (!f.getFileName().toString().equals("kustomization.yaml")) {
                    assertFalse(Kustomize.name(doc).isEmpty(), f + ": metadata.name missing");
                }
            }
        }
    }

    @Test
    void everyKustomizationPathExists() throws IOException {
        List<Path> kustomizations = yamlFiles().stream()
                .filter(f -> f.getFileName().toString().equals("kustomization.yaml"))
                .toList();
        assertTrue(kustomizations.size() >= 4, "expected k8s/, base and two overlays, got " + kustomizations);
        for (Path k : kustomizations) {
            JsonNode doc = Kustomize.readAll(k).get(0);
            List<String> paths = new ArrayList<>();
            doc.path("resources").forEach(r -> paths.add(r.asText()));
            doc.path("patches").forEach(p -> paths.add(p.path("path").asText()));
            doc.path("patchesStrategicMerge").forEach(p -> paths.add(p.asText()));
            for (String p : paths) {
                Path resolved = k.getParent().resolve(p).normalize();
                assertTrue(Files.isRegularFile(resolved)
                                || Files.isRegularFile(Kustomize.kustomizationOf(resolved)),
                        k + ": '" + p + "' is neither a file nor a directory with a kustomization.yaml");
            }
        }
    }

    @Test
    void defaultVariantIsTheEmbeddedOne() {
        assertEquals(normalize(Kustomize.render(K8S.resolve(EMBEDDED))), normalize(Kustomize.render(K8S)));
    }

    @ParameterizedTest
    @ValueSource(strings = {".", EMBEDDED, POSTGRES})
    void kubectlKustomizeRendersAndAgreesWithTheTestsRenderer(String variant) throws Exception {
        Path kubectl = onPath("kubectl");
        Assumptions.assumeTrue(kubectl != null, "kubectl not on PATH; the Java rendering checks stand alone");
        Process p = new ProcessBuilder(kubectl.toString(), "kustomize", K8S.resolve(variant).toString())
                .redirectError(ProcessBuilder.Redirect.INHERIT)
                .start();
        byte[] out = p.getInputStream().readAllBytes();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "kubectl kustomize timed out");
        assertEquals(0, p.exitValue(), "kubectl kustomize " + variant + " failed");
        List<ObjectNode> fromKubectl = new ArrayList<>();
        try (var parser = Kustomize.YAML.getFactory().createParser(out)) {
            Kustomize.YAML.readValues(parser, ObjectNode.class).forEachRemaining(fromKubectl::add);
        }
        assertEquals(normalize(fromKubectl), normalize(Kustomize.render(K8S.resolve(variant))),
                "the test's renderer disagrees with kubectl kustomize for " + variant);
    }

    // ---- settings -------------------------------------------------------------------------------------------

    @Test
    void baseConfigMapHoldsEverySettingAndNothingElse() {
        JsonNode data = Kustomize.readAll(K8S.resolve("base/configmap.yaml")).get(0).path("data");
        Set<String> keys = new HashSet<>();
        data.fieldNames().forEachRemaining(keys::add);
        Set<String> expected = Config.SETTINGS.stream().map(Setting::envVar).collect(Collectors.toSet());
        assertEquals(new TreeSet<>(expected), new TreeSet<>(keys), "base ConfigMap keys vs Config.SETTINGS");
    }

    @Test
    void everyEnvironmentNameInAnyManifestIsASetting() throws IOException {
        Set<String> known = Config.SETTINGS.stream().map(Setting::envVar).collect(Collectors.toSet());
        for (Path f : yamlFiles()) {
            for (JsonNode doc : Kustomize.readAll(f)) {
                if (Kustomize.kind(doc).equals("ConfigMap")) {
                    doc.path("data").fieldNames().forEachRemaining(k ->
                            assertTrue(known.contains(k), f + ": ConfigMap key " + k + " is no setting's env var"));
                }
                for (JsonNode env : doc.findValues("env")) {
                    for (JsonNode e : env) {
                        String name = e.path("name").asText();
                        assertTrue(known.contains(name), f + ": env " + name + " is no setting's env var");
                    }
                }
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {".", EMBEDDED, POSTGRES})
    void configMapValuesAreTheDefaultsSaveTheDocumentedOverrides(String variant) {
        List<ObjectNode> resources = Kustomize.render(K8S.resolve(variant));
        Map<String, String> env = configMapOf(resources, deployment(resources));
        for (Setting s : Config.SETTINGS) {
            String value = env.get(s.envVar());
            assertNotNull(value, variant + ": " + s.envVar() + " missing from the ConfigMap");
            if (CPU_DEPENDENT.contains(s.name())) {
                assertTrue(value.matches("[1-9][0-9]*"), variant + ": " + s.envVar() + "=" + value
                        + " (expected: a positive whole number)");
            } else if (CONTAINER_OVERRIDES.containsKey(s.name())) {
                assertEquals(CONTAINER_OVERRIDES.get(s.name()), value, variant + ": " + s.envVar());
            } else if (variant.equals(POSTGRES) && POSTGRES_OVERRIDES.contains(s.name())) {
                assertFalse(value.isEmpty(), variant + ": " + s.envVar() + " must be set");
            } else {
                assertEquals(s.defaultValue(), value, variant + ": " + s.envVar() + " differs from the default");
            }
        }
        if (variant.equals(POSTGRES)) {
            assertTrue(env.get("METERLINE_STORAGE_URL").startsWith("jdbc:postgresql://"),
                    "postgres: METERLINE_STORAGE_URL=" + env.get("METERLINE_STORAGE_URL"));
            assertEquals("", env.get("METERLINE_STORAGE_PASSWORD"), "postgres: no password in the ConfigMap");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {".", EMBEDDED, POSTGRES})
    void configMapIsAcceptedByTheConfigLoader(String variant, @TempDir Path tmp) throws IOException {
        List<ObjectNode> resources = Kustomize.render(K8S.resolve(variant));
        Map<String, String> env = configMapOf(resources, deployment(resources));
        Map<String, String> raw = new LinkedHashMap<>();
        for (Setting s : Config.SETTINGS) {
            raw.put(s.name(), env.get(s.envVar()));
        }
        if (!raw.get("storage-password-file").isEmpty()) {
            // The real file comes from a Secret in the cluster; stand in for it.
            Path password = Files.writeString(tmp.resolve("password"), "secret\n", StandardCharsets.UTF_8);
            raw.put("storage-password-file", password.toString());
        }
        assertNotNull(Config.from(raw));
    }

    // ---- pod spec -------------------------------------------------------------------------------------------

    @ParameterizedTest
    @ValueSource(strings = {".", EMBEDDED, POSTGRES})
    void portsMatchTheDefaultsAcrossContainerServiceAndPolicy(String variant) {
        List<ObjectNode> resources = Kustomize.render(K8S.resolve(variant));
        JsonNode container = container(deployment(resources));
        Map<String, Integer> ports = new HashMap<>();
        container.path("ports").forEach(p -> ports.put(p.path("name").asText(), p.path("containerPort").asInt()));
        assertEquals(Map.of("ingest", Integer.parseInt(defaultOf("tcp-port")),
                "http", Integer.parseInt(defaultOf("http-port"))), ports, variant + ": container ports");

        JsonNode service = Kustomize.only(resources, "Service", "meterline", variant);
        Map<String, Integer> servicePorts = new HashMap<>();
        for (JsonNode p : service.path("spec").path("ports")) {
            String target = p.path("targetPort").asText();
            assertTrue(ports.containsKey(target), variant + ": Service targetPort " + target + " is no container port");
            assertEquals(ports.get(target), p.path("port").asInt(), variant + ": Service port " + target);
            servicePorts.put(p.path("name").asText(), p.path("port").asInt());
        }
        assertEquals(ports, servicePorts, variant + ": Service ports");

        JsonNode policy = Kustomize.only(resources, "NetworkPolicy", "meterline", variant);
        Set<String> allowed = new HashSet<>();
        policy.path("spec").path("ingress").forEach(rule ->
                rule.path("ports").forEach(p -> allowed.add(p.path("port").asText())));
        assertEquals(ports.keySet(), allowed, variant + ": NetworkPolicy ports");

        JsonNode annotations = deployment(resources).path("spec").path("template").path("metadata").path("annotations");
        assertEquals("true", annotations.path("prometheus.io/scrape").asText(), variant);
        assertEquals(String.valueOf(ports.get("http")), annotations.path("prometheus.io/port").asText(), variant);
        assertEquals("/metrics", annotations.path("prometheus.io/path").asText(), variant);
    }

    @ParameterizedTest
    @ValueSource(strings = {".", EMBEDDED, POSTGRES})
    void probesAndGracePeriodFitTheLifecycle(String variant) {
        List<ObjectNode> resources = Kustomize.render(K8S.resolve(variant));
        ObjectNode deployment = deployment(resources);
        JsonNode c = container(deployment);
        assertProbe(c.path("livenessProbe"), "/healthz", variant);
        assertEquals(10, c.path("livenessProbe").path("periodSeconds").asInt(), variant);
        assertEquals(3, c.path("livenessProbe").path("failureThreshold").asInt(), variant);
        assertProbe(c.path("readinessProbe"), "/readyz", variant);
        assertEquals(2, c.path("readinessProbe").path("periodSeconds").asInt(), variant);
        assertEquals(1, c.path("readinessProbe").path("failureThreshold").asInt(), variant);
        assertProbe(c.path("startupProbe"), "/readyz", variant);

        JsonNode pod = deployment.path("spec").path("template").path("spec");
        assertTrue(pod.path("terminationGracePeriodSeconds").isInt(), variant + ": terminationGracePeriodSeconds");
        Duration grace = Duration.ofSeconds(pod.path("terminationGracePeriodSeconds").asInt());
        Duration byDefault = Durations.parse(defaultOf("shutdown-timeout"));
        Duration configured = Durations.parse(configMapOf(resources, deployment).get("METERLINE_SHUTDOWN_TIMEOUT"));
        assertTrue(grace.compareTo(byDefault) > 0, variant + ": grace " + grace + " <= default shutdown timeout " + byDefault);
        assertTrue(grace.compareTo(configured) > 0, variant + ": grace " + grace + " <= shutdown timeout " + configured);
        assertTrue(c.path("lifecycle").path("preStop").isMissingNode(), variant + ": no preStop hook expected");
    }

    @ParameterizedTest
    @ValueSource(strings = {".", EMBEDDED, POSTGRES})
    void podRunsNonRootOnAReadOnlyRootWithWritableTmpAndData(String variant) {
        List<ObjectNode> resources = Kustomize.render(K8S.resolve(variant));
        ObjectNode deployment = deployment(resources);
        JsonNode pod = deployment.path("spec").path("template").path("spec");
        JsonNode c = container(deployment);
        ObjectNode effective = (ObjectNode) pod.path("securityContext").deepCopy();
        Kustomize.mergeObject(effective, (ObjectNode) c.path("securityContext"));
        assertTrue(effective.path("runAsNonRoot").asBoolean(), variant + ": runAsNonRoot");
        assertEquals(RUN_AS, effective.path("runAsUser").asInt(), variant + ": runAsUser");
        assertTrue(effective.path("readOnlyRootFilesystem").asBoolean(), variant + ": readOnlyRootFilesystem");
        assertTrue(effective.has("allowPrivilegeEscalation") && !effective.path("allowPrivilegeEscalation").asBoolean(),
                variant + ": allowPrivilegeEscalation must be false");
        assertTrue(texts(effective.path("capabilities").path("drop")).contains("ALL"), variant + ": drop ALL");
        assertEquals("RuntimeDefault", effective.path("seccompProfile").path("type").asText(), variant + ": seccomp");

        Map<String, JsonNode> volumes = new HashMap<>();
        pod.path("volumes").forEach(v -> volumes.put(v.path("name").asText(), v));
        Map<String, JsonNode> mounted = new HashMap<>();
        for (JsonNode m : c.path("volumeMounts")) {
            JsonNode v = volumes.get(m.path("name").asText());
            assertNotNull(v, variant + ": mount " + m + " names no volume");
            mounted.put(m.path("mountPath").asText(), v);
        }
        assertTrue(mounted.containsKey("/tmp") && mounted.get("/tmp").has("emptyDir"), variant + ": /tmp emptyDir");
        String dataDir = configMapOf(resources, deployment).get("METERLINE_DATA_DIR");
        assertTrue(mounted.containsKey(dataDir), variant + ": nothing mounted at the data dir " + dataDir);

        JsonNode res = c.path("resources");
        for (String path : List.of("requests/cpu", "requests/memory", "limits/cpu", "limits/memory")) {
            String[] parts = path.split("/");
            assertFalse(res.path(parts[0]).path(parts[1]).asText().isEmpty(), variant + ": resources " + path);
        }
    }

    @Test
    void embeddedVariantIsOnePodWithAClaimAndNeverTwo() {
        List<ObjectNode> resources = Kustomize.render(K8S.resolve(EMBEDDED));
        ObjectNode deployment = deployment(resources);
        assertEquals(1, deployment.path("spec").path("replicas").asInt(), "embedded: replicas");
        assertEquals("Recreate", deployment.path("spec").path("strategy").path("type").asText(), "embedded: strategy");
        assertTrue(deployment.path("spec").path("strategy").path("rollingUpdate").isMissingNode(),
                "embedded: rollingUpdate must go with Recreate");
        JsonNode data = volumeMountedAt(deployment, "/data");
        assertFalse(data.has("emptyDir"), "embedded: /data must not also be an emptyDir");
        String claim = data.path("persistentVolumeClaim").path("claimName").asText();
        JsonNode pvc = Kustomize.only(resources, "PersistentVolumeClaim", claim, "embedded");
        assertEquals(List.of("ReadWriteOnce"), texts(pvc.path("spec").path("accessModes")), "embedded: access mode");
        assertTrue(resources.stream().noneMatch(r -> Kustomize.kind(r).equals("HorizontalPodAutoscaler")),
                "embedded: SQLite cannot be scaled out");
    }

    @Test
    void postgresVariantScalesOnCpuAndReadsThePasswordFromASecretFile() {
        List<ObjectNode> resources = Kustomize.render(K8S.resolve(POSTGRES));
        ObjectNode deployment = deployment(resources);
        assertTrue(deployment.path("spec").path("replicas").isMissingNode(),
                "postgres: leave replicas to the HorizontalPodAutoscaler");
        JsonNode hpa = Kustomize.only(resources, "HorizontalPodAutoscaler", "meterline", "postgres");
        assertEquals("Deployment", hpa.path("spec").path("scaleTargetRef").path("kind").asText());
        assertEquals(Kustomize.name(deployment), hpa.path("spec").path("scaleTargetRef").path("name").asText());
        assertTrue(hpa.path("spec").path("minReplicas").asInt() >= 2, "postgres: at least two replicas");
        assertEquals("cpu", hpa.path("spec").path("metrics").get(0).path("resource").path("name").asText());
        assertTrue(volumeMountedAt(deployment, "/data").has("emptyDir"), "postgres: /data is scratch space");

        Path passwordFile = Path.of(configMapOf(resources, deployment).get("METERLINE_STORAGE_PASSWORD_FILE"));
        JsonNode secretVolume = volumeMountedAt(deployment, passwordFile.getParent().toString());
        assertFalse(secretVolume.path("secret").path("secretName").asText().isEmpty(),
                "postgres: the password file's directory must be a Secret volume");
        List<String> items = new ArrayList<>();
        secretVolume.path("secret").path("items").forEach(i -> items.add(i.path("path").asText()));
        assertTrue(items.contains(passwordFile.getFileName().toString()),
                "postgres: the Secret volume must hold " + passwordFile.getFileName() + ", has " + items);
    }

    @ParameterizedTest
    @ValueSource(strings = {".", EMBEDDED, POSTGRES})
    void selectorsMatchThePods(String variant) {
        List<ObjectNode> resources = Kustomize.render(K8S.resolve(variant));
        ObjectNode deployment = deployment(resources);
        Map<String, String> podLabels = strings(deployment.path("spec").path("template").path("metadata").path("labels"));
        List<JsonNode> selectors = List.of(
                deployment.path("spec").path("selector").path("matchLabels"),
                Kustomize.only(resources, "Service", "meterline", variant).path("spec").path("selector"),
                Kustomize.only(resources, "PodDisruptionBudget", "meterline", variant)
                        .path("spec").path("selector").path("matchLabels"),
                Kustomize.only(resources, "NetworkPolicy", "meterline", variant)
                        .path("spec").path("podSelector").path("matchLabels"));
        for (JsonNode selector : selectors) {
            Map<String, String> wanted = strings(selector);
            assertFalse(wanted.isEmpty(), variant + ": empty selector");
            wanted.forEach((k, v) -> assertEquals(v, podLabels.get(k), variant + ": selector " + k));
        }
    }

    // ---- Dockerfile -----------------------------------------------------------------------------------------

    @Test
    void dockerfileRunsNonRootWithAnExecFormEntrypoint() throws IOException {
        List<String[]> runStage = lastStage(ROOT.resolve("Dockerfile"));
        String entrypoint = last(runStage, "ENTRYPOINT");
        assertNotNull(entrypoint, "Dockerfile: no ENTRYPOINT in the run stage");
        assertTrue(entrypoint.startsWith("["), "Dockerfile: ENTRYPOINT must be in exec form, got " + entrypoint);
        List<String> argv = List.of(new ObjectMapper().readValue(entrypoint, String[].class));
        assertEquals("java", argv.get(0), "Dockerfile: ENTRYPOINT " + argv);
        assertTrue(argv.contains("-jar"), "Dockerfile: ENTRYPOINT " + argv);

        String user = last(runStage, "USER");
        assertNotNull(user, "Dockerfile: no USER in the run stage");
        String uid = user.split(":")[0];
        assertFalse(uid.equals("root") || uid.equals("0"), "Dockerfile: USER " + user);
        assertEquals(String.valueOf(RUN_AS), uid, "Dockerfile: USER must match the pods' runAsUser");

        String expose = all(runStage, "EXPOSE");
        assertTrue(List.of(expose.split("\\s+")).containsAll(List.of(defaultOf("tcp-port"), defaultOf("http-port"))),
                "Dockerfile: EXPOSE " + expose);
        String env = all(runStage, "ENV");
        assertTrue(env.contains("METERLINE_DATA_DIR=/data"), "Dockerfile: ENV " + env);
        assertTrue(env.contains("-XX:MaxRAMPercentage=") && env.contains("-XX:+ExitOnOutOfMemoryError"),
                "Dockerfile: JVM not sized for containers: " + env);
        assertTrue(all(runStage, "VOLUME").contains("/data"), "Dockerfile: no VOLUME /data");

        List<String> ignored = Files.readAllLines(ROOT.resolve(".dockerignore"));
        assertTrue(ignored.containsAll(List.of(".git", "target/", "data/")), ".dockerignore: " + ignored);
    }

    // ---- helpers --------------------------------------------------------------------------------------------

    private static List<Path> yamlFiles() throws IOException {
        try (Stream<Path> s = Files.walk(K8S)) {
            return s.filter(f -> f.toString().endsWith(".yaml") || f.toString().endsWith(".yml")).sorted().toList();
        }
    }

    private static String defaultOf(String name) {
        return Config.SETTINGS.stream().filter(s -> s.name().equals(name)).findFirst().orElseThrow().defaultValue();
    }

    private static ObjectNode deployment(List<ObjectNode> resources) {
        return Kustomize.only(resources, "Deployment", "meterline", "rendering");
    }

    private static JsonNode container(JsonNode deployment) {
        JsonNode containers = deployment.path("spec").path("template").path("spec").path("containers");
        assertEquals(1, containers.size(), "one container expected");
        return containers.get(0);
    }

    /** The environment the container gets from its ConfigMap, with any explicit env entries on top. */
    private static Map<String, String> configMapOf(List<ObjectNode> resources, JsonNode deployment) {
        JsonNode c = container(deployment);
        Map<String, String> env = new LinkedHashMap<>();
        for (JsonNode from : c.path("envFrom")) {
            String name = from.path("configMapRef").path("name").asText();
            env.putAll(strings(Kustomize.only(resources, "ConfigMap", name, "envFrom").path("data")));
        }
        for (JsonNode e : c.path("env")) {
            if (e.has("value")) {
                env.put(e.path("name").asText(), e.path("value").asText());
            }
        }
        return env;
    }

    private static JsonNode volumeMountedAt(JsonNode deployment, String path) {
        String name = null;
        for (JsonNode m : container(deployment).path("volumeMounts")) {
            if (m.path("mountPath").asText().equals(path)) {
                name = m.path("name").asText();
            }
        }
        assertNotNull(name, "nothing mounted at " + path);
        for (JsonNode v : deployment.path("spec").path("template").path("spec").path("volumes")) {
            if (v.path("name").asText().equals(name)) {
                return v;
            }
        }
        return fail("mount " + path + " names no volume " + name);
    }

    private static void assertProbe(JsonNode probe, String path, String variant) {
        assertEquals(path, probe.path("httpGet").path("path").asText(), variant + ": probe path");
        assertEquals("http", probe.path("httpGet").path("port").asText(), variant + ": probe port");
    }

    private static Map<String, String> strings(JsonNode object) {
        Map<String, String> out = new TreeMap<>();
        object.fields().forEachRemaining(e -> out.put(e.getKey(), e.getValue().asText()));
        return out;
    }

    private static List<String> texts(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }

    /** Resources by kind/name, lists of named elements sorted by name: kustomize does not keep their order. */
    private static Map<String, JsonNode> normalize(List<ObjectNode> resources) {
        Map<String, JsonNode> out = new TreeMap<>();
        for (ObjectNode r : resources) {
            JsonNode copy = r.deepCopy();
            sortNamedLists(copy);
            out.put(Kustomize.kind(r) + "/" + Kustomize.name(r), copy);
        }
        return out;
    }

    private static void sortNamedLists(JsonNode node) {
        if (node instanceof ObjectNode o) {
            List<String> fields = new ArrayList<>();
            o.fieldNames().forEachRemaining(fields::add);
            for (String f : fields) {
                JsonNode v = o.get(f);
                sortNamedLists(v);
                if (v instanceof ArrayNode a && a.size() > 1 && allNamed(a)) {
                    List<JsonNode> items = new ArrayList<>();
                    a.forEach(items::add);
                    items.sort(Comparator.comparing(n -> n.get("name").asText()));
                    ArrayNode sorted = a.arrayNode();
                    items.forEach(sorted::add);
                    o.set(f, sorted);
                }
            }
        } else if (node instanceof ArrayNode a) {
            a.forEach(KubernetesManifestsTest::sortNamedLists);
        }
    }

    private static boolean allNamed(ArrayNode a) {
        for (JsonNode n : a) {
            if (!n.isObject() || !n.has("name")) {
                return false;
            }
        }
        return true;
    }

    private static Path onPath(String command) {
        String path = System.getenv("PATH");
        if (path == null) {
            return null;
        }
        for (String dir : path.split(File.pathSeparator)) {
            Path candidate = Path.of(dir, command);
            if (Files.isExecutable(candidate)) {
                return candidate;
            }
        }
        return null;
    }

    /** The instructions after the last FROM, each as {keyword, arguments}, continuation lines joined. */
    private static List<String[]> lastStage(Path dockerfile) throws IOException {
        List<String[]> instructions = new ArrayList<>();
        StringBuilder pending = new StringBuilder();
        for (String line : Files.readAllLines(dockerfile, StandardCharsets.UTF_8)) {
            String trimmed = line.strip();
            if (trimmed.startsWith("#") || (trimmed.isEmpty() && pending.isEmpty())) {
                continue;
            }
            if (trimmed.endsWith("\\")) {
                pending.append(trimmed, 0, trimmed.length() - 1).append(' ');
                continue;
            }
            pending.append(trimmed);
            String text = pending.toString().strip();
            pending.setLength(0);
            int space = text.indexOf(' ');
            String keyword = (space < 0 ? text : text.substring(0, space)).toUpperCase(Locale.ROOT);
            String args = space < 0 ? "" : text.substring(space + 1).strip();
            if (keyword.equals("FROM")) {
                instructions.clear();
            }
            instructions.add(new String[] {keyword, args});
        }
        return instructions;
    }

    private static String last(List<String[]> instructions, String keyword) {
        String found = null;
        for (String[] i : instructions) {
            if (i[0].equals(keyword)) {
                found = i[1];
            }
        }
        return found;
    }

    private static String all(List<String[]> instructions, String keyword) {
        return instructions.stream().filter(i -> i[0].equals(keyword)).map(i -> i[1]).collect(Collectors.joining(" "));
    }
}
