package io.seqrec.benchmarks;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.seqrec.model.ModelArtifact;
import io.seqrec.model.TopK;
import java.nio.LongBuffer;
import java.util.Map;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.TearDown;

/**
 * Where the top-K runs: the served graph's scores copied out and the seen items masked and the top
 * 10 selected in Java ({@link TopK}, as the job does), against the same graph with the mask and the
 * top 10 inside ({@code python -m seqrec_model export-random ... --topk-graph FILE}, written to
 * {@code <model>-topk.onnx}). Raw ONNX Runtime API for both, full-length rows. The setup checks
 * that both give the same items for every row.
 */
public class TopKInGraphBenchmark extends BenchmarkSettings {
    private static final int K = 10;

    @Param({"runs/default-random", "runs/ml1m-random"})
    public String model;

    @Param({"1", "32", "128"})
    public int batch;

    private OrtEnvironment env;
    private OrtSession scoresGraph;
    private OrtSession topKGraph;
    private String inputName;
    private long[] rows;
    private LongBuffer input;
    private long[] shape;
    private int width;
    private int len;
    private float[] scores;
    private final int[] topIndex = new int[K];
    private final float[] topScore = new float[K];
    private int[] outIndex;
    private float[] outScore;
    private long[] graphIndex;

    @Setup(Level.Trial)
    public void load() throws OrtException {
        ModelArtifact artifact = Sequences.artifact(model);
        env = OrtEnvironment.getEnvironment();
        scoresGraph = OrtSessions.open(env, artifact.modelFile().toString(), 1);
        topKGraph = OrtSessions.open(env, model + "-topk.onnx", 1);
        inputName = artifact.inputName();
        len = artifact.maxLen();
        width = artifact.numItems() + 1;
        rows = Sequences.fullRows(artifact, batch, len, 1);
        input = OrtSessions.direct(rows);
        shape = new long[] {batch, len};
        scores = new float[batch * width];
        outIndex = new int[batch * K];
        outScore = new float[batch * K];
        graphIndex = new long[batch * K];

        scoresThenJavaTopK();
        topKInGraph();
        for (int i = 0; i < outIndex.length; i++) {
            if (outIndex[i] != graphIndex[i]) {
                throw new IllegalStateException(
                        "top-K in the graph differs from Java's at row "
                                + i / K
                                + ", rank "
                                + i % K
                                + ": "
                                + graphIndex[i]
                                + " vs "
                                + outIndex[i]);
            }
        }
    }

    @TearDown(Level.Trial)
    public void close() throws OrtException {
        scoresGraph.close();
        topKGraph.close();
    }

    /** What the job does: all scores out, then mask and select per row in Java. */
    @Benchmark
    public int[] scoresThenJavaTopK() throws OrtException {
        OrtSessions.scores(env, scoresGraph, inputName, input, shape, scores);
        for (int r = 0; r < batch; r++) {
            int from = r * width;
            for (int i = 0; i < len; i++) {
                scores[from + (int) rows[r * len + i]] = Float.NEGATIVE_INFINITY;
            }
            int n = TopK.select(scores, from, width, K, topIndex, topScore);
            System.arraycopy(topIndex, 0, outIndex, r * K, n);
            System.arraycopy(topScore, 0, outScore, r * K, n);
        }
        return outIndex;
    }

    /** Mask and top 10 inside the graph: only batch × 10 indices and scores come out. */
    @Benchmark
    public long[] topKInGraph() throws OrtException {
        try (OnnxTensor x = OnnxTensor.createTensor(env, input, shape);
                OrtSession.Result result = topKGraph.run(Map.of(inputName, x))) {
            ((OnnxTensor) result.get("top_indices").orElseThrow()).getLongBuffer().get(graphIndex);
            ((OnnxTensor) result.get("top_scores").orElseThrow()).getFloatBuffer().get(outScore);
        }
        return graphIndex;
    }
}
