package io.seqrec.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.seqrec.TestPaths;
import io.seqrec.event.StableHash;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The job refuses artifacts that break the contract, naming the file and the mismatch. */
class ModelArtifactTest {
    @TempDir Path tmp;

    private Path copyOfDefault() throws IOException {
        return TestPaths.copyOfDefaultModel(tmp.resolve("model"));
    }

    private static void editMetadata(Path dir, java.util.function.Consumer<ObjectNode> edit)
            throws IOException {
        ObjectMapper json = new ObjectMapper();
        ObjectNode meta = (ObjectNode) json.readTree(dir.resolve("metadata.json").toFile());
        edit.accept(meta);
        json.writeValue(dir.resolve("metadata.json").toFile(), meta);
    }

    @Test
    void loadsTheShippedModel() {
        ModelArtifact a = ModelArtifact.load(TestPaths.defaultModel());
        assertThat(a.numItems()).isPositive();
        assertThat(a.itemId(1)).isNotEmpty();
        assertThat(a.indexOf(a.itemId(a.numItems()))).isEqualTo(a.numItems());
        assertThat(a.indexOf("no-such-item")).isZero();
    }

    @Test
    void looksUpEveryItemByItsKey() {
        ModelArtifact a = ModelArtifact.load(TestPaths.defaultModel());
        for (int i = 1; i <= a.numItems(); i++) {
            assertThat(a.itemKey(i)).isEqualTo(StableHash.of(a.itemId(i)));
            assertThat(a.indexOf(a.itemKey(i))).isEqualTo(i);
        }
        assertThat(a.indexOf(StableHash.of("no-such-item"))).isZero();
    }

    @Test
    void refusesMissingDirectory() {
        assertThatThrownBy(() -> ModelArtifact.load(tmp.resolve("absent")))
                .isInstanceOf(ModelContractException.class)
                .hasMessageContaining("does not exist");
    }

    @Test
    void refusesMissingModelFile() throws IOException {
        Path dir = copyOfDefault();
        Files.delete(dir.resolve("model.onnx"));
        assertThatThrownBy(() -> ModelArtifact.load(dir))
                .hasMessageContaining("model.onnx")
                .hasMessageContaining("missing");
    }

    @Test
    void refusesMissingMetadata() throws IOException {
        Path dir = copyOfDefault();
        Files.delete(dir.resolve("metadata.json"));
        assertThatThrownBy(() -> ModelArtifact.load(dir))
                .hasMessageContaining("metadata.json: missing");
    }

    @Test
    void refusesItemCountMismatch() throws IOException {
        Path dir = copyOfDefault();
        List<String> items = Files.readAllLines(dir.resolve("items.txt"));
        Files.write(dir.resolve("items.txt"), items.subList(0, items.size() - 1));
        assertThatThrownBy(() -> ModelArtifact.load(dir))
                .hasMessageContaining("items.txt")
                .hasMessageContaining("has " + (items.size() - 1) + " items")
                .hasMessageContaining("num_items=" + items.size());
    }

    @Test
    void refusesUnknownFormatVersion() throws IOException {
        Path dir = copyOfDefault();
        editMetadata(dir, m -> m.put("format_version", 99));
        assertThatThrownBy(() -> ModelArtifact.load(dir))
                .hasMessageContaining("metadata.json")
                .hasMessageContaining("unknown format_version 99");
    }

    @Test
    void refusesDuplicateItemIds() throws IOException {
        Path dir = copyOfDefault();
        List<String> items =
                new java.util.ArrayList<>(Files.readAllLines(dir.resolve("items.txt")));
        items.set(1, items.get(0));
        Files.write(dir.resolve("items.txt"), items);
        assertThatThrownBy(() -> ModelArtifact.load(dir))
                .hasMessageContaining("items.txt:2")
                .hasMessageContaining("repeats line 1");
    }

    @Test
    void refusesCorruptOnnxFileAtLoad() throws IOException {
        Path dir = copyOfDefault();
        Files.writeString(dir.resolve("model.onnx"), "this is not a protobuf");
        ModelArtifact a = ModelArtifact.load(dir);
        assertThatThrownBy(() -> OnnxSequenceModel.load(a, InferenceOptions.cpu(1)))
                .isInstanceOf(ModelContractException.class)
                .hasMessageContaining("model.onnx");
    }

    @Test
    void refusesGraphWhoseInputNameDiffersFromMetadata() throws IOException {
        Path dir = copyOfDefault();
        editMetadata(dir, m -> ((ObjectNode) m.withArray("inputs").get(0)).put("name", "tokens"));
        ModelArtifact a = ModelArtifact.load(dir);
        assertThatThrownBy(() -> OnnxSequenceModel.load(a, InferenceOptions.cpu(1)))
                .hasMessageContaining("model.onnx")
                .hasMessageContaining("'tokens'");
    }

    @Test
    void aModelWithoutTheAttentionOutputServesWithoutExplanations() throws IOException {
        Path dir = copyOfDefault();
        editMetadata(
                dir,
                m -> {
                    com.fasterxml.jackson.databind.node.ArrayNode outputs = m.withArray("outputs");
                    while (outputs.size() > 1) {
                        outputs.remove(outputs.size() - 1);
                    }
                });
        ModelArtifact a = ModelArtifact.load(dir);
        assertThat(a.hasAttention()).isFalse();
        try (OnnxSequenceModel m = ModelVerifier.load(a, InferenceOptions.cpu(1))) {
            SequenceScorer.Output out = m.run(new long[] {1, 2, 3}, 1, 3, true);
            assertThat(out.attention()).isNull();
            assertThat(out.scores()).hasSize(a.numItems() + 1);
        }
    }

