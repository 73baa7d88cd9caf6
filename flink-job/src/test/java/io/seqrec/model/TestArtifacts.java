package io.seqrec.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/** Edits of a copied model artifact, for tests that need a model whose references are off. */
public final class TestArtifacts {
    private TestArtifacts() {}

    /** The lines of the artifact's reference.jsonl, parsed. */
    public static List<JsonNode> references(Path dir) throws IOException {
        List<JsonNode> references = new ArrayList<>();
        ObjectMapper json = new ObjectMapper();
        for (String line : Files.readAllLines(dir.resolve(ModelVerifier.REFERENCE_FILE))) {
            if (!line.isBlank()) {
                references.add(json.readTree(line));
            }
        }
        return references;
    }

    /** Rewrites line {@code line} (1-based) of the artifact's reference.jsonl. */
    public static void editReference(Path dir, int line, Consumer<ObjectNode> edit)
            throws IOException {
        Path file = dir.resolve(ModelVerifier.REFERENCE_FILE);
        List<String> lines = new ArrayList<>(Files.readAllLines(file));
        ObjectMapper json = new ObjectMapper();
        ObjectNode ref = (ObjectNode) json.readTree(lines.get(line - 1));
        edit.accept(ref);
        lines.set(line - 1, json.writeValueAsString(ref));
        Files.write(file, lines);
    }

    /**
     * Adds {@code by} to the expected score at {@code rank} (0-based) of reference line {@code
     * line}.
     */
    public static void shiftExpectedScore(Path dir, int line, int rank, double by)
            throws IOException {
        editReference(
                dir,
                line,
                ref -> {
                    ArrayNode scores = (ArrayNode) ref.get("scores");
                    scores.set(rank, scores.get(rank).asDouble() + by);
                });
    }

    /**
     * A copy of the shipped default model in {@code dir} under another {@code model_version}: the
     * same weights and references, told apart in recommendations and metrics.
     */
    public static Path defaultModelAs(Path dir, String modelVersion) throws IOException {
        io.seqrec.TestPaths.copyOfDefaultModel(dir);
        Path metadata = dir.resolve(ModelArtifact.METADATA_FILE);
        ObjectMapper json = new ObjectMapper();
        ObjectNode node = (ObjectNode) json.readTree(metadata.toFile());
        node.put("model_version", modelVersion);
        json.writerWithDefaultPrettyPrinter().writeValue(metadata.toFile(), node);
        return dir;
    }
}
