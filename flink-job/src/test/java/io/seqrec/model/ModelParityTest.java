package io.seqrec.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.seqrec.TestPaths;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The exported model through DJL + ONNX Runtime reproduces PyTorch's reference outputs written at
 * export time: same top-K item indices, scores within 1e-4 (the tolerance {@link ModelVerifier}
 * applies before a model serves) — with the sequences trimmed to their own length (as the job
 * batches them) and padded to max_len alike. The attention output, which names the history item a
 * list is {@code because} of, is held to PyTorch's weights the same way, and the job's choice of
 * that item to the reference's {@code because_position}; the item vectors, which name it when the
 * artifact has them, to the reference's {@code because_similar_position}.
 */
class ModelParityTest {
    private static final double TOLERANCE = ModelVerifier.TOLERANCE;
    private static ModelArtifact artifact;
    private static OnnxSequenceModel model;
    private static List<JsonNode> references;

    @BeforeAll
    static void load() throws Exception {
        Path dir = TestPaths.defaultModel();
        artifact = ModelArtifact.load(dir);
        model = OnnxSequenceModel.load(artifact, InferenceOptions.cpu(1));
        references = new ArrayList<>();
        ObjectMapper json = new ObjectMapper();
        for (String line : Files.readAllLines(dir.resolve("reference.jsonl"))) {
            if (!line.isBlank()) {
                references.add(json.readTree(line));
            }
        }
    }

    @AfterAll
    static void close() {
        model.close();
    }

    @Test
    void referenceFileHoldsEnoughVariedSequences() {
        assertThat(references).hasSizeGreaterThanOrEqualTo(64);
        assertThat(references).anyMatch(r -> r.get("sequence").size() == 1);
        assertThat(references).anyMatch(r -> r.get("sequence").size() == artifact.maxLen());
    }

    @Test
    void reproducesReferenceTopKOneSequenceAtATimeTrimmedToItsLength() {
        for (JsonNode ref : references) {
            long[] seq = sequence(ref);
            check(ref, model.score(seq, 1, seq.length), 0);
        }
    }

    @Test
    void reproducesReferenceTopKInOneBatchPaddedToMaxLen() {
        int len = artifact.maxLen();
        long[] input = new long[references.size() * len];
        for (int r = 0; r < references.size(); r++) {
            long[] seq = sequence(references.get(r));
            System.arraycopy(seq, 0, input, r * len + len - seq.length, seq.length);
        }
        float[] scores = model.score(input, references.size(), len);
        for (int r = 0; r < references.size(); r++) {
            check(references.get(r), scores, r * (artifact.numItems() + 1));
        }
    }

    @Test
    void theShippedModelExplainsItsLists() {
        assertThat(artifact.hasAttention()).isTrue();
        assertThat(references).allMatch(r -> r.has("attention") && r.has("because_position"));
    }

    @Test
    void reproducesReferenceAttentionAloneAndPadded() {
        int len = artifact.maxLen();
        long[] padded = new long[references.size() * len];
        for (int r = 0; r < references.size(); r++) {
            JsonNode ref = references.get(r);
            long[] seq = sequence(ref);
            float[] alone = model.run(seq, 1, seq.length, true).attention();
            checkAttention(ref, alone, 0);
            System.arraycopy(seq, 0, padded, r * len + len - seq.length, seq.length);
        }
        float[] batch = model.run(padded, references.size(), len, true).attention();
        for (int r = 0; r < references.size(); r++) {
            JsonNode ref = references.get(r);
            checkAttention(ref, batch, r * len + len - ref.get("sequence").size());
        }
    }

    @Test
    void theJobNamesTheReferencesBecausePosition() {
        BatchScorer scorer = new BatchScorer(model, artifact, BatchScorer.Padding.BUCKETED, true);
        int[][] rows = new int[references.size()][];
        for (int r = 0; r < rows.length; r++) {
            rows[r] =
                    java.util.Arrays.stream(sequence(references.get(r)))
                            .mapToInt(i -> (int) i)
                            .toArray();
        }
        scorer.score(rows, rows.length);
        int decided = 0;
        for (int r = 0; r < rows.length; r++) {
            JsonNode ref = references.get(r);
            if (nearTie(ref.get("attention"))) {
                continue; // rounding may pick either of two weights within the tolerance
            }
            decided++;
            assertThat(scorer.strongestPosition(r, rows[r].length))
                    .as("because position of %s", ref.get("sequence"))
                    .isEqualTo(ref.get("because_position").asInt());
        }
        assertThat(decided).isGreaterThan(rows.length / 2);
    }

    @Test
    void theItemVectorsNameTheReferencesMostSimilarPosition() {
        assertThat(artifact.hasItemVectors()).isTrue();
        ItemVectors vectors = ItemVectors.load(artifact);
        for (JsonNode ref : references) {
            long[] seq = sequence(ref);
            int top = ref.get("indices").get(0).asInt();
            int expected = ref.get("because_similar_position").asInt();
            int got = vectors.mostSimilarPosition(seq, top);
            // equal, or an item exactly as similar (the same item twice in the sequence)
            assertThat(vectors.similarity((int) seq[got], top))
                    .as("because position of %s", ref.get("sequence"))
                    .isCloseTo(vectors.similarity((int) seq[expected], top), within(1e-9));
        }
    }

    /** Whether the two largest weights are within twice the tolerance of each other. */
    private static boolean nearTie(JsonNode weights) {
        double first = Double.NEGATIVE_INFINITY;
        double second = Double.NEGATIVE_INFINITY;
        for (JsonNode w : weights) {
            double v = w.asDouble();
            if (v > first) {
                second = first;
                first = v;
            } else if (v > second) {
                second = v;
            }
        }
        return first - second <= 2 * TOLERANCE;
    }

    private static void checkAttention(JsonNode ref, float[] attention, int from) {
        JsonNode expected = ref.get("attention");
        for (int i = 0; i < expected.size(); i++) {
            assertThat((double) attention[from + i])
                    .as("attention at position %d of %s", i, ref.get("sequence"))
                    .isCloseTo(
                            expected.get(i).asDouble(),
                            org.assertj.core.data.Offset.offset(TOLERANCE));
        }
    }

    private static long[] sequence(JsonNode ref) {
        JsonNode s = ref.get("sequence");
        long[] seq = new long[s.size()];
        for (int i = 0; i < seq.length; i++) {
            seq[i] = s.get(i).asLong();
        }
        return seq;
    }

    private static void check(JsonNode ref, float[] scores, int from) {
        int k = ref.get("k").asInt();
        int[] idx = new int[k];
        float[] val = new float[k];
        TopK.select(scores, from, artifact.numItems() + 1, k, idx, val);
        for (int i = 0; i < k; i++) {
            double expected = ref.get("scores").get(i).asDouble();
            assertThat((double) scores[from + ref.get("indices").get(i).asInt()])
                    .as("score of reference item %d of %s", i, ref.get("sequence"))
                    .isCloseTo(expected, org.assertj.core.data.Offset.offset(TOLERANCE));
            assertThat(idx[i])
                    .as("rank %d of %s", i, ref.get("sequence"))
                    .isEqualTo(ref.get("indices").get(i).asInt());
        }
    }
}
