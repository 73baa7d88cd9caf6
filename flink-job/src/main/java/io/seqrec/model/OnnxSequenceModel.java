package io.seqrec.model;

import ai.djl.Device;
import ai.djl.MalformedModelException;
import ai.djl.inference.Predictor;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.repository.zoo.Criteria;
import ai.djl.repository.zoo.ModelNotFoundException;
import ai.djl.repository.zoo.ZooModel;
import ai.djl.translate.NoopTranslator;
import ai.djl.translate.TranslateException;
import ai.djl.util.PairList;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import ai.onnxruntime.ValueInfo;
import io.seqrec.event.EventType;
import java.io.IOException;
import java.nio.LongBuffer;
import java.util.List;

/**
 * A loaded SASRec model on DJL's ONNX Runtime engine: one predictor, owned by one subtask.
 *
 * <p>{@link #score} takes left-padded item indices of any length up to {@code max_len} (the
 * exported model right-aligns positions, so leading padding can be trimmed without changing the
 * scores) and returns the scores of every item for each row; a type-aware model ({@link
 * ModelArtifact#takesBehaviors}) also takes each step's behavior code, padded alike ({@link
 * #run(long[], long[], int, int, boolean)}). Loading checks that the graph has the inputs and
 * output the metadata promises, and runs one probe inference, so a broken model is refused at
 * start-up rather than on the first event.
 */
public final class OnnxSequenceModel implements SequenceScorer {
    static {
        // DJL reports usage to a remote endpoint unless both of these tell it not to.
        System.setProperty("ai.djl.offline", System.getProperty("ai.djl.offline", "true"));
        System.setProperty("OPT_OUT_TRACKING", "true");
        // Size ORT's process-wide pool to one thread: each session brings its own intra-op
        // threads (set per subtask), and several slots share the task manager's cores.
        System.setProperty(
                "ai.djl.onnxruntime.num_threads",
                System.getProperty("ai.djl.onnxruntime.num_threads", "1"));
        System.setProperty(
                "ai.djl.onnxruntime.num_interop_threads",
                System.getProperty("ai.djl.onnxruntime.num_interop_threads", "1"));
    }

    /** {@link ModelArtifact#MODEL_FILE} without its extension, as DJL names a model. */
    private static final String MODEL_NAME =
            ModelArtifact.MODEL_FILE.substring(0, ModelArtifact.MODEL_FILE.lastIndexOf('.'));

    private final ModelArtifact artifact;
    private final ZooModel<NDList, NDList> model;
    private final Predictor<NDList, NDList> predictor;
    private final int width;

    private OnnxSequenceModel(
            ModelArtifact artifact,
            ZooModel<NDList, NDList> model,
            Predictor<NDList, NDList> predictor) {
        this.artifact = artifact;
        this.model = model;
        this.predictor = predictor;
        this.width = artifact.numItems() + 1;
    }

    /** Loads {@code model.onnx} of a checked artifact; refuses a graph that breaks the contract. */
    public static OnnxSequenceModel load(ModelArtifact artifact, InferenceOptions options) {
        Criteria<NDList, NDList> criteria =
                Criteria.builder()
                        .setTypes(NDList.class, NDList.class)
                        .optEngine("OnnxRuntime")
                        // The artifact's directory and the file's name, not the file's path: DJL
                        // warns about a repository that is a single non-archive file.
                        .optModelPath(artifact.dir())
                        .optModelName(MODEL_NAME)
                        .optTranslator(new NoopTranslator())
                        .optDevice(
                                options.gpuIndex() >= 0
                                        ? Device.gpu(options.gpuIndex())
                                        : Device.cpu())
                        .optOption("intraOpNumThreads", Integer.toString(options.intraOpThreads()))
                        .optOption("interOpNumThreads", "1")
                        .optOption("executionMode", "SEQUENTIAL")
                        .build();
        ZooModel<NDList, NDList> model;
        try {
            model = criteria.loadModel();
        } catch (ModelNotFoundException
                | MalformedModelException
                | IOException
                | RuntimeException e) {
            throw new ModelContractException(
                    artifact.modelFile() + ": ONNX Runtime cannot load it: " + rootMessage(e), e);
        }
        OnnxSequenceModel loaded = null;
        try {
            checkSignature(artifact, model);
            loaded = new OnnxSequenceModel(artifact, model, model.newPredictor());
            loaded.probe();
            return loaded;
        } catch (RuntimeException e) {
            if (loaded != null) {
                loaded.close();
            } else {
                model.close();
            }
            throw e;
        }
    }

    private static void checkSignature(ModelArtifact artifact, ZooModel<NDList, NDList> model) {
        List<String> expected =
                artifact.takesBehaviors()
                        ? List.of(artifact.inputName(), artifact.behaviorsInputName())
                        : List.of(artifact.inputName());
        PairList<String, Shape> inputs = model.describeInput();
        if (inputs == null
                || inputs.size() != expected.size()
                || !inputs.keys().containsAll(expected)) {
            throw new ModelContractException(
                    artifact.modelFile()
                            + ": graph inputs "
                            + describe(inputs)
                            + " do not match metadata.json "
                            + (expected.size() == 1
                                    ? "input '" + artifact.inputName() + "'"
                                    : "inputs " + expected));
        }
        for (String name : expected) {
            checkInputTensor(artifact, name);
        }
    }