    @Test
    void refusesASecondOutputOtherThanAttention() throws IOException {
        Path dir = copyOfDefault();
        editMetadata(
                dir,
                m -> {
                    com.fasterxml.jackson.databind.node.ArrayNode outputs = m.withArray("outputs");
                    if (outputs.size() == 1) {
                        outputs.add(outputs.get(0).deepCopy());
                    }
                    ((ObjectNode) outputs.get(1)).put("name", "logits");
                });
        assertThatThrownBy(() -> ModelArtifact.load(dir))
                .isInstanceOf(ModelContractException.class)
                .hasMessageContaining("metadata.json")
                .hasMessageContaining("the second output must be {\"name\": \"attention\"");
    }

    @Test
    void refusesGraphWhoseOutputWidthDiffersFromItems() throws IOException {
        Path dir = copyOfDefault();
        List<String> items =
                new java.util.ArrayList<>(Files.readAllLines(dir.resolve("items.txt")));
        items.add("extra-item");
        Files.write(dir.resolve("items.txt"), items);
        int n = items.size();
        editMetadata(
                dir,
                m -> {
                    m.put("num_items", n);
                    m.remove("item_vectors"); // the graph's width is the point here
                    ((com.fasterxml.jackson.databind.node.ArrayNode)
                                    m.withArray("outputs").get(0).get("shape"))
                            .set(1, n + 1);
                });
        ModelArtifact a = ModelArtifact.load(dir);
        assertThatThrownBy(() -> OnnxSequenceModel.load(a, InferenceOptions.cpu(1)))
                .hasMessageContaining("model.onnx")
                .hasMessageContaining("num_items + 1 = " + (n + 1));
    }

    @Test
    void refusesMissingItemsFile() throws IOException {
        Path dir = copyOfDefault();
        Files.delete(dir.resolve("items.txt"));
        assertThatThrownBy(() -> ModelArtifact.load(dir))
                .isInstanceOf(ModelContractException.class)
                .hasMessageContaining("items.txt")
                .hasMessageContaining("cannot read");
    }

    @Test
    void refusesMoreItemsThanMetadataDeclares() throws IOException {
        Path dir = copyOfDefault();
        List<String> items =
                new java.util.ArrayList<>(Files.readAllLines(dir.resolve("items.txt")));
        int declared = items.size();
        items.add("one-too-many");
        Files.write(dir.resolve("items.txt"), items);
        assertThatThrownBy(() -> ModelArtifact.load(dir))
                .hasMessageContaining("items.txt")
                .hasMessageContaining("has " + (declared + 1) + " items")
                .hasMessageContaining("metadata.json says num_items=" + declared);
    }

    @Test
    void refusesEmptyModelFile() throws IOException {
        Path dir = copyOfDefault();
        Files.write(dir.resolve("model.onnx"), new byte[0]);
        assertThatThrownBy(() -> ModelArtifact.load(dir))
                .isInstanceOf(ModelContractException.class)
                .hasMessageContaining("model.onnx: missing or empty");
    }

    @Test
    void refusesTruncatedOnnxFileAtLoad() throws IOException {
        Path dir = copyOfDefault();
        byte[] onnx = Files.readAllBytes(dir.resolve("model.onnx"));
        Files.write(dir.resolve("model.onnx"), java.util.Arrays.copyOf(onnx, onnx.length / 2));
        ModelArtifact a = ModelArtifact.load(dir);
        assertThatThrownBy(() -> OnnxSequenceModel.load(a, InferenceOptions.cpu(1)))
                .isInstanceOf(ModelContractException.class)
                .hasMessageContaining("model.onnx")
                .hasMessageContaining("ONNX Runtime cannot load it");
    }

    @Test
    void refusesMetadataDeclaringAnInputOfWrongRank() throws IOException {
        Path dir = copyOfDefault();
        editMetadata(
                dir,
                m ->
                        ((com.fasterxml.jackson.databind.node.ArrayNode)
                                        m.withArray("inputs").get(0).get("shape"))
                                .add("features"));
        assertThatThrownBy(() -> ModelArtifact.load(dir))
                .isInstanceOf(ModelContractException.class)
                .hasMessageContaining("metadata.json")
                .hasMessageContaining("input item_seq must have shape [batch, seq_len]");
    }

    @Test
    void refusesGraphWhoseInputHasWrongRank() throws IOException {
        Path dir = copyOfDefault();
        Files.write(
                dir.resolve("model.onnx"),
                OnnxGraphs.identity("item_seq", OnnxGraphs.INT64, "batch", "seq_len", "features"));
        ModelArtifact a = ModelArtifact.load(dir);
        assertThatThrownBy(() -> OnnxSequenceModel.load(a, InferenceOptions.cpu(1)))
                .isInstanceOf(ModelContractException.class)
                .hasMessageContaining("model.onnx")
                .hasMessageContaining("input 'item_seq' is a tensor of int64, shape [-1, -1, -1]")
                .hasMessageContaining("expected an int64 tensor [batch, seq_len]");
    }

    @Test
    void refusesGraphWhoseInputIsNotInt64() throws IOException {
        Path dir = copyOfDefault();
        Files.write(
                dir.resolve("model.onnx"),
                OnnxGraphs.identity("item_seq", OnnxGraphs.FLOAT, "batch", "seq_len"));
        ModelArtifact a = ModelArtifact.load(dir);
        assertThatThrownBy(() -> OnnxSequenceModel.load(a, InferenceOptions.cpu(1)))
                .isInstanceOf(ModelContractException.class)
                .hasMessageContaining("model.onnx")
                .hasMessageContaining("input 'item_seq' is a tensor of float, shape [-1, -1]");
    }
}
