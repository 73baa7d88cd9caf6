package io.seqrec.model;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.seqrec.TestPaths;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A type-aware model (format version 2: items and each step's behavior as two inputs) through DJL
 * and ONNX Runtime reproduces PyTorch's reference outputs written at export time, with each
 * reference line's behaviors fed beside its items: the same top-K item indices, scores within
 * {@link ModelVerifier#TOLERANCE}, with the sequences trimmed to their own length and padded to
 * max_len alike, directly and through {@link BatchScorer} in every padding. The tiny artifact has
 * seeded random weights (its README says how it was made).
 */
class TypedModelParityTest {
    private static final double TOLERANCE = ModelVerifier.TOLERANCE;
    private static ModelArtifact artifact;
    private static OnnxSequenceModel model;
    private static List<JsonNode> references;

    @BeforeAll
    static void load() throws Exception {
        Path dir = TestPaths.typedModel();
        artifact = ModelArtifact.load(dir);
        model = OnnxSequenceModel.load(artifact, InferenceOptions.cpu(1));
        references = TestArtifacts.references(dir);
    }

    @AfterAll
    static void close() {
        model.close();
    }

    private static long[] longs(JsonNode ref, String field) {
        JsonNode list = ref.get(field);
        long[] out = new long[list.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = list.get(i).asLong();
        }
        return out;
    }

    private static int[] ints(JsonNode ref, String field) {
        return Arrays.stream(longs(ref, field)).mapToInt(v -> (int) v).toArray();
    }

    @Test
    void referenceFileHoldsVariedTypedSequences() {
        assertThat(references).hasSizeGreaterThanOrEqualTo(64);
        assertThat(references).allMatch(r -> r.get("behaviors").size() == r.get("sequence").size());
        assertThat(references).anyMatch(r -> r.get("sequence").size() == 1);
        assertThat(references).anyMatch(r -> r.get("sequence").size() == artifact.maxLen());
        // the export draws the references' behaviors from view..purchase (codes 1..4)
        for (int code = 1; code <= 4; code++) {
            String c = Integer.toString(code);
            assertThat(references)
                    .as("a line with behavior code %s", c)
                    .anyMatch(r -> r.get("behaviors").toString().matches(".*\\b" + c + "\\b.*"));
        }
    }

    @Test
    void theVerifierAcceptsTheTypedArtifact() {
        ModelVerifier.verify(model, artifact);
    }

    @Test
    void reproducesReferenceTopKOneSequenceAtATimeTrimmedToItsLength() {
        for (JsonNode ref : references) {
            long[] seq = longs(ref, "sequence");
            SequenceScorer.Output out =
                    model.run(seq, longs(ref, "behaviors"), 1, seq.length, false);
            check(ref, out.scores(), 0);
        }
    }

    @Test
    void reproducesReferenceTopKInOneBatchPaddedToMaxLen() {
        int len = artifact.maxLen();
        long[] items = new long[references.size() * len];
        long[] behaviors = new long[items.length];
        for (int r = 0; r < references.size(); r++) {
            long[] seq = longs(references.get(r), "sequence");
            long[] beh = longs(references.get(r), "behaviors");
            System.arraycopy(seq, 0, items, r * len + len - seq.length, seq.length);
            System.arraycopy(beh, 0, behaviors, r * len + len - beh.length, beh.length);
        }
        float[] scores = model.run(items, behaviors, references.size(), len, false).scores();
        for (int r = 0; r < references.size(); r++) {
            check(references.get(r), scores, r * (artifact.numItems() + 1));
        }
    }

    @Test
    void reproducesReferenceAttentionAlone() {
        for (JsonNode ref : references) {
            long[] seq = longs(ref, "sequence");
            float[] attention =
                    model.run(seq, longs(ref, "behaviors"), 1, seq.length, true).attention();
            JsonNode expected = ref.get("attention");
            for (int i = 0; i < expected.size(); i++) {
                assertThat((double) attention[i])
                        .as("attention at %d of %s", i, ref.get("sequence"))
                        .isCloseTo(expected.get(i).asDouble(), Offset.offset(TOLERANCE));
            }
        }
    }

    @Test
    void everyPaddingOfTheBatchScorerReproducesTheReferenceWithBehaviors() {
        int[][] rows = new int[references.size()][];
        int[][] behaviors = new int[references.size()][];
        for (int r = 0; r < rows.length; r++) {
            rows[r] = ints(references.get(r), "sequence");
            behaviors[r] = ints(references.get(r), "behaviors");
        }
        for (BatchScorer.Padding padding : BatchScorer.Padding.values()) {
            BatchScorer scorer = new BatchScorer(model, artifact, padding);
            for (int round = 0; round < 2; round++) { // buffers reused on the second round
                scorer.score(rows, behaviors, rows.length);
                for (int r = 0; r < rows.length; r++) {
                    JsonNode ref = references.get(r);
                    for (int i = 0; i < ref.get("k").asInt(); i++) {
                        int item = ref.get("indices").get(i).asInt();
                        assertThat((double) scorer.scores(r)[scorer.offset(r) + item])
                                .as("%s: row %d, reference item %d", padding, r, i)
                                .isCloseTo(
                                        ref.get("scores").get(i).asDouble(),
                                        Offset.offset(TOLERANCE));
                    }
                }
            }
        }
        assertThat(new BatchScorer(model, artifact, BatchScorer.Padding.BUCKETED).warmUp(4))
                .isPositive();
    }

    @Test
    void theBehaviorsChangeTheScores() {
        // The same items as viewed only: if the second input were ignored, nothing would move.
        JsonNode ref =
                references.stream()
                        .filter(r -> Arrays.stream(ints(r, "behaviors")).anyMatch(b -> b != 1))
                        .findFirst()
                        .orElseThrow();
        long[] seq = longs(ref, "sequence");
        long[] views = new long[seq.length];
        Arrays.fill(views, artifact.behaviorCode(io.seqrec.event.EventType.VIEW));
        float[] typed = model.run(seq, longs(ref, "behaviors"), 1, seq.length, false).scores();
        float[] viewed = model.run(seq, views, 1, seq.length, false).scores();
        double largest = 0;
        for (int i = 1; i < typed.length; i++) {
            largest = Math.max(largest, Math.abs(typed[i] - viewed[i]));
        }
        assertThat(largest).isGreaterThan(100 * TOLERANCE);
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
                    .isCloseTo(expected, Offset.offset(TOLERANCE));
            assertThat(idx[i])
                    .as("rank %d of %s", i, ref.get("sequence"))
                    .isEqualTo(ref.get("indices").get(i).asInt());
        }
    }
}
