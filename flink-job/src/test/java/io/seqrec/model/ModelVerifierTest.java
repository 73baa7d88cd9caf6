package io.seqrec.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import io.seqrec.TestPaths;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A model is served only if it reproduces its artifact's reference vectors. */
class ModelVerifierTest {
    @TempDir Path tmp;

    @Test
    void acceptsTheShippedModel() {
        ModelArtifact artifact = ModelArtifact.load(TestPaths.defaultModel());
        try (OnnxSequenceModel model = ModelVerifier.load(artifact, InferenceOptions.cpu(1))) {
            assertThat(model.artifact()).isSameAs(artifact);
        }
    }

    @Test
    void refusesAModelThatMissesOneReferenceScoreNamingTheLine() throws IOException {
        Path dir = TestPaths.copyOfDefaultModel(tmp.resolve("model"));
        TestArtifacts.shiftExpectedScore(dir, 7, 3, 0.01);
        ModelArtifact artifact = ModelArtifact.load(dir);
        assertThatThrownBy(() -> ModelVerifier.load(artifact, InferenceOptions.cpu(1)))
                .isInstanceOf(ModelContractException.class)
                .hasMessageContaining("reference.jsonl:7: the model does not reproduce")
                .hasMessageContaining("tolerance 1.0E-4");
    }

    @Test
    void refusesAModelWhereAnotherItemOutranksTheReferenceTopK() {
        ModelArtifact artifact = ModelArtifact.load(TestPaths.defaultModel());
        try (OnnxSequenceModel model = OnnxSequenceModel.load(artifact, InferenceOptions.cpu(1))) {
            SequenceScorer favoursOneItem =
                    new SequenceScorer() {
                        @Override
                        public float[] score(long[] input, int batch, int seqLen) {
                            float[] scores = model.score(input, batch, seqLen);
                            for (int r = 0; r < batch; r++) {
                                scores[r * (artifact.numItems() + 1) + 1] = 1e6f;
                            }
                            return scores;
                        }

                        @Override
                        public void close() {}
                    };
            assertThatThrownBy(() -> ModelVerifier.verify(favoursOneItem, artifact))
                    .isInstanceOf(ModelContractException.class)
                    .hasMessageContaining("reference.jsonl:1:")
                    .hasMessageContaining("rank 1 is item index 1 scoring 1000000.0");
        }
    }

    @Test
    void refusesAnArtifactWithoutReferenceVectors() throws IOException {
        Path dir = TestPaths.copyOfDefaultModel(tmp.resolve("model"));
        Files.delete(dir.resolve(ModelVerifier.REFERENCE_FILE));
        ModelArtifact artifact = ModelArtifact.load(dir);
        assertThatThrownBy(() -> ModelVerifier.load(artifact, InferenceOptions.cpu(1)))
                .isInstanceOf(ModelContractException.class)
                .hasMessageContaining("reference.jsonl: missing or unreadable")
                .hasMessageContaining("cannot be verified");
    }

    @Test
    void refusesAReferenceNamingAnItemOutsideTheCatalog() throws IOException {
        Path dir = TestPaths.copyOfDefaultModel(tmp.resolve("model"));
        ModelArtifact before = ModelArtifact.load(dir);
        TestArtifacts.editReference(
                dir, 2, ref -> ((ArrayNode) ref.get("sequence")).add(before.numItems() + 1));
        ModelArtifact artifact = ModelArtifact.load(dir);
        assertThatThrownBy(() -> ModelVerifier.load(artifact, InferenceOptions.cpu(1)))
                .isInstanceOf(ModelContractException.class)
                .hasMessageContaining(
                        "reference.jsonl:2: sequence: "
                                + (before.numItems() + 1)
                                + " is not an item index");
    }

    @Test
    void refusesItemVectorsThatNameAnotherBecauseThanPyTorch() throws IOException {
        Path dir = TestPaths.copyOfDefaultModel(tmp.resolve("model"));
        List<String> lines = Files.readAllLines(dir.resolve(ModelVerifier.REFERENCE_FILE));
        ObjectMapper json = new ObjectMapper();
        int line = 0;
        int other = -1;
        for (int i = 0; i < lines.size() && other < 0; i++) {
            JsonNode ref = json.readTree(lines.get(i));
            JsonNode seq = ref.get("sequence");
            int named = ref.get("because_similar_position").asInt();
            for (int p = 0; p < seq.size(); p++) {
                if (seq.get(p).asInt() != seq.get(named).asInt()) {
                    line = i + 1;
                    other = p;
                    break;
                }
            }
        }
        int position = other;
        TestArtifacts.editReference(
                dir, line, ref -> ref.put("because_similar_position", position));
        ModelArtifact artifact = ModelArtifact.load(dir);
        assertThatThrownBy(() -> ModelVerifier.load(artifact, InferenceOptions.cpu(1)))
                .isInstanceOf(ModelContractException.class)
                .hasMessageContaining(
                        "reference.jsonl:" + line + ": the item vectors name position")
                .hasMessageContaining("PyTorch named " + position);
    }
}
