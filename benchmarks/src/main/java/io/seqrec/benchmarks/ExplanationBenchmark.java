package io.seqrec.benchmarks;

import io.seqrec.model.BatchScorer;
import io.seqrec.model.InferenceOptions;
import io.seqrec.model.ItemVectors;
import io.seqrec.model.ModelArtifact;
import io.seqrec.model.OnnxSequenceModel;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.TearDown;

/**
 * The cost of explanations ({@code --explanations}): a batch of rows of mixed lengths through
 * {@link BatchScorer} as the job scores them, and then each row's {@code because} named as the job
 * names it: {@code similar} (the served way when the artifact has item vectors: the history item
 * most similar to the row's top-1, whose search is included), {@code attention} (the attention
 * output fetched and its strongest position picked), or {@code none}. Time per batch.
 */
public class ExplanationBenchmark extends BenchmarkSettings {
    @Param({"model/artifacts/default"})
    public String model;

    @Param({"32"})
    public int batch;

    @Param({"none", "attention", "similar"})
    public String explain;

    private OnnxSequenceModel loaded;
    private ModelArtifact artifact;
    private BatchScorer scorer;
    private ItemVectors vectors;
    private int[][] rows;
    private int[] tops;

    @Setup(Level.Trial)
    public void load() {
        artifact = Sequences.artifact(model);
        loaded = OnnxSequenceModel.load(artifact, InferenceOptions.cpu(1));
        scorer =
                new BatchScorer(
                        loaded,
                        artifact,
                        BatchScorer.Padding.BUCKETED,
                        explain.equals("attention"));
        vectors = explain.equals("similar") ? ItemVectors.load(artifact) : null;
        rows = Sequences.mixedRows(artifact, batch, 2);
        // The job's top-K selection finds each row's top-1 anyway: not part of the cost here.
        tops = new int[batch];
        scorer.score(rows, batch);
        for (int r = 0; r < batch; r++) {
            float[] scores = scorer.scores(r);
            int from = scorer.offset(r);
            int top = 1;
            for (int i = 2; i <= artifact.numItems(); i++) {
                if (scores[from + i] > scores[from + top]) {
                    top = i;
                }
            }
            tops[r] = top;
        }
    }

    @TearDown(Level.Trial)
    public void close() {
        loaded.close();
    }

    @Benchmark
    public int score() {
        scorer.score(rows, batch);
        int sum = 0;
        if (vectors != null) {
            for (int r = 0; r < batch; r++) {
                sum += vectors.mostSimilarPosition(rows[r], 0, rows[r].length, tops[r]);
            }
        } else if (explain.equals("attention")) {
            for (int r = 0; r < batch; r++) {
                sum += scorer.strongestPosition(r, rows[r].length);
            }
        }
        return sum + scorer.calls();
    }
}