    /**
     * DJL reports the graph's input names only (no shapes), so the element type and rank come from
     * an ONNX Runtime session of its own, in the environment DJL has created already: DJL cannot
     * start in a JVM where plain ONNX Runtime created the environment first.
     */
    private static void checkInputTensor(ModelArtifact artifact, String name) {
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            options.setIntraOpNumThreads(1);
            options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.NO_OPT);
            try (OrtSession session =
                    OrtEnvironment.getEnvironment()
                            .createSession(artifact.modelFile().toString(), options)) {
                ValueInfo info = session.getInputInfo().get(name).getInfo();
                if (!(info instanceof TensorInfo tensor)
                        || tensor.type != OnnxJavaType.INT64
                        || tensor.getShape().length != 2) {
                    throw new ModelContractException(
                            artifact.modelFile()
                                    + ": input '"
                                    + name
                                    + "' is "
                                    + describe(info)
                                    + ", expected an int64 tensor [batch, seq_len]");
                }
            }
        } catch (OrtException e) {
            throw new ModelContractException(
                    artifact.modelFile()
                            + ": ONNX Runtime cannot describe its inputs: "
                            + e.getMessage(),
                    e);
        }
    }

    private static String describe(ValueInfo info) {
        if (info instanceof TensorInfo tensor) {
            // -1 marks a dynamic dimension
            return "a tensor of "
                    + tensor.type.name().toLowerCase(java.util.Locale.ROOT)
                    + ", shape "
                    + java.util.Arrays.toString(tensor.getShape());
        }
        return "not a tensor (" + info + ")";
    }

    /**
     * One inference on a single short sequence: the output must be [1, num_items + 1] (and the
     * attention, if promised, [1, 1]).
     */
    private void probe() {
        float[] scores;
        try {
            long[] behaviors =
                    artifact.takesBehaviors()
                            ? new long[] {artifact.behaviorCode(EventType.VIEW)}
                            : null;
            scores = run(new long[] {1}, behaviors, 1, 1, true).scores();
        } catch (ModelContractException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new ModelContractException(
                    artifact.modelFile() + ": probe inference failed: " + rootMessage(e), e);
        }
        if (scores.length != width) {
            throw new ModelContractException(
                    artifact.modelFile()
                            + ": output has "
                            + scores.length
                            + " scores per row, metadata.json promises num_items + 1 = "
                            + width);
        }
    }

    @Override
    public float[] score(long[] input, int batch, int seqLen) {
        return run(input, null, batch, seqLen, false).scores();
    }

    @Override
    public Output run(long[] input, int batch, int seqLen, boolean withAttention) {
        return run(input, null, batch, seqLen, withAttention);
    }

    @Override
    public Output run(
            long[] input, long[] behaviors, int batch, int seqLen, boolean withAttention) {
        if ((behaviors != null) != artifact.takesBehaviors()) {
            throw new IllegalArgumentException(
                    "model "
                            + artifact.modelVersion()
                            + (artifact.takesBehaviors()
                                    ? " takes each step's behavior ('"
                                            + artifact.behaviorsInputName()
                                            + "'), none given"
                                    : " takes no behaviors"));
        }
        if (input.length < batch * seqLen
                || (behaviors != null && behaviors.length < batch * seqLen)
                || seqLen < 1
                || seqLen > artifact.maxLen()) {
            throw new IllegalArgumentException(
                    "input of "
                            + input.length
                            + " for batch "
                            + batch
                            + " x "
                            + seqLen
                            + " (max_len "
                            + artifact.maxLen()
                            + ")");
        }
        try (NDManager manager = model.getNDManager().newSubManager()) {
            NDList in = new NDList(tensor(manager, artifact.inputName(), input, batch, seqLen));
            if (behaviors != null) {
                in.add(tensor(manager, artifact.behaviorsInputName(), behaviors, batch, seqLen));
            }
            NDList out = predictor.predict(in);
            NDArray scores = out.get(0);
            if (scores.getShape().dimension() != 2 || scores.getShape().get(1) != width) {
                throw new ModelContractException(
                        artifact.modelFile()
                                + ": output shape "
                                + scores.getShape()
                                + ", but metadata.json promises [batch, num_items + 1 = "
                                + width
                                + "]");
            }
            float[] attention = null;
            if (withAttention && artifact.hasAttention()) {
                NDArray weights = out.get(ModelArtifact.ATTENTION_OUTPUT);
                if (weights == null
                        || weights.getShape().dimension() != 2
                        || weights.getShape().get(0) != batch
                        || weights.getShape().get(1) != seqLen) {
                    throw new ModelContractException(
                            artifact.modelFile()
                                    + ": output '"
                                    + ModelArtifact.ATTENTION_OUTPUT
                                    + "' is "
                                    + (weights == null ? "missing" : weights.getShape())
                                    + ", but metadata.json promises [batch, seq_len] = ["
                                    + batch
                                    + ", "
                                    + seqLen
                                    + "]");
                }
                attention = weights.toFloatArray();
            }
            return new Output(scores.toFloatArray(), attention);
        } catch (TranslateException e) {
            throw new IllegalStateException("inference failed: " + rootMessage(e), e);
        }
    }

    /** An int64 input {@code [batch, seqLen]} named as the graph names it (DJL feeds by name). */
    private static NDArray tensor(
            NDManager manager, String name, long[] values, int batch, int seqLen) {
        NDArray x =
                manager.create(
                        LongBuffer.wrap(values, 0, batch * seqLen),
                        new Shape(batch, seqLen),
                        DataType.INT64);
        x.setName(name);
        return x;
    }

    public ModelArtifact artifact() {
        return artifact;
    }

    /** Closes the predictor and the model, whose session holds ONNX Runtime's native memory. */
    @Override
    public void close() {
        try {
            predictor.close();
        } finally {
            model.close();
        }
    }

    private static String describe(PairList<String, Shape> pairs) {
        return pairs == null ? "(none)" : pairs.keys().toString();
    }

    static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        String top = String.valueOf(e.getMessage());
        String root = String.valueOf(t.getMessage());
        return t == e || top.contains(root) ? top : top + " (" + root + ")";
    }
}
