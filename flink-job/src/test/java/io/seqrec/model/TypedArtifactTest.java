package io.seqrec.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.seqrec.TestPaths;
import io.seqrec.event.EventType;
import java.io.IOException;
import java.nio.file.Path;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The artifact contract's format version 2 ({@code steps}: repeat rule, behaviors input, behavior
 * codes, target behavior): what the job reads from it, and each way a {@code metadata.json}, graph
 * or reference file can break it, refused with a message naming the file and the field. Format
 * version 1 reads as it always did ({@link ModelArtifactTest}).
 */
class TypedArtifactTest {
    @TempDir Path tmp;

    private static void editMetadata(Path dir, Consumer<ObjectNode> edit) throws IOException {
        ObjectMapper json = new ObjectMapper();
        Path file = dir.resolve(ModelArtifact.METADATA_FILE);
        ObjectNode meta = (ObjectNode) json.readTree(file.toFile());
        edit.accept(meta);
        json.writeValue(file.toFile(), meta);
    }

    private static ObjectNode steps(ObjectNode meta) {
        return (ObjectNode) meta.get("steps");
    }

    @Test
    void readsTheStepsOfATypedArtifact() {
        ModelArtifact a = ModelArtifact.load(TestPaths.typedModel());
        assertThat(a.formatVersion()).isEqualTo(2);
        assertThat(a.repeatRule()).isEqualTo(ModelArtifact.RepeatRule.STRONGEST);
        assertThat(a.takesBehaviors()).isTrue();
        assertThat(a.inputName()).isEqualTo("item_seq");
        assertThat(a.behaviorsInputName()).isEqualTo("behaviors");
        assertThat(a.targetBehavior()).isEqualTo("purchase");
        assertThat(a.behaviorCode(EventType.VIEW)).isEqualTo(1);
        assertThat(a.behaviorCode(EventType.CLICK)).isEqualTo(2);
        assertThat(a.behaviorCode(EventType.CART)).isEqualTo(3);
        assertThat(a.behaviorCode(EventType.PURCHASE)).isEqualTo(4);
        assertThat(a.behaviorCode(EventType.RATE)).isEqualTo(5);
        assertThat(a.describeSteps())
                .isEqualTo(
                        "steps by repeat rule strongest, behaviors input 'behaviors', target"
                                + " behavior purchase");
    }

    @Test
    void formatVersion1IsTheFirstRuleWithoutBehaviors() {
        ModelArtifact a = ModelArtifact.load(TestPaths.defaultModel());
        assertThat(a.formatVersion()).isEqualTo(1);
        assertThat(a.repeatRule()).isEqualTo(ModelArtifact.RepeatRule.FIRST);
        assertThat(a.takesBehaviors()).isFalse();
        assertThat(a.behaviorsInputName()).isNull();
        assertThat(a.targetBehavior()).isNull();
        assertThat(a.describeSteps()).isEqualTo("steps by repeat rule first, items only");
        assertThatThrownBy(() -> a.behaviorCode(EventType.VIEW))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("takes no behaviors");
    }

    @Test
    void codesComeFromTheMetadataNotFromTheEnumsOrder() throws IOException {
        Path dir = TestPaths.copyOfTypedModel(tmp.resolve("model"));
        editMetadata(
                dir,
                m ->
                        steps(m).putObject("behavior_codes")
                                .put("rate", 1)
                                .put("purchase", 2)
                                .put("cart", 3)
                                .put("click", 4)
                                .put("view", 5)
                                .put("wishlist", 6)); // a type the job never reads: harmless
        ModelArtifact a = ModelArtifact.load(dir);
        assertThat(a.behaviorCode(EventType.VIEW)).isEqualTo(5);
        assertThat(a.behaviorCode(EventType.RATE)).isEqualTo(1);
    }

