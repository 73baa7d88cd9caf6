package io.seqrec.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The part of {@code kustomize build} the k8s/ folder uses, so tests see the merged objects that
 * {@code kubectl apply -k} would send: {@code resources} (files and directories with a
 * kustomization), and {@code patches} given by {@code path}, either a strategic-merge patch of a
 * custom resource (no merge keys are known for custom resources, so kustomize merges it as a JSON
 * merge patch, RFC 7386: mappings merge, lists and scalars replace, null deletes) or a JSON 6902
 * patch with a {@code target} ({@code add}, {@code replace}, {@code remove}). Anything else in a
 * kustomization fails the build rather than being ignored.
 */
final class Kustomize {
    private static final Set<String> SUPPORTED =
            Set.of("apiVersion", "kind", "resources", "patches");

    private Kustomize() {}

    /** The resources a kustomization directory produces, patches applied. */
    static List<ObjectNode> build(Path dir) {
        JsonNode k = Manifests.single(dir.resolve("kustomization.yaml"));
        for (Iterator<String> it = k.fieldNames(); it.hasNext(); ) {
            String field = it.next();
            if (!SUPPORTED.contains(field)) {
                throw new IllegalStateException(
                        dir + ": kustomization field not supported: " + field);
            }
        }
        List<ObjectNode> resources = new ArrayList<>();
        for (JsonNode r : k.path("resources")) {
            Path p = dir.resolve(r.asText()).normalize();
            if (Files.isDirectory(p)) {
                resources.addAll(build(p));
            } else {
                resources.addAll(Manifests.documents(p));
            }
        }
        for (JsonNode patch : k.path("patches")) {
            Path file = dir.resolve(patch.path("path").asText()).normalize();
            JsonNode first = readTree(file);
            if (first.isArray()) {
                applyJson6902(resources, patch.path("target"), (ArrayNode) first, file);
            } else {
                for (JsonNode doc : Manifests.documents(file)) {
                    mergePatch(find(resources, doc, file), doc);
                }
            }
        }
        return resources;
    }

    /** Patch files of a kustomization (they are partial objects, validated after merging). */
    static List<Path> patchFiles(Path dir) {
        List<Path> files = new ArrayList<>();
        for (JsonNode patch : Manifests.single(dir.resolve("kustomization.yaml")).path("patches")) {
            files.add(dir.resolve(patch.path("path").asText()).normalize());
        }
        return files;
    }

    private static JsonNode readTree(Path file) {
        try {
            return Manifests.YAML.readTree(file.toFile());
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static ObjectNode find(List<ObjectNode> resources, JsonNode patch, Path file) {
        for (ObjectNode r : resources) {
            if (r.path("apiVersion").equals(patch.path("apiVersion"))
                    && r.path("kind").equals(patch.path("kind"))
                    && r.path("metadata")
                            .path("name")
                            .equals(patch.path("metadata").path("name"))) {
                return r;
            }
        }
        throw new IllegalStateException(
                file + ": patch matches no resource: " + Manifests.kindAndName(patch));
    }

    /** RFC 7386 merge of {@code patch} into {@code target}. */
    static void mergePatch(ObjectNode target, JsonNode patch) {
        for (Iterator<Map.Entry<String, JsonNode>> it = patch.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            JsonNode value = e.getValue();
            if (value.isNull()) {
                target.remove(e.getKey());
            } else if (value.isObject() && target.path(e.getKey()).isObject()) {
                mergePatch((ObjectNode) target.get(e.getKey()), value);
            } else {
                target.set(e.getKey(), value.deepCopy());
            }
        }
    }

    private static void applyJson6902(
            List<ObjectNode> resources, JsonNode target, ArrayNode ops, Path file) {
        String apiVersion = target.path("group").asText() + "/" + target.path("version").asText();
        ObjectNode resource = null;
        for (ObjectNode r : resources) {
            if (r.path("apiVersion").asText().equals(apiVersion)
                    && r.path("kind").asText().equals(target.path("kind").asText())
                    && r.path("metadata")
                            .path("name")
                            .asText()
                            .equals(target.path("name").asText())) {
                resource = r;
            }
        }
        if (resource == null) {
            throw new IllegalStateException(file + ": target matches no resource: " + target);
        }
        for (JsonNode op : ops) {
            String[] tokens = op.path("path").asText().substring(1).split("/");
            JsonNode parent = resource;
            for (int i = 0; i < tokens.length - 1; i++) {
                parent =
                        parent.isArray()
                                ? parent.get(Integer.parseInt(tokens[i]))
                                : parent.get(tokens[i]);
                if (parent == null) {
                    throw new IllegalStateException(
                            file + ": no such path " + op.path("path").asText());
                }
            }
            String last = tokens[tokens.length - 1];
            String kind = op.path("op").asText();
            JsonNode value = op.get("value");
            if (parent.isArray()) {
                ArrayNode array = (ArrayNode) parent;
                int index = last.equals("-") ? array.size() : Integer.parseInt(last);
                switch (kind) {
                    case "add" -> array.insert(index, value);
                    case "replace" -> array.set(index, value);
                    case "remove" -> array.remove(index);
                    default -> throw new IllegalStateException(file + ": unsupported op " + kind);
                }
            } else {
                ObjectNode object = (ObjectNode) parent;
                switch (kind) {
                    case "add", "replace" -> object.set(last, value);
                    case "remove" -> object.remove(last);
                    default -> throw new IllegalStateException(file + ": unsupported op " + kind);
                }
            }
        }
    }
}
