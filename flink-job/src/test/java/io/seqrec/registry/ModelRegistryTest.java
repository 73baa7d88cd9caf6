package io.seqrec.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.seqrec.TestPaths;
import io.seqrec.model.ModelArtifact;
import io.seqrec.model.ModelContractException;
import io.seqrec.model.TestArtifacts;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The registry on a {@code file://} directory: publishing, fetching and the traffic pointer. */
class ModelRegistryTest {
    @TempDir Path tmp;
    private Path root;
    private ModelRegistry registry;
    private String defaultVersion;

    @BeforeEach
    void open() {
        root = tmp.resolve("registry");
        registry = ModelRegistry.open(root.toUri().toString());
        defaultVersion = ModelArtifact.load(TestPaths.defaultModel()).modelVersion();
    }

    @Test
    void publishesUnderTheModelVersionAndTheFirstVersionBecomesStable() throws IOException {
        assertThat(registry.versions()).isEmpty();
        assertThat(registry.publish(TestPaths.defaultModel())).isEqualTo(defaultVersion);

        assertThat(registry.versions()).containsExactly(defaultVersion);
        assertThat(registry.pointer())
                .isEqualTo(new RegistryPointer(1, defaultVersion, null, 0, null));
        try (Stream<Path> files = Files.list(root.resolve("versions").resolve(defaultVersion))) {
            List<String> expected =
                    new ArrayList<>(
                            List.of(
                                    "metadata.json",
                                    "items.txt",
                                    "model.onnx",
                                    "reference.jsonl",
                                    "_COMPLETE"));
            for (String optional : List.of("item_vectors.f32", "weights.pt")) {
                if (Files.exists(TestPaths.defaultModel().resolve(optional))) {
                    expected.add(optional);
                }
            }
            assertThat(files.map(p -> p.getFileName().toString()))
                    .containsExactlyInAnyOrderElementsOf(expected);
        }
        assertThat(registry.publish(TestPaths.defaultModel(), "v2")).isEqualTo("v2");
        assertThat(registry.versions()).containsExactly(defaultVersion, "v2");
        assertThat(registry.pointer().revision()).as("a later publish serves nobody").isEqualTo(1);
    }

    @Test
    void fetchCopiesTheVersionByteForByteAndLoadsIt() throws IOException {
        registry.publish(TestPaths.defaultModel(), "v1");
        Path local = tmp.resolve("local/v1");
        ModelArtifact fetched = registry.fetch("v1", local);

        assertThat(fetched.dir()).isEqualTo(local.toAbsolutePath());
        assertThat(fetched.modelVersion()).isEqualTo(defaultVersion);
        for (String file : ModelRegistry.FILES) {
            assertThat(Files.mismatch(local.resolve(file), TestPaths.defaultModel().resolve(file)))
                    .as(file)
                    .isEqualTo(-1L);
        }
    }

    @Test
    void theWeightsForWarmStartsTravelWithAVersionWhenTheArtifactHasThem() throws IOException {
        Path with = TestPaths.copyOfDefaultModel(tmp.resolve("with-weights"));
        Files.write(with.resolve("weights.pt"), new byte[] {1, 2, 3});
        Path without = TestPaths.copyOfDefaultModel(tmp.resolve("without-weights"));
        Files.deleteIfExists(without.resolve("weights.pt"));
        registry.publish(with, "w");
        registry.publish(without, "n");
        registry.fetch("w", tmp.resolve("local/w"));
        registry.fetch("n", tmp.resolve("local/n"));
        assertThat(tmp.resolve("local/w/weights.pt")).hasBinaryContent(new byte[] {1, 2, 3});
        assertThat(tmp.resolve("local/n/weights.pt")).doesNotExist();
        // Changed after publishing: refused like any other file of the version.
        Files.write(root.resolve("versions/w/weights.pt"), new byte[] {9});
        assertThatThrownBy(() -> registry.fetch("w", tmp.resolve("local/w2")))
                .hasMessageContaining("weights.pt");
    }

    @Test
    void aVersionIsInvisibleUntilItsCompleteMarkerIsWritten() throws IOException {
        registry.publish(TestPaths.defaultModel(), "v1");
        // what a reader finds while a publish of v2 has written the files but not yet the marker
        Path partial = TestPaths.copyOfDefaultModel(root.resolve("versions/v2"));

        assertThat(registry.versions()).containsExactly("v1");
        assertThatThrownBy(() -> registry.fetch("v2", tmp.resolve("local")))
                .isInstanceOf(RegistryException.class)
                .hasMessageContaining("version v2 is not in")
                .hasMessageContaining("_COMPLETE");
        assertThatThrownBy(() -> registry.canary("v2", 10))
                .isInstanceOf(RegistryException.class)
                .hasMessageContaining("version v2 is not in");
        assertThatThrownBy(() -> registry.publish(TestPaths.defaultModel(), "v2"))
                .isInstanceOf(RegistryException.class)
                .hasMessageContaining("exists without _COMPLETE")
                .hasMessageContaining("delete it and publish again");
        assertThat(partial.resolve("model.onnx")).exists();
        assertThat(registry.pointer().revision()).isEqualTo(1);
    }

    @Test
    void refusesToPublishAVersionTwice() {
        registry.publish(TestPaths.defaultModel(), "v1");
        assertThatThrownBy(() -> registry.publish(TestPaths.defaultModel(), "v1"))
                .isInstanceOf(RegistryException.class)
                .hasMessageContaining("version v1 exists already");
        assertThat(registry.versions()).containsExactly("v1");
        assertThat(registry.pointer().revision()).isEqualTo(1);
    }

    @Test
    void refusesAnArtifactThatBreaksTheContractLeavingNothing() throws IOException {
        Path dir = TestPaths.copyOfDefaultModel(tmp.resolve("model"));
        List<String> items = Files.readAllLines(dir.resolve("items.txt"));
        Files.write(dir.resolve("items.txt"), items.subList(1, items.size()));

        assertThatThrownBy(() -> registry.publish(dir, "v1"))
                .isInstanceOf(ModelContractException.class)
                .hasMessageContaining("items.txt");
        assertNothingPublished();
    }

    @Test
    void refusesACorruptModelFileLeavingNothing() throws IOException {
        Path dir = TestPaths.copyOfDefaultModel(tmp.resolve("model"));
        byte[] onnx = Files.readAllBytes(dir.resolve("model.onnx"));
        Files.write(dir.resolve("model.onnx"), java.util.Arrays.copyOf(onnx, onnx.length / 2));

        assertThatThrownBy(() -> registry.publish(dir, "v1"))
                .isInstanceOf(ModelContractException.class)
                .hasMessageContaining("model.onnx: ONNX Runtime cannot load it");
        assertNothingPublished();
    }

    @Test
    void refusesAModelThatMissesItsReferenceVectorsLeavingNothing() throws IOException {
        Path dir = TestPaths.copyOfDefaultModel(tmp.resolve("model"));
        TestArtifacts.shiftExpectedScore(dir, 12, 0, 0.001);

        assertThatThrownBy(() -> registry.publish(dir, "v1"))
                .isInstanceOf(ModelContractException.class)
                .hasMessageContaining("reference.jsonl:12: the model does not reproduce");
        assertNothingPublished();
    }

    @Test
    void fetchRefusesAFileChangedAfterPublishing() throws IOException {
        registry.publish(TestPaths.defaultModel(), "v1");
        Path items = root.resolve("versions/v1/items.txt");
        List<String> lines = Files.readAllLines(items);
        lines.set(0, lines.get(0) + "x");
        Files.write(items, lines);

        assertThatThrownBy(() -> registry.fetch("v1", tmp.resolve("local")))
                .isInstanceOf(ModelContractException.class)
                .hasMessageContaining("items.txt: read ")
                .hasMessageContaining("changed after it was published");
    }

    @Test
    void canaryPromoteAndRollbackMoveThePointerOneRevisionAtATime() {
        registry.publish(TestPaths.defaultModel(), "v1");
        registry.publish(TestPaths.defaultModel(), "v2");
        registry.publish(TestPaths.defaultModel(), "v3");

        assertThat(registry.canary("v2", 10))
                .isEqualTo(new RegistryPointer(2, "v1", "v2", 10, null));
        assertThat(registry.canary("v3", 20))
                .as("a new canary replaces the one on trial")
                .isEqualTo(new RegistryPointer(3, "v1", "v3", 20, null));
        assertThat(registry.promote()).isEqualTo(new RegistryPointer(4, "v3", null, 0, "v1"));
        assertThat(registry.rollback())
                .as("without a canary, back to the previous stable version")
                .isEqualTo(new RegistryPointer(5, "v1", null, 0, null));
        assertThatThrownBy(registry::rollback)
                .isInstanceOf(RegistryException.class)
                .hasMessageContaining("nothing to roll back");
        assertThatThrownBy(registry::promote)
                .isInstanceOf(RegistryException.class)
                .hasMessageContaining("no canary to promote");

        registry.canary("v2", 50);
        registry.promote();
        assertThat(registry.canary("v3", 5)).isEqualTo(new RegistryPointer(8, "v2", "v3", 5, "v1"));
        assertThat(registry.rollback())
                .as("with a canary, only the canary goes")
                .isEqualTo(new RegistryPointer(9, "v2", null, 0, "v1"));
        assertThat(registry.pointer()).isEqualTo(new RegistryPointer(9, "v2", null, 0, "v1"));
    }

    @Test
    void refusesPointersNamingVersionsThatAreNotThere() throws IOException {
        registry.publish(TestPaths.defaultModel(), "v1");
        assertThatThrownBy(() -> registry.canary("v9", 10))
                .isInstanceOf(RegistryException.class)
                .hasMessageContaining("version v9 is not in")
                .hasMessageContaining("publish it first");
        assertThatThrownBy(() -> registry.canary("v1", 10))
                .isInstanceOf(RegistryException.class)
                .hasMessageContaining("v1 is the stable version already");
        assertThatThrownBy(() -> registry.canary("../v1", 10))
                .isInstanceOf(RegistryException.class)
                .hasMessageContaining("is not a version name");

        registry.publish(TestPaths.defaultModel(), "v2");
        assertThatThrownBy(() -> registry.canary("v2", 0))
                .isInstanceOf(RegistryException.class)
                .hasMessageContaining("1..100");
        registry.canary("v2", 10);
        // the canary's files vanish from the store: promoting it would serve nothing
        deleteRecursively(root.resolve("versions/v2"));
        assertThatThrownBy(registry::promote)
                .isInstanceOf(RegistryException.class)
                .hasMessageContaining("version v2 is not in");
        assertThat(registry.pointer().revision()).isEqualTo(2);
        try (Stream<Path> files = Files.list(root)) {
            assertThat(files.map(p -> p.getFileName().toString()))
                    .as("no temporary pointer files left behind")
                    .containsExactlyInAnyOrder("pointer.json", "versions");
        }
    }

    @Test
    void readingThePointerOfAnEmptyOrDamagedRegistryFailsClearly() throws IOException {
        assertThatThrownBy(registry::pointer)
                .isInstanceOf(RegistryException.class)
                .hasMessageContaining("pointer.json: missing: nothing was published to");
        Files.createDirectories(root);
        Files.writeString(root.resolve("pointer.json"), "{\"format_version\": 1, \"stable\": 3}");
        assertThatThrownBy(registry::pointer)
                .isInstanceOf(RegistryException.class)
                .hasMessageContaining("pointer.json: not a valid pointer: revision missing");
    }

    @Test
    void aPlainPathOpensTheSameRegistryAsItsFileUri() {
        registry.publish(TestPaths.defaultModel(), "v1");
        assertThat(ModelRegistry.open(root.toString()).pointer()).isEqualTo(registry.pointer());
    }

    private void assertNothingPublished() {
        assertThat(registry.versions()).isEmpty();
        assertThat(root.resolve("versions/v1")).doesNotExist();
        assertThat(root.resolve("pointer.json")).doesNotExist();
    }

    private static void deleteRecursively(Path dir) throws IOException {
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