    /** An edit of the typed artifact's metadata and the words its refusal must contain. */
    static Stream<Arguments> brokenSteps() {
        return Stream.of(
                Arguments.of(
                        "format 3",
                        (Consumer<ObjectNode>) m -> m.put("format_version", 3),
                        "unknown format_version 3 (this job reads format_version 1 and 2)"),
                Arguments.of(
                        "no steps",
                        (Consumer<ObjectNode>) m -> m.remove("steps"),
                        "steps missing or not an object"),
                Arguments.of(
                        "repeats all",
                        (Consumer<ObjectNode>) m -> steps(m).put("repeats", "all"),
                        "steps.repeats is \"all\" (every event a step), but this job keeps"
                                + " consecutive events of a user on one item as one step; retrain"
                                + " with --repeats first or strongest"),
                Arguments.of(
                        "unknown rule",
                        (Consumer<ObjectNode>) m -> steps(m).put("repeats", "last"),
                        "steps.repeats must be \"first\", \"strongest\" or \"all\", got \"last\""),
                Arguments.of(
                        "rule missing",
                        (Consumer<ObjectNode>) m -> steps(m).remove("repeats"),
                        "steps.repeats must be"),
                Arguments.of(
                        "codes missing a type",
                        (Consumer<ObjectNode>)
                                m -> ((ObjectNode) steps(m).get("behavior_codes")).remove("cart"),
                        "steps.behavior_codes has no code for 'cart' (it must map every event type"
                                + " the job reads: view, click, cart, purchase, rate)"),
                Arguments.of(
                        "code 0, the padding",
                        (Consumer<ObjectNode>)
                                m -> ((ObjectNode) steps(m).get("behavior_codes")).put("view", 0),
                        "steps.behavior_codes.view must be a positive integer (0 is the padding),"
                                + " got 0"),
                Arguments.of(
                        "code not a number",
                        (Consumer<ObjectNode>)
                                m ->
                                        ((ObjectNode) steps(m).get("behavior_codes"))
                                                .put("click", "2"),
                        "steps.behavior_codes.click must be a positive integer"),
                Arguments.of(
                        "codes missing",
                        (Consumer<ObjectNode>) m -> steps(m).remove("behavior_codes"),
                        "steps.behavior_codes must map every event type"),
                Arguments.of(
                        "behaviors input not listed",
                        (Consumer<ObjectNode>) m -> steps(m).put("behaviors_input", "types"),
                        "steps.behaviors_input names 'types', which inputs does not list"),
                Arguments.of(
                        "behaviors input declared but only one input",
                        (Consumer<ObjectNode>) m -> m.withArray("inputs").remove(1),
                        "inputs must list two tensors, the items and steps.behaviors_input"
                                + " 'behaviors'"),
                Arguments.of(
                        "behaviors input not a name",
                        (Consumer<ObjectNode>) m -> steps(m).put("behaviors_input", 2),
                        "steps.behaviors_input must be the name of an input or null, got 2"),
                Arguments.of(
                        "behaviors input of floats",
                        (Consumer<ObjectNode>)
                                m ->
                                        ((ObjectNode) m.withArray("inputs").get(1))
                                                .put("dtype", "float32"),
                        "input behaviors must be int64"),
                Arguments.of(
                        "behaviors input of rank 3",
                        (Consumer<ObjectNode>)
                                m ->
                                        ((ArrayNode) m.withArray("inputs").get(1).get("shape"))
                                                .add("features"),
                        "input behaviors must have shape [batch, seq_len]"),
                Arguments.of(
                        "two inputs without a behaviors input",
                        (Consumer<ObjectNode>) m -> steps(m).putNull("behaviors_input"),
                        "inputs must list exactly one tensor (the items; steps declares no"
                                + " behaviors_input)"),
                Arguments.of(
                        "unknown target behavior",
                        (Consumer<ObjectNode>) m -> steps(m).put("target_behavior", "wishlist"),
                        "steps.target_behavior must be null, \"any\" or an event type (view,"
                                + " click, cart, purchase, rate), got \"wishlist\""));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("brokenSteps")
    void refusesBrokenStepsNamingTheFileAndTheField(
            String name, Consumer<ObjectNode> edit, String expected) throws IOException {
        Path dir = TestPaths.copyOfTypedModel(tmp.resolve("model"));
        editMetadata(dir, edit);
        assertThatThrownBy(() -> ModelArtifact.load(dir))
                .isInstanceOf(ModelContractException.class)
                .hasMessageContaining(dir.resolve(ModelArtifact.METADATA_FILE).toString())
                .hasMessageContaining(expected);
    }

    @Test
    void refusesAGraphWithBehaviorsWhoseMetadataDeclaresNone() throws IOException {
        Path dir = TestPaths.copyOfTypedModel(tmp.resolve("model"));
        editMetadata(
                dir,
                m -> {
                    steps(m).putNull("behaviors_input");
                    m.withArray("inputs").remove(1);
                });
        ModelArtifact a = ModelArtifact.load(dir);
        assertThat(a.takesBehaviors()).isFalse();
        assertThatThrownBy(() -> OnnxSequenceModel.load(a, InferenceOptions.cpu(1)))
                .isInstanceOf(ModelContractException.class)
                .hasMessageContaining("model.onnx: graph inputs [item_seq, behaviors]")
                .hasMessageContaining("do not match metadata.json input 'item_seq'");
    }

    @Test
    void refusesAGraphWithoutTheBehaviorsInputTheMetadataDeclares() throws IOException {
        Path dir = TestPaths.copyOfDefaultModel(tmp.resolve("model"));
        editMetadata(
                dir,
                m -> {
                    m.put("format_version", 2);
                    m.withArray("inputs").add(m.withArray("inputs").get(0).deepCopy());
                    ((ObjectNode) m.withArray("inputs").get(1)).put("name", "behaviors");
                    m.set(
                            "steps",
                            new ObjectMapper()
                                    .createObjectNode()
                                    .put("repeats", "strongest")
                                    .put("behaviors_input", "behaviors")
                                    .putNull("target_behavior"));
                    steps(m).putObject("behavior_codes")
                            .put("view", 1)
                            .put("click", 2)
                            .put("cart", 3)
                            .put("purchase", 4)
                            .put("rate", 5);
                });
        ModelArtifact a = ModelArtifact.load(dir);
        assertThatThrownBy(() -> OnnxSequenceModel.load(a, InferenceOptions.cpu(1)))
                .isInstanceOf(ModelContractException.class)
                .hasMessageContaining("model.onnx: graph inputs [item_seq]")
                .hasMessageContaining("do not match metadata.json inputs [item_seq, behaviors]");
    }

    @Test
    void aFormat2ArtifactWithoutBehaviorsServesItemsAsFormat1Does() throws IOException {
        Path dir = TestPaths.copyOfDefaultModel(tmp.resolve("model"));
        editMetadata(
                dir,
                m -> {
                    m.put("format_version", 2);
                    m.set(
                            "steps",
                            new ObjectMapper()
                                    .createObjectNode()
                                    .put("repeats", "strongest")
                                    .putNull("behaviors_input")
                                    .putNull("target_behavior"));
                });
        ModelArtifact a = ModelArtifact.load(dir);
        assertThat(a.repeatRule()).isEqualTo(ModelArtifact.RepeatRule.STRONGEST);
        assertThat(a.takesBehaviors()).isFalse();
        try (OnnxSequenceModel m = ModelVerifier.load(a, InferenceOptions.cpu(1))) {
            assertThat(m.score(new long[] {1, 2}, 1, 2)).hasSize(a.numItems() + 1);
        }
    }

    @Test
    void theModelRefusesACallWithoutTheBehaviorsItTakes() {
        ModelArtifact a = ModelArtifact.load(TestPaths.typedModel());
        try (OnnxSequenceModel m = OnnxSequenceModel.load(a, InferenceOptions.cpu(1))) {
            assertThatThrownBy(() -> m.score(new long[] {1, 2}, 1, 2))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("takes each step's behavior ('behaviors'), none given");
            BatchScorer scorer = new BatchScorer(m, a, BatchScorer.Padding.BUCKETED);
            assertThatThrownBy(() -> scorer.score(new int[][] {{1, 2}}, 1))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("the model takes each step's behavior; none given");
        }
    }

    @Test
    void refusesATypedReferenceLineWithoutBehaviors() throws IOException {
        Path dir = TestPaths.copyOfTypedModel(tmp.resolve("model"));
        TestArtifacts.editReference(dir, 3, ref -> ref.remove("behaviors"));
        ModelArtifact a = ModelArtifact.load(dir);
        assertThatThrownBy(() -> ModelVerifier.load(a, InferenceOptions.cpu(1)))
                .isInstanceOf(ModelContractException.class)
                .hasMessageContaining("reference.jsonl:3: the model takes each step's behavior")
                .hasMessageContaining("each line needs 'behaviors': one code per position");
    }

    @Test
    void refusesATypedReferenceLineWithACodeTheMetadataDoesNotDeclare() throws IOException {
        Path dir = TestPaths.copyOfTypedModel(tmp.resolve("model"));
        TestArtifacts.editReference(dir, 2, ref -> ((ArrayNode) ref.get("behaviors")).set(0, 9));
        ModelArtifact a = ModelArtifact.load(dir);
        assertThatThrownBy(() -> ModelVerifier.load(a, InferenceOptions.cpu(1)))
                .isInstanceOf(ModelContractException.class)
                .hasMessageContaining(
                        "reference.jsonl:2: behaviors: 9 is not a code of"
                                + " steps.behavior_codes [1, 2, 3, 4, 5]");
    }

    @Test
    void refusesATypedModelFedOtherBehaviorsThanItsReference() throws IOException {
        // Line 1's behaviors, all changed: the model's scores move, so the check must see them.
        Path dir = TestPaths.copyOfTypedModel(tmp.resolve("model"));
        TestArtifacts.editReference(
                dir,
                1,
                ref -> {
                    ArrayNode behaviors = (ArrayNode) ref.get("behaviors");
                    for (int i = 0; i < behaviors.size(); i++) {
                        behaviors.set(i, behaviors.get(i).asInt() == 1 ? 4 : 1);
                    }
                });
        ModelArtifact a = ModelArtifact.load(dir);
        assertThatThrownBy(() -> ModelVerifier.load(a, InferenceOptions.cpu(1)))
                .isInstanceOf(ModelContractException.class)
                .hasMessageContaining("reference.jsonl:1: the model does not reproduce");
    }
}
