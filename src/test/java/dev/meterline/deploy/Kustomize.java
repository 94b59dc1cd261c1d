package dev.meterline.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The subset of kustomize that k8s/ uses, so the manifests can be rendered and checked without kubectl:
 * {@code resources} (files and directories), {@code patches} given by path (strategic merge, matched by kind and
 * name) and {@code images}. Anything else in a kustomization fails loudly rather than being ignored; where kubectl
 * is installed the test compares this rendering with {@code kubectl kustomize}.
 */
final class Kustomize {

    static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    private static final Set<String> SUPPORTED = Set.of("apiVersion", "kind", "resources", "patches", "images");

    private Kustomize() {
    }

    /** Every document of a YAML file, in order. */
    static List<JsonNode> readAll(Path file) {
        try (var parser = YAML.getFactory().createParser(file.toFile())) {
            List<JsonNode> docs = new ArrayList<>();
            Iterator<JsonNode> it = YAML.readValues(parser, JsonNode.class);
            while (it.hasNext()) {
                JsonNode doc = it.next();
                if (doc != null && !doc.isNull() && !doc.isMissingNode()) {
                    docs.add(doc);
                }
            }
            return docs;
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": " + e.getMessage(), e);
        }
    }

    /** The kustomization file of a directory. */
    static Path kustomizationOf(Path dir) {
        return dir.resolve("kustomization.yaml");
    }

    /** Renders the kustomization in {@code dir} into its resources. */
    static List<ObjectNode> render(Path dir) {
        Path file = kustomizationOf(dir);
        if (!Files.isRegularFile(file)) {
            throw new AssertionError(dir + ": no kustomization.yaml");
        }
        JsonNode k = readAll(file).get(0);
        k.fieldNames().forEachRemaining(f -> {
            if (!SUPPORTED.contains(f)) {
                throw new AssertionError(file + ": field '" + f + "' is not supported by the test's renderer "
                        + "(expected one of " + SUPPORTED + "); extend Kustomize or check with kubectl");
            }
        });
        List<ObjectNode> out = new ArrayList<>();
        for (JsonNode r : k.path("resources")) {
            Path p = dir.resolve(r.asText()).normalize();
            if (Files.isDirectory(p)) {
                out.addAll(render(p));
            } else if (Files.isRegularFile(p)) {
                for (JsonNode doc : readAll(p)) {
                    out.add((ObjectNode) doc.deepCopy());
                }
            } else {
                throw new AssertionError(file + ": resource '" + r.asText() + "' does not exist");
            }
        }
        for (JsonNode patchRef : k.path("patches")) {
            if (!patchRef.has("path") || patchRef.has("target") || patchRef.has("patch")) {
                throw new AssertionError(file + ": only `patches: - path: FILE` is supported, got " + patchRef);
            }
            Path p = dir.resolve(patchRef.get("path").asText()).normalize();
            if (!Files.isRegularFile(p)) {
                throw new AssertionError(file + ": patch '" + p + "' does not exist");
            }
            for (JsonNode patch : readAll(p)) {
                ObjectNode target = only(out, kind(patch), name(patch), p);
                mergeObject(target, (ObjectNode) patch);
            }
        }
        for (JsonNode image : k.path("images")) {
            setImage(out, image.get("name").asText(), image.path("newName").asText(image.get("name").asText()),
                    image.path("newTag").asText(null));
        }
        return out;
    }

    static String kind(JsonNode doc) {
        return doc.path("kind").asText();
    }

    static String name(JsonNode doc) {
        return doc.path("metadata").path("name").asText();
    }

    /** The one resource of that kind and name. */
    static ObjectNode only(List<ObjectNode> resources, String kind, String name, Object where) {
        List<ObjectNode> found = resources.stream()
                .filter(r -> kind(r).equals(kind) && name(r).equals(name))
                .toList();
        if (found.size() != 1) {
            throw new AssertionError(where + ": " + found.size() + " resources " + kind + "/" + name + " (expected: 1)");
        }
        return found.get(0);
    }

    /**
     * Strategic merge, as far as k8s/ needs it: objects merge field by field, {@code null} deletes a field, lists
     * whose elements all carry a {@code name} merge element by element, other lists are replaced.
     */
    static void mergeObject(ObjectNode target, ObjectNode patch) {
        for (Iterator<Map.Entry<String, JsonNode>> it = patch.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String field = e.getKey();
            JsonNode value = e.getValue();
            if (field.startsWith("$")) {
                throw new AssertionError("patch directive " + field + " is not supported by the test's renderer");
            }
            JsonNode existing = target.get(field);
            if (value.isNull()) {
                target.remove(field);
            } else if (existing instanceof ObjectNode o && value instanceof ObjectNode p) {
                mergeObject(o, p);
            } else if (existing instanceof ArrayNode a && value instanceof ArrayNode p && named(a) && named(p)) {
                mergeNamedList(a, p);
            } else {
                target.set(field, value.deepCopy());
            }
        }
    }

    private static boolean named(ArrayNode list) {
        for (JsonNode n : list) {
            if (!n.isObject() || !n.has("name")) {
                return false;
            }
        }
        return true;
    }

    private static void mergeNamedList(ArrayNode target, ArrayNode patch) {
        for (JsonNode p : patch) {
            ObjectNode match = null;
            for (JsonNode t : target) {
                if (t.get("name").equals(p.get("name"))) {
                    match = (ObjectNode) t;
                }
            }
            if (match == null) {
                target.add(p.deepCopy());
            } else {
                mergeObject(match, (ObjectNode) p);
            }
        }
    }

    private static void setImage(List<ObjectNode> resources, String name, String newName, String newTag) {
        for (ObjectNode r : resources) {
            for (JsonNode c : r.path("spec").path("template").path("spec").path("containers")) {
                String image = c.path("image").asText();
                String bare = image.contains(":") ? image.substring(0, image.lastIndexOf(':')) : image;
                if (bare.equals(name)) {
                    String tag = newTag != null ? newTag
                            : image.contains(":") ? image.substring(image.lastIndexOf(':') + 1) : null;
                    ((ObjectNode) c).put("image", tag == null ? newName : newName + ":" + tag);
                }
            }
        }
    }
}
