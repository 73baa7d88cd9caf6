package io.seqrec.benchmarks;

import io.seqrec.model.InferenceOptions;
import io.seqrec.model.ModelArtifact;
import io.seqrec.model.OnnxSequenceModel;
import io.seqrec.model.TopK;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;

/**
 * The Java side of "scores out, top-K in Java": masking the user's seen items and selecting the top
 * 10 of one real score row (from the model), per row. Compare with the per-sequence inference time
 * of {@link DjlInferenceBenchmark}.
 */
public class TopKBenchmark extends BenchmarkSettings {
    @Param({"model/artifacts/default", "runs/ml1m-random"})
    public String model;

    private float[] scores;
    private float[] work;
    private int[] seen;
    private final int[] topIndex = new int[10];
    private final float[] topScore = new float[10];

    @Setup
    public void load() {
        ModelArtifact artifact = Sequences.artifact(model);
        int len = artifact.maxLen();
        long[] row = Sequences.fullRows(artifact, 1, len, 3);
        try (OnnxSequenceModel m = OnnxSequenceModel.load(artifact, InferenceOptions.cpu(1))) {
            scores = m.score(row, 1, len);
        }
        work = new float[scores.length];
        seen = new int[len];
        for (int i = 0; i < len; i++) {
            seen[i] = (int) row[i];
        }
    }

    @Benchmark
    public int maskSeenAndSelectTop10() {
        System.arraycopy(scores, 0, work, 0, scores.length);
        for (int item : seen) {
            work[item] = Float.NEGATIVE_INFINITY;
        }
        return TopK.select(work, 0, work.length, 10, topIndex, topScore);
    }

    @Benchmark
    public float copyRowOnly() {
        System.arraycopy(scores, 0, work, 0, scores.length);
        return work[1];
    }
}
