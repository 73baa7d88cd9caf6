package io.seqrec.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.seqrec.TestPaths;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/** Reading the repository's deployment files: YAML documents as Jackson trees. */
final class Manifests {
    private Manifests() {}

    static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    static Path k8s() {
        return TestPaths.repoRoot().resolve("k8s");
    }

    static Path docker() {
        return TestPaths.repoRoot().resolve("docker");
    }

    /** Every non-empty document of a (multi-document) YAML file. */
    static List<ObjectNode> documents(Path file) {
        List<ObjectNode> docs = new ArrayList<>();
        try (var it = YAML.readerFor(JsonNode.class).<JsonNode>readValues(file.toFile())) {
            while (it.hasNext()) {
                JsonNode doc = it.next();
                if (doc != null && !doc.isNull() && !doc.isMissingNode()) {
                    if (!doc.isObject()) {
                        throw new AssertionError(file + ": a document is not a mapping: " + doc);
                    }
                    docs.add((ObjectNode) doc);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(file.toString(), e);
        }
        return docs;
    }

    static JsonNode single(Path file) {
        List<ObjectNode> docs = documents(file);
        if (docs.size() != 1) {
            throw new AssertionError(file + ": expected one document, found " + docs.size());
        }
        return docs.get(0);
    }

    /** All *.yaml files below a directory, sorted. */
    static List<Path> yamlFiles(Path dir) {
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(p -> p.toString().endsWith(".yaml") || p.toString().endsWith(".yml"))
                    .sorted()
                    .toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** docker/docker-compose.yml, anchors and merge keys resolved by SnakeYAML as Compose does. */
    static JsonNode compose() {
        Object tree =
                new org.yaml.snakeyaml.Yaml().load(read(docker().resolve("docker-compose.yml")));
        return YAML.valueToTree(tree);
    }

    /**
     * FLINK_PROPERTIES of a compose service, split like the image's entrypoint does (first colon).
     */
    static java.util.Map<String, String> flinkProperties(JsonNode compose, String service) {
        String props =
                compose.path("services")
                        .path(service)
                        .path("environment")
                        .path("FLINK_PROPERTIES")
                        .asText();
        if (props.isBlank()) {
            throw new AssertionError(service + ": no FLINK_PROPERTIES");
        }
        java.util.Map<String, String> out = new java.util.LinkedHashMap<>();
        for (String line : props.split("\n")) {
            if (!line.isBlank()) {
                int colon = line.indexOf(':');
                out.put(line.substring(0, colon).trim(), line.substring(colon + 1).trim());
            }
        }
        return out;
    }

    static String kindAndName(JsonNode doc) {
        return doc.path("kind").asText() + "/" + doc.path("metadata").path("name").asText();
    }
}
