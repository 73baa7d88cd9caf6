package io.seqrec.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.seqrec.TestPaths;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The unit item vectors that name a list's {@code because}: reading, similarity, ties. */
class ItemVectorsTest {
    @TempDir Path tmp;

    /** An artifact of three 2-d items (a graph is not needed to read vectors). */
    private Path tinyArtifact(float[]... vectors) throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("tiny"));
        int n = vectors.length;
        Files.writeString(
                dir.resolve("metadata.json"),
                """
                {"format_version": 1, "model_version": "tiny-1", "max_len": 4, "num_items": %d,
                 "inputs": [{"name": "item_seq", "dtype": "int64", "shape": ["batch", "seq_len"]}],
                 "outputs": [{"name": "scores", "dtype": "float32", "shape": ["batch", %d]}],
                 "item_vectors": {"file": "item_vectors.f32", "dtype": "float32",
                                  "byte_order": "little", "shape": [%d, 2], "normalized": true},
                 "padding": {"index": 0, "side": "left"}}
                """
                        .formatted(n, n + 1, n));
        StringBuilder items = new StringBuilder();
        for (int i = 1; i <= n; i++) {
            items.append("item-").append(i).append('\n');
        }
        Files.writeString(dir.resolve("items.txt"), items);
        Files.writeString(dir.resolve("model.onnx"), "not read by these tests");
        ByteBuffer bytes = ByteBuffer.allocate(4 * 2 * n).order(ByteOrder.LITTLE_ENDIAN);
        for (float[] v : vectors) {
            bytes.putFloat(v[0]).putFloat(v[1]);
        }
        Files.write(dir.resolve(ModelArtifact.ITEM_VECTORS_FILE), bytes.array());
        return dir;
    }

    private ItemVectors vectors(float[]... rows) throws IOException {
        return ItemVectors.load(ModelArtifact.load(tinyArtifact(rows)));
    }

    @Test
    void namesTheMostSimilarHistoryItemTheLatestOfEquals() throws IOException {
        ItemVectors v =
                vectors(
                        new float[] {1, 0},
                        new float[] {0, 1},
                        new float[] {0.6f, 0.8f},
                        new float[] {1, 0});
        assertThat(v.similarity(1, 3)).isCloseTo(0.6, within(1e-7));
        assertThat(v.similarity(2, 3)).isCloseTo(0.8, within(1e-7));
        assertThat(v.similarity(1, 2)).isZero();
        // history [2, 3], recommended 1: item 3 (0.6) beats item 2 (0.0)
        assertThat(v.mostSimilarPosition(new int[] {2, 3}, 0, 2, 1)).isEqualTo(1);
        // items 1 and 4 are equally similar to 1: the latest
        assertThat(v.mostSimilarPosition(new int[] {1, 3, 4}, 0, 3, 1)).isEqualTo(2);
        assertThat(v.mostSimilarPosition(new long[] {4, 2, 1}, 1)).isEqualTo(2);
        // only within the range; nothing for an empty range or a non-item
        assertThat(v.mostSimilarPosition(new int[] {1, 3, 4}, 1, 2, 1)).isEqualTo(1);
        assertThat(v.mostSimilarPosition(new int[] {1, 3}, 0, 0, 1)).isEqualTo(-1);
        assertThat(v.mostSimilarPosition(new int[] {1, 3}, 0, 2, 0)).isEqualTo(-1);
        assertThat(v.mostSimilarPosition(new int[] {1, 3}, 0, 2, 5)).isEqualTo(-1);
    }

    @Test
    void listDiversityIsOneMinusTheMeanPairwiseCosineOfTheKnownItems() throws IOException {
        ItemVectors v = vectors(new float[] {1, 0}, new float[] {0, 1}, new float[] {0.6f, 0.8f});
        // pairs (1,2) 0, (1,3) 0.6, (2,3) 0.8: mean 1.4 / 3
        assertThat(v.listDiversity(new int[] {1, 2, 3})).isCloseTo(1 - 1.4 / 3, within(1e-7));
        // an unknown item (0) is left out: (1,3) only
        assertThat(v.listDiversity(new int[] {1, 0, 3})).isCloseTo(0.4, within(1e-7));
        assertThat(v.listDiversity(new int[] {2, 0})).isNaN();
        assertThat(v.listDiversity(new int[0])).isNaN();
    }

    @Test
    void theShippedModelsVectorsAreUnitLength() {
        ModelArtifact artifact = ModelArtifact.load(TestPaths.defaultModel());
        assertThat(artifact.itemVectorsDim()).isEqualTo(64);
        ItemVectors v = ItemVectors.load(artifact);
        for (int i = 1; i <= artifact.numItems(); i++) {
            assertThat(v.similarity(i, i)).as("item %d", i).isCloseTo(1.0, within(1e-5));
        }
    }

    @Test
    void refusesAFileOfAnotherSize() throws IOException {
        Path dir = tinyArtifact(new float[] {1, 0}, new float[] {0, 1});
        Files.write(dir.resolve(ModelArtifact.ITEM_VECTORS_FILE), new byte[12]);
        assertThatThrownBy(() -> ModelArtifact.load(dir))
                .isInstanceOf(ModelContractException.class)
                .hasMessageContaining("item_vectors.f32: missing or not 16 bytes (2 items of 2");
    }

    @Test
    void refusesADeclarationOtherThanTheContract() throws IOException {
        Path dir = tinyArtifact(new float[] {1, 0}, new float[] {0, 1});
        Path metadata = dir.resolve("metadata.json");
        Files.writeString(metadata, Files.readString(metadata).replace("\"little\"", "\"big\""));
        assertThatThrownBy(() -> ModelArtifact.load(dir))
                .isInstanceOf(ModelContractException.class)
                .hasMessageContaining("item_vectors must be {\"file\": \"item_vectors.f32\"");
    }

    @Test
    void anArtifactWithoutVectorsHasNone() throws IOException {
        Path dir = tinyArtifact(new float[] {1, 0});
        Path metadata = dir.resolve("metadata.json");
        String text = Files.readString(metadata);
        Files.writeString(
                metadata,
                text.substring(0, text.indexOf("\"item_vectors\""))
                        + text.substring(text.indexOf("\"padding\"")));
        Files.delete(dir.resolve(ModelArtifact.ITEM_VECTORS_FILE));
        ModelArtifact artifact = ModelArtifact.load(dir);
        assertThat(artifact.hasItemVectors()).isFalse();
        assertThatThrownBy(() -> ItemVectors.load(artifact))
                .isInstanceOf(ModelContractException.class)
                .hasMessageContaining("declares no item_vectors");
    }
}
