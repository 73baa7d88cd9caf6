package io.seqrec.model;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.seqrec.TestPaths;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Every {@link BatchScorer.Padding} gives each row the scores PyTorch wrote to reference.jsonl,
 * whatever the mix of lengths in the batch; bucketing splits a batch of very different lengths.
 */
class BatchScorerTest {
    private static ModelArtifact artifact;
    private static OnnxSequenceModel model;
    private static List<JsonNode> references;
    private static int[][] rows;

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
        rows = new int[references.size()][];
        for (int r = 0; r < rows.length; r++) {
            JsonNode s = references.get(r).get("sequence");
            rows[r] = new int[s.size()];
            for (int i = 0; i < s.size(); i++) {
                rows[r][i] = s.get(i).asInt();
            }
        }
    }

    @AfterAll
    static void close() {
        model.close();
    }

    @Test
    void everyPaddingReproducesTheReferenceScoresOfEveryRow() {
        for (BatchScorer.Padding padding : BatchScorer.Padding.values()) {
            BatchScorer scorer = new BatchScorer(model, artifact, padding);
            for (int round = 0; round < 2; round++) { // buffers reused on the second round
                scorer.score(rows, rows.length);
                for (int r = 0; r < rows.length; r++) {
                    JsonNode ref = references.get(r);
                    for (int i = 0; i < ref.get("k").asInt(); i++) {
                        int item = ref.get("indices").get(i).asInt();
                        assertThat((double) scorer.scores(r)[scorer.offset(r) + item])
                                .as("%s: row %d, reference item %d", padding, r, i)
                                .isCloseTo(
                                        ref.get("scores").get(i).asDouble(), Offset.offset(1e-4));
                    }
                }
            }
        }
    }

    @Test
    void bucketingSplitsMixedLengthsAndKeepsUniformBatchesWhole() {
        BatchScorer scorer = new BatchScorer(model, artifact, BatchScorer.Padding.BUCKETED);
        int[][] mixed = new int[32][];
        for (int r = 0; r < mixed.length; r++) {
            mixed[r] = r < 28 ? new int[] {1, 2} : new int[artifact.maxLen()];
            java.util.Arrays.fill(mixed[r], 3);
        }
        scorer.score(mixed, mixed.length);
        assertThat(scorer.calls()).isEqualTo(2);

        int[][] uniform = new int[32][];
        java.util.Arrays.fill(uniform, new int[] {4, 5, 6});
        scorer.score(uniform, uniform.length);
        assertThat(scorer.calls()).isEqualTo(1);

        BatchScorer longest = new BatchScorer(model, artifact, BatchScorer.Padding.LONGEST);
        longest.score(mixed, mixed.length);
        assertThat(longest.calls()).isEqualTo(1);
    }
}
