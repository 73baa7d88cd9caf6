package io.seqrec.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.seqrec.event.EventType;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * Checks that a loaded model reproduces its artifact's reference vectors ({@code reference.jsonl},
 * written by {@code model/} at export: PyTorch's top-K item indices and scores for a set of
 * sequences), so a model whose export, copy or runtime changed its outputs is refused before it
 * serves. Publishing to the registry runs this check, and so does a job that loads a new model.
 *
 * <p>Each reference sequence is scored twice, as the job may batch it: alone, trimmed to its own
 * length, and in one batch of all sequences left-padded to {@code max_len}. Both times the score of
 * every reference item and the model's own top-K scores must equal the reference scores within
 * {@link #TOLERANCE}; comparing the top-K scores rather than the indices tolerates ties that
 * rounding may order either way. A model with an attention output must also reproduce each line's
 * {@code attention} weights (one per position of the sequence) within the same tolerance, alone and
 * padded (where the padding's weights are left out). A type-aware model gets each line's {@code
 * behaviors} (one code per position of the sequence, which its reference lines must carry) beside
 * the items, padded alike.
 */
public final class ModelVerifier {
    public static final String REFERENCE_FILE = "reference.jsonl";

    /** Largest accepted difference from a reference score (float32 through another runtime). */
    public static final double TOLERANCE = 1e-4;

    private ModelVerifier() {}

    /**
     * Loads the model of a checked artifact and verifies it against the artifact's reference
     * vectors: the model to serve, which the caller closes.
     *
     * @throws ModelContractException if the graph breaks the contract or the outputs differ
     */
    public static OnnxSequenceModel load(ModelArtifact artifact, InferenceOptions options) {
        OnnxSequenceModel model = OnnxSequenceModel.load(artifact, options);
        try {
            verify(model, artifact);
            return model;
        } catch (RuntimeException e) {
            model.close();
            throw e;
        }
    }

    /**
     * Checks that {@code model} reproduces {@code reference.jsonl} of {@code artifact}.
     *
     * @throws ModelContractException naming the reference line and the first mismatch, or if the
     *     reference file is missing or malformed
     */
    public static void verify(SequenceScorer model, ModelArtifact artifact) {
        List<Reference> references = readReferences(artifact);
        if (artifact.hasItemVectors()) {
            checkExplanations(references, artifact);
        }
        int width = artifact.numItems() + 1;
        boolean attention = artifact.hasAttention();
        for (Reference ref : references) {
            SequenceScorer.Output out =
                    model.run(ref.sequence, ref.behaviors, 1, ref.sequence.length, attention);
            check(ref, out.scores(), 0, artifact, "alone");
            checkAttention(ref, out.attention(), 0, artifact, "alone");
        }
        int len = artifact.maxLen();
        long[] input = new long[references.size() * len];
        long[] behaviors = artifact.takesBehaviors() ? new long[input.length] : null;
        for (int r = 0; r < references.size(); r++) {
            Reference ref = references.get(r);
            int at = r * len + len - ref.sequence.length;
            System.arraycopy(ref.sequence, 0, input, at, ref.sequence.length);
            if (behaviors != null) {
                System.arraycopy(ref.behaviors, 0, behaviors, at, ref.behaviors.length);
            }
        }
        SequenceScorer.Output out = model.run(input, behaviors, references.size(), len, attention);
        for (int r = 0; r < references.size(); r++) {
            Reference ref = references.get(r);
            String how = "padded to max_len in a batch";
            check(ref, out.scores(), r * width, artifact, how);
            checkAttention(
                    ref, out.attention(), r * len + len - ref.sequence.length, artifact, how);
        }
    }

    /**
     * One line of {@code reference.jsonl}; {@code behaviors} is {@code null} for a model without a
     * behaviors input, {@code attention} for a model without that output.
     */
    private record Reference(
            int line,
            long[] sequence,
            long[] behaviors,
            int[] indices,
            double[] scores,
            double[] attention,
            int becauseSimilar) {}

    /** Largest accepted difference of two cosine similarities taken for a tie. */
    static final double SIMILARITY_TOLERANCE = 1e-6;

    /**
     * Checks that the item vectors name the same history item as PyTorch did for each reference
     * line's top-1 ({@code because_similar_position}); an item as similar within {@link
     * #SIMILARITY_TOLERANCE} (a tie the other runtime's rounding may break either way) passes.
     */
    private static void checkExplanations(List<Reference> references, ModelArtifact artifact) {
        ItemVectors vectors = ItemVectors.load(artifact);
        for (Reference ref : references) {
            int target = ref.indices[0];
            int got = vectors.mostSimilarPosition(ref.sequence, target);
            int expected = ref.becauseSimilar;
            double gotSimilarity = vectors.similarity((int) ref.sequence[got], target);
            double expectedSimilarity = vectors.similarity((int) ref.sequence[expected], target);
            if (!(Math.abs(gotSimilarity - expectedSimilarity) <= SIMILARITY_TOLERANCE)) {
                throw new ModelContractException(
                        artifact.dir().resolve(REFERENCE_FILE)
                                + ":"
                                + ref.line
                                + ": the item vectors name position "
                                + got
                                + " (similarity "
                                + gotSimilarity
                                + ") as the most similar to the top-1, PyTorch named "
                                + expected
                                + " (similarity "
                                + expectedSimilarity
                                + ")");
            }
        }
    }

    private static void checkAttention(
            Reference ref, float[] attention, int from, ModelArtifact artifact, String how) {
        if (ref.attention == null) {
            return;
        }
        if (attention == null) {
            throw new ModelContractException(
                    artifact.modelFile()
                            + ": metadata.json promises an '"
                            + ModelArtifact.ATTENTION_OUTPUT
                            + "' output, but the model returned none");
        }
        for (int i = 0; i < ref.attention.length; i++) {
            float got = attention[from + i];
            if (!(Math.abs(got - ref.attention[i]) <= TOLERANCE)) {
                throw mismatch(
                        artifact,
                        ref,
                        how,
                        "attention at position " + i + " is " + got,
                        ref.attention[i]);
            }
        }
    }

    private static void check(
            Reference ref, float[] scores, int from, ModelArtifact artifact, String how) {
        int k = ref.indices.length;
        int[] topIndex = new int[k];
        float[] topScore = new float[k];
        int found = TopK.select(scores, from, artifact.numItems() + 1, k, topIndex, topScore);
        for (int i = 0; i < k; i++) {
            float atIndex = scores[from + ref.indices[i]];
            if (!(Math.abs(atIndex - ref.scores[i]) <= TOLERANCE)) {
                throw mismatch(
                        artifact,
                        ref,
                        how,
                        "item index " + ref.indices[i] + " scores " + atIndex,
                        ref.scores[i]);
            }
            if (i >= found || !(Math.abs(topScore[i] - ref.scores[i]) <= TOLERANCE)) {
                throw mismatch(
                        artifact,
                        ref,
                        how,
                        "rank "
                                + (i + 1)
                                + " is item index "
                                + (i < found ? topIndex[i] + " scoring " + topScore[i] : "none"),
                        ref.scores[i]);
            }
        }
    }

    private static ModelContractException mismatch(
            ModelArtifact artifact, Reference ref, String how, String got, double expected) {
        return new ModelContractException(
                artifact.dir().resolve(REFERENCE_FILE)
                        + ":"
                        + ref.line
                        + ": the model does not reproduce the reference scores (sequence scored "
                        + how
                        + "): "
                        + got
                        + ", reference "
                        + expected
                        + " (tolerance "
                        + TOLERANCE
                        + ")");
    }

    private static List<Reference> readReferences(ModelArtifact artifact) {
        Path file = artifact.dir().resolve(REFERENCE_FILE);
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new ModelContractException(
                    file + ": missing or unreadable (" + e + "): the model cannot be verified", e);
        }
        ObjectMapper json = new ObjectMapper();
        List<Reference> references = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            if (!lines.get(i).isBlank()) {
                references.add(parse(json, lines.get(i), i + 1, file, artifact));
            }
        }
        if (references.isEmpty()) {
            throw new ModelContractException(file + ": no reference vectors");
        }
        return references;
    }

    private static Reference parse(
            ObjectMapper json, String text, int line, Path file, ModelArtifact artifact) {
        String where = file + ":" + line + ": ";
        JsonNode node;
        try {
            node = json.readTree(text);
        } catch (IOException e) {
            throw new ModelContractException(where + "not valid JSON: " + e.getMessage(), e);
        }
        long[] sequence = longs(node.path("sequence"), where + "sequence", artifact);
        int[] indices =
                Arrays.stream(longs(node.path("indices"), where + "indices", artifact))
                        .mapToInt(i -> (int) i)
                        .toArray();
        JsonNode scoreList = node.path("scores");
        if (!scoreList.isArray() || scoreList.size() != indices.length || indices.length == 0) {
            throw new ModelContractException(
                    where + "needs as many scores as indices, and at least one");
        }
        double[] scores = new double[indices.length];
        for (int i = 0; i < scores.length; i++) {
            if (!scoreList.get(i).isNumber()) {
                throw new ModelContractException(where + "scores must be numbers");
            }
            scores[i] = scoreList.get(i).asDouble();
        }
        if (sequence.length == 0 || sequence.length > artifact.maxLen()) {
            throw new ModelContractException(
                    where + "sequence length must be 1.." + artifact.maxLen());
        }
        long[] behaviors =
                artifact.takesBehaviors() ? behaviors(node, sequence, where, artifact) : null;
        double[] attention = null;
        if (artifact.hasAttention()) {
            JsonNode weights = node.path("attention");
            if (!weights.isArray() || weights.size() != sequence.length) {
                throw new ModelContractException(
                        where
                                + "the model has an attention output, so each line needs"
                                + " 'attention': one weight per position of the sequence");
            }
            attention = new double[sequence.length];
            for (int i = 0; i < attention.length; i++) {
                attention[i] = weights.get(i).asDouble();
            }
        }
        int becauseSimilar = -1;
        if (artifact.hasItemVectors()) {
            JsonNode position = node.path("because_similar_position");
            if (!position.isIntegralNumber()
                    || position.asInt() < 0
                    || position.asInt() >= sequence.length) {
                throw new ModelContractException(
                        where
                                + "the artifact has item vectors, so each line needs"
                                + " 'because_similar_position': a position of the sequence");
            }
            becauseSimilar = position.asInt();
        }
        return new Reference(line, sequence, behaviors, indices, scores, attention, becauseSimilar);
    }

    /** The line's behaviors: one code of {@code steps.behavior_codes} per position. */
    private static long[] behaviors(
            JsonNode node, long[] sequence, String where, ModelArtifact artifact) {
        JsonNode list = node.path("behaviors");
        if (!list.isArray() || list.size() != sequence.length) {
            throw new ModelContractException(
                    where
                            + "the model takes each step's behavior ('"
                            + artifact.behaviorsInputName()
                            + "'), so each line needs 'behaviors': one code per position of the"
                            + " sequence");
        }
        Set<Long> codes = new HashSet<>();
        for (EventType type : EventType.values()) {
            codes.add((long) artifact.behaviorCode(type));
        }
        long[] out = new long[sequence.length];
        for (int i = 0; i < out.length; i++) {
            JsonNode v = list.get(i);
            if (!v.isIntegralNumber() || !codes.contains(v.asLong())) {
                throw new ModelContractException(
                        where
                                + "behaviors: "
                                + v
                                + " is not a code of steps.behavior_codes "
                                + new TreeSet<>(codes));
            }
            out[i] = v.asLong();
        }
        return out;
    }

    /** A list of item indices, each 1..num_items. */
    private static long[] longs(JsonNode list, String what, ModelArtifact artifact) {
        if (!list.isArray()) {
            throw new ModelContractException(what + " must be an array of item indices");
        }
        long[] out = new long[list.size()];
        for (int i = 0; i < out.length; i++) {
            JsonNode v = list.get(i);
            if (!v.isIntegralNumber() || v.asLong() < 1 || v.asLong() > artifact.numItems()) {
                throw new ModelContractException(
                        what + ": " + v + " is not an item index 1.." + artifact.numItems());
            }
            out[i] = v.asLong();
        }
        return out;
    }
}
