package io.seqrec.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.seqrec.event.EventType;
import io.seqrec.event.StableHash;
import java.io.IOException;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A model artifact directory as written by {@code model/} ({@code seqrec_model export}), checked
 * against the contract the job relies on:
 *
 * <ul>
 *   <li>{@code metadata.json}: {@code format_version} 1 or 2, {@code model_version}, {@code
 *       max_len}, {@code num_items}, one int64 input {@code [batch, seq_len]} of item indices (a
 *       second one with format version 2, see below) and one float32 output {@code [batch,
 *       num_items + 1]} (column 0 is padding), padding index 0 on the left; optionally a second
 *       float32 output {@value #ATTENTION_OUTPUT} {@code [batch, seq_len]}: the last block's
 *       attention of the last position over the input positions (heads averaged), which names the
 *       history item behind a list ({@code because}). Models exported before it have one output and
 *       serve without explanations;
 *   <li>{@code items.txt}: exactly {@code num_items} lines, line i = external id of index i, unique
 *       (and so are their item keys, {@link StableHash} of the id);
 *   <li>{@code model.onnx}: present and non-empty (its graph is checked when it is loaded);
 *   <li>optionally {@value #ITEM_VECTORS_FILE}, declared in {@code metadata.json} as {@code
 *       "item_vectors": {"file": "item_vectors.f32", "dtype": "float32", "byte_order": "little",
 *       "shape": [num_items, hidden], "normalized": true}} and of exactly that size: the item
 *       embeddings scaled to unit length ({@link ItemVectors}), which name the history item behind
 *       a list. Without them, explanations come from the attention output, if any;
 *   <li>with {@code format_version} 2, {@code steps}: how the input's steps are built from a user's
 *       events, {@code {"repeats": "first"|"strongest", "behaviors_input": NAME or null,
 *       "behavior_codes": {"view": 1, ...}, "target_behavior": ...}}. {@code repeats} is the rule
 *       for consecutive events of a user on one item ({@link RepeatRule}); {@code "all"} (every
 *       event a step) is refused, because users' state keeps such a run as one step. With {@code
 *       behaviors_input}, {@code inputs} lists a second int64 input {@code [batch, seq_len]} of
 *       that name, each step's behavior by {@code behavior_codes} (which must give every {@link
 *       EventType} a code above 0, the padding), aligned with the items and padded alike. {@code
 *       target_behavior} (null, {@code "any"} or an event type) is what the graph was exported to
 *       predict; the job only reports it. Format version 1 is {@code "repeats": "first"} without
 *       behaviors.
 * </ul>
 *
 * Anything else is refused with a {@link ModelContractException} naming the file and the problem.
 *
 * <p>Users' histories name items by key, not by this model's indices, so that any model reads them;
 * {@link #indexOf(long)} translates a key into this model's index through a table built once, when
 * the artifact is loaded.
 */
public final class ModelArtifact implements Serializable {
    private static final long serialVersionUID = 1L;

    /** One input, the items; a run of events on one item is one step with its first behavior. */
    public static final int FORMAT_VERSION_ITEMS = 1;

    /** Declares its {@code steps}: the repeat rule, and possibly a behaviors input. */
    public static final int FORMAT_VERSION_STEPS = 2;

    public static final String METADATA_FILE = "metadata.json";
    public static final String ITEMS_FILE = "items.txt";
    public static final String MODEL_FILE = "model.onnx";

    /** The optional file of unit-length item embeddings ({@link ItemVectors}). */
    public static final String ITEM_VECTORS_FILE = "item_vectors.f32";

    /** The name of the optional second output. */
    public static final String ATTENTION_OUTPUT = "attention";

    /**
     * What consecutive events of a user on one item (a view, a click and a cart of one product)
     * become in the model's input: always one step (the rule {@code "all"}, every event a step, is
     * refused); the rules differ in the behavior that step carries.
     */
    public enum RepeatRule {
        /** The behavior of the run's first event (format version 1). */
        FIRST,
        /**
         * The strongest behavior of the run: view &lt; click &lt; cart &lt; purchase, a rating
         * ranking with a purchase.
         */
        STRONGEST;

        /** The name in {@code metadata.json}. */
        public String wireName() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    private final Path dir;
    private final int formatVersion;
    private final String modelVersion;
    private final int maxLen;
    private final int numItems;
    private final String inputName;
    private final String outputName;
    private final boolean hasAttention;
    private final int itemVectorsDim;
    private final Steps steps;
    private final String[] itemIds;
    private final long[] itemKeys;
    private final LongIntMap indexByKey;

    private ModelArtifact(
            Path dir,
            int formatVersion,
            String modelVersion,
            int maxLen,
            int numItems,
            String inputName,
            String outputName,
            boolean hasAttention,
            int itemVectorsDim,
            Steps steps,
            Items items) {
        this.dir = dir;
        this.formatVersion = formatVersion;
        this.modelVersion = modelVersion;
        this.maxLen = maxLen;
        this.numItems = numItems;
        this.inputName = inputName;
        this.outputName = outputName;
        this.hasAttention = hasAttention;
        this.itemVectorsDim = itemVectorsDim;
        this.steps = steps;
        this.itemIds = items.ids();
        this.itemKeys = items.keys();
        this.indexByKey = items.indexByKey();
    }

    /** {@code items.txt} read: ids and keys by index (index 0 unused), and index by key. */
    private record Items(String[] ids, long[] keys, LongIntMap indexByKey) {}

    /**
     * {@code steps} of {@code metadata.json} read: the repeat rule; the behaviors input's name and
     * each {@link EventType}'s code by ordinal, both {@code null} for a model without behaviors;
     * the target behavior, {@code null} if the graph has none.
     */
    private record Steps(
            RepeatRule repeats, String behaviorsInput, int[] codeByType, String targetBehavior)
            implements Serializable {}

    private static final Steps FORMAT_1_STEPS = new Steps(RepeatRule.FIRST, null, null, null);

    /** Loads and checks the artifact in {@code dir}. */
    public static ModelArtifact load(Path dir) {
        Path absolute = dir.toAbsolutePath().normalize();
        if (!Files.isDirectory(absolute)) {
            throw new ModelContractException("model directory " + absolute + " does not exist");
        }
        Path metadataFile = absolute.resolve(METADATA_FILE);
        Path itemsFile = absolute.resolve(ITEMS_FILE);
        Path modelFile = absolute.resolve(MODEL_FILE);
        JsonNode meta = readJson(metadataFile);

        int formatVersion = requireInt(meta, "format_version", metadataFile);
        if (formatVersion != FORMAT_VERSION_ITEMS && formatVersion != FORMAT_VERSION_STEPS) {
            throw new ModelContractException(
                    metadataFile
                            + ": unknown format_version "
                            + formatVersion
                            + " (this job reads format_version "
                            + FORMAT_VERSION_ITEMS
                            + " and "
                            + FORMAT_VERSION_STEPS
                            + ")");
        }
        Steps steps =
                formatVersion == FORMAT_VERSION_STEPS
                        ? readSteps(meta.get("steps"), metadataFile)
                        : FORMAT_1_STEPS;
        String modelVersion = requireText(meta, "model_version", metadataFile);
        int maxLen = requireInt(meta, "max_len", metadataFile);
        int numItems = requireInt(meta, "num_items", metadataFile);
        if (maxLen < 1 || numItems < 1) {
            throw new ModelContractException(
                    metadataFile
                            + ": max_len and num_items must be positive, got max_len="
                            + maxLen
                            + ", num_items="
                            + numItems);
        }
        JsonNode padding = meta.path("padding");
        if (padding.path("index").asInt(-1) != 0 || !"left".equals(padding.path("side").asText())) {
            throw new ModelContractException(
                    metadataFile
                            + ": padding must be {\"index\": 0, \"side\": \"left\"}, got "
                            + padding);
        }
        JsonNode input = itemsInput(meta.path("inputs"), steps.behaviorsInput(), metadataFile);
        JsonNode outputs = meta.path("outputs");
        if (!outputs.isArray() || outputs.size() < 1 || outputs.size() > 2) {
            throw new ModelContractException(
                    metadataFile
                            + ": outputs must list the scores and, optionally, '"
                            + ATTENTION_OUTPUT
                            + "', got "
                            + outputs);
        }
        JsonNode output = outputs.get(0);
        boolean hasAttention = outputs.size() == 2;
        if (hasAttention) {
            checkAttention(outputs.get(1), metadataFile);
        }
        String inputName = requireText(input, "name", metadataFile);
        String outputName = requireText(output, "name", metadataFile);
        checkInput(input, inputName, metadataFile);
        JsonNode outShape = output.path("shape");
        if (outShape.size() != 2 || outShape.get(1).asInt(-1) != numItems + 1) {
            throw new ModelContractException(
                    metadataFile
                            + ": output "
                            + outputName
                            + " must have shape [batch, "
                            + (numItems + 1)
                            + "] (num_items + 1), got "
                            + outShape);
        }

        int itemVectorsDim =
                meta.has("item_vectors")
                        ? checkItemVectors(
                                meta.get("item_vectors"), numItems, absolute, metadataFile)
                        : 0;
        Items items = readItems(itemsFile, numItems, metadataFile);
        try {
            if (!Files.isRegularFile(modelFile) || Files.size(modelFile) == 0) {
                throw new ModelContractException(modelFile + ": missing or empty");
            }
        } catch (IOException e) {
            throw new ModelContractException(modelFile + ": unreadable: " + e.getMessage(), e);
        }
        return new ModelArtifact(
                absolute,
                formatVersion,
                modelVersion,
                maxLen,
                numItems,
                inputName,
                outputName,
                hasAttention,
                itemVectorsDim,
                steps,
                items);
    }

    private static void checkInput(JsonNode input, String name, Path metadataFile) {
        if (!"int64".equals(input.path("dtype").asText())) {
            throw new ModelContractException(
                    metadataFile
                            + ": input "
                            + name
                            + " must be int64, got "
                            + input.path("dtype"));
        }
        if (input.path("shape").size() != 2) {
            throw new ModelContractException(
                    metadataFile
                            + ": input "
                            + name
                            + " must have shape [batch, seq_len], got "
                            + input.path("shape"));
        }
    }

    /**
     * The items input of {@code inputs}: the only one, or, with a behaviors input, the one that is
     * not it (whose declaration is checked here).
     */
    private static JsonNode itemsInput(JsonNode inputs, String behaviorsInput, Path metadataFile) {
        if (behaviorsInput == null) {
            if (!inputs.isArray() || inputs.size() != 1) {
                throw new ModelContractException(
                        metadataFile
                                + ": inputs must list exactly one tensor (the items; steps declares"
                                + " no behaviors_input), got "
                                + inputs);
            }
            return inputs.get(0);
        }
        if (!inputs.isArray() || inputs.size() != 2) {
            throw new ModelContractException(
                    metadataFile
                            + ": inputs must list two tensors, the items and steps.behaviors_input"
                            + " '"
                            + behaviorsInput
                            + "', got "
                            + inputs);
        }
        int at = -1;
        for (int i = 0; i < 2; i++) {
            if (behaviorsInput.equals(inputs.get(i).path("name").asText())) {
                at = i;
            }
        }
        if (at < 0) {
            throw new ModelContractException(
                    metadataFile
                            + ": steps.behaviors_input names '"
                            + behaviorsInput
                            + "', which inputs does not list: "
                            + inputs);
        }
        checkInput(inputs.get(at), behaviorsInput, metadataFile);
        return inputs.get(1 - at);
    }

    /** Reads and checks {@code steps} (format version 2). */
    private static Steps readSteps(JsonNode steps, Path file) {
        if (steps == null || !steps.isObject()) {
            throw new ModelContractException(
                    file
                            + ": steps missing or not an object (format_version "
                            + FORMAT_VERSION_STEPS
                            + " declares how the input's steps are built)");
        }
        String repeats = steps.path("repeats").asText("");
        RepeatRule rule;
        switch (steps.path("repeats").isTextual() ? repeats : "") {
            case "first":
                rule = RepeatRule.FIRST;
                break;
            case "strongest":
                rule = RepeatRule.STRONGEST;
                break;
            case "all":
                throw new ModelContractException(
                        file
                                + ": steps.repeats is \"all\" (every event a step), but this job"
                                + " keeps consecutive events of a user on one item as one step;"
                                + " retrain with --repeats first or strongest");
            default:
                throw new ModelContractException(
                        file
                                + ": steps.repeats must be \"first\", \"strongest\" or \"all\", got"
                                + " "
                                + steps.get("repeats"));
        }
        JsonNode input = steps.path("behaviors_input");
        String behaviorsInput = null;
        if (input.isTextual() && !input.asText().isEmpty()) {
            behaviorsInput = input.asText();
        } else if (!input.isNull() && !input.isMissingNode()) {
            throw new ModelContractException(
                    file
                            + ": steps.behaviors_input must be the name of an input or null, got "
                            + input);
        }
        JsonNode codes = steps.get("behavior_codes");
        int[] codeByType = null;
        if (codes != null || behaviorsInput != null) {
            codeByType = readBehaviorCodes(codes, file);
        }
        JsonNode target = steps.path("target_behavior");
        String targetBehavior = null;
        if (target.isTextual()
                && (target.asText().equals("any")
                        || EventType.fromWireName(target.asText()) != null)) {
            targetBehavior = target.asText();
        } else if (!target.isNull() && !target.isMissingNode()) {
            throw new ModelContractException(
                    file
                            + ": steps.target_behavior must be null, \"any\" or an event type ("
                            + eventTypeNames()
                            + "), got "
                            + target);
        }
        return new Steps(
                rule, behaviorsInput, behaviorsInput == null ? null : codeByType, targetBehavior);
    }

    /** Each {@link EventType}'s code by ordinal, from {@code steps.behavior_codes}. */
    private static int[] readBehaviorCodes(JsonNode codes, Path file) {
        if (codes == null || !codes.isObject()) {
            throw new ModelContractException(
                    file
                            + ": steps.behavior_codes must map every event type ("
                            + eventTypeNames()
                            + ") to its code, got "
                            + codes);
        }
        int[] codeByType = new int[EventType.values().length];
        for (EventType type : EventType.values()) {
            JsonNode code = codes.get(type.wireName());
            if (code == null) {
                throw new ModelContractException(
                        file
                                + ": steps.behavior_codes has no code for '"
                                + type.wireName()
                                + "' (it must map every event type the job reads: "
                                + eventTypeNames()
                                + ")");
            }
            if (!code.isIntegralNumber()
                    || code.asLong() < 1
                    || code.asLong() > Integer.MAX_VALUE) {
                throw new ModelContractException(
                        file
                                + ": steps.behavior_codes."
                                + type.wireName()
                                + " must be a positive integer (0 is the padding), got "
                                + code);
            }
            codeByType[type.ordinal()] = code.intValue();
        }
        return codeByType;
    }

    private static String eventTypeNames() {
        List<String> names = new ArrayList<>();
        for (EventType type : EventType.values()) {
            names.add(type.wireName());
        }
        return String.join(", ", names);
    }

    /** Checks the declaration of the item vectors and their file's size; returns their width. */
    private static int checkItemVectors(
            JsonNode vectors, int numItems, Path dir, Path metadataFile) {
        JsonNode shape = vectors.path("shape");
        int dim = shape.size() == 2 ? shape.get(1).asInt(-1) : -1;
        if (!ITEM_VECTORS_FILE.equals(vectors.path("file").asText())
                || !"float32".equals(vectors.path("dtype").asText())
                || !"little".equals(vectors.path("byte_order").asText())
                || !vectors.path("normalized").asBoolean(false)
                || shape.get(0) == null
                || shape.get(0).asInt(-1) != numItems
                || dim < 1) {
            throw new ModelContractException(
                    metadataFile
                            + ": item_vectors must be {\"file\": \""
                            + ITEM_VECTORS_FILE
                            + "\", \"dtype\": \"float32\", \"byte_order\": \"little\", \"shape\": ["
                            + numItems
                            + ", hidden], \"normalized\": true}, got "
                            + vectors);
        }
        Path file = dir.resolve(ITEM_VECTORS_FILE);
        try {
            long expected = 4L * numItems * dim;
            if (!Files.isRegularFile(file) || Files.size(file) != expected) {
                throw new ModelContractException(
                        file
                                + ": missing or not "
                                + expected
                                + " bytes ("
                                + numItems
                                + " items of "
                                + dim
                                + " float32), as metadata.json declares");
            }
        } catch (IOException e) {
            throw new ModelContractException(file + ": unreadable: " + e.getMessage(), e);
        }
        return dim;
    }

    private static void checkAttention(JsonNode attention, Path metadataFile) {
        if (!ATTENTION_OUTPUT.equals(attention.path("name").asText())
                || !"float32".equals(attention.path("dtype").asText())
                || attention.path("shape").size() != 2) {
            throw new ModelContractException(
                    metadataFile
                            + ": the second output must be {\"name\": \""
                            + ATTENTION_OUTPUT
                            + "\", \"dtype\": \"float32\", \"shape\": [\"batch\", \"seq_len\"]},"
                            + " got "
                            + attention);
        }
    }

    private static Items readItems(Path itemsFile, int numItems, Path metadataFile) {
        List<String> lines;
        try {
            lines = Files.readAllLines(itemsFile, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new ModelContractException(itemsFile + ": cannot read: " + e.getMessage(), e);
        }
        if (!lines.isEmpty() && lines.get(lines.size() - 1).isEmpty()) {
            lines = lines.subList(0, lines.size() - 1);
        }
        if (lines.size() != numItems) {
            throw new ModelContractException(
                    itemsFile
                            + ": has "
                            + lines.size()
                            + " items but "
                            + metadataFile.getFileName()
                            + " says num_items="
                            + numItems);
        }
        String[] ids = new String[numItems + 1];
        long[] keys = new long[numItems + 1];
        LongIntMap indexByKey = new LongIntMap(numItems);
        for (int i = 1; i <= numItems; i++) {
            String id = lines.get(i - 1);
            if (id.isEmpty()) {
                throw new ModelContractException(itemsFile + ":" + i + ": empty item id");
            }
            ids[i] = id;
            keys[i] = StableHash.of(id);
            int before = indexByKey.put(keys[i], i);
            if (before != 0) {
                // Another id with the same 64-bit key (odds ~n^2 / 2^65) is refused as well: one
                // of the two would stand for both in every user's history.
                throw new ModelContractException(
                        itemsFile
                                + ":"
                                + i
                                + ": item id '"
                                + id
                                + (ids[before].equals(id)
                                        ? "' repeats line " + before
                                        : "' has the same item key as line "
                                                + before
                                                + " ('"
                                                + ids[before]
                                                + "'); rename one of them"));
            }
        }
        return new Items(ids, keys, indexByKey);
    }

    private static JsonNode readJson(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new ModelContractException(file + ": missing");
        }
        try {
            JsonNode node = new ObjectMapper().readTree(file.toFile());
            if (node == null || !node.isObject()) {
                throw new ModelContractException(file + ": not a JSON object");
            }
            return node;
        } catch (IOException e) {
            throw new ModelContractException(file + ": not valid JSON: " + e.getMessage(), e);
        }
    }

    private static int requireInt(JsonNode node, String field, Path file) {
        JsonNode v = node.get(field);
        if (v == null || !v.isIntegralNumber()) {
            throw new ModelContractException(file + ": " + field + " missing or not an integer");
        }
        return v.intValue();
    }

    private static String requireText(JsonNode node, String field, Path file) {
        JsonNode v = node.get(field);
        if (v == null || !v.isTextual() || v.asText().isEmpty()) {
            throw new ModelContractException(file + ": " + field + " missing or not a string");
        }
        return v.asText();
    }

    public Path dir() {
        return dir;
    }

    public Path modelFile() {
        return dir.resolve(MODEL_FILE);
    }

    public String modelVersion() {
        return modelVersion;
    }

    /** {@code format_version} of {@code metadata.json}: 1 or 2. */
    public int formatVersion() {
        return formatVersion;
    }

    /** How a run of events of a user on one item becomes a step of the input. */
    public RepeatRule repeatRule() {
        return steps.repeats();
    }

    /** Whether the graph takes each step's behavior as a second input. */
    public boolean takesBehaviors() {
        return steps.behaviorsInput() != null;
    }

    /** The name of the behaviors input; {@code null} if the model takes none. */
    public String behaviorsInputName() {
        return steps.behaviorsInput();
    }

    /**
     * The code of {@code type} in the behaviors input, as {@code steps.behavior_codes} maps it
     * (above 0; 0 is the padding).
     *
     * @throws IllegalStateException if the model takes no behaviors
     */
    public int behaviorCode(EventType type) {
        if (steps.codeByType() == null) {
            throw new IllegalStateException("model " + modelVersion + " takes no behaviors");
        }
        return steps.codeByType()[type.ordinal()];
    }

    /**
     * What the graph was exported to predict ({@code "any"} or an event type's name); {@code null}
     * for a model without a target behavior. Fixed in the graph: the job only reports it.
     */
    public String targetBehavior() {
        return steps.targetBehavior();
    }

    /** The input's steps in a few words, for the log: repeat rule, behaviors, target. */
    public String describeSteps() {
        return "steps by repeat rule "
                + repeatRule().wireName()
                + (takesBehaviors()
                        ? ", behaviors input '" + behaviorsInputName() + "'"
                        : ", items only")
                + (targetBehavior() != null ? ", target behavior " + targetBehavior() : "");
    }

    public int maxLen() {
        return maxLen;
    }

    public int numItems() {
        return numItems;
    }

    public String inputName() {
        return inputName;
    }

    public String outputName() {
        return outputName;
    }

    /** Whether the graph has the {@value #ATTENTION_OUTPUT} output. */
    public boolean hasAttention() {
        return hasAttention;
    }

    /** Whether the artifact has item vectors ({@value #ITEM_VECTORS_FILE}). */
    public boolean hasItemVectors() {
        return itemVectorsDim > 0;
    }

    /** The width of the item vectors; 0 without them. */
    public int itemVectorsDim() {
        return itemVectorsDim;
    }

    /** External id of item index {@code index} (1..num_items). */
    public String itemId(int index) {
        return itemIds[index];
    }

    /**
     * The item key of index {@code index} (1..num_items): {@link StableHash} of its id, how users'
     * histories name it.
     */
    public long itemKey(int index) {
        return itemKeys[index];
    }

    /**
     * Index 1..num_items of the item whose key is {@code itemKey}, or 0 if the model does not know
     * it. A lookup in a table of primitives: no allocation, called for every item of a history.
     */
    public int indexOf(long itemKey) {
        return indexByKey.get(itemKey);
    }

    /** Index 1..num_items of an external item id, or 0 if the model does not know it. */
    public int indexOf(String itemId) {
        return indexOf(StableHash.of(itemId));
    }
}
