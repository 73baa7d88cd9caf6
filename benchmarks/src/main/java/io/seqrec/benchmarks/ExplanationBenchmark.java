package io.seqrec.benchmarks;

import io.seqrec.model.BatchScorer;
import io.seqrec.model.InferenceOptions;
import io.seqrec.model.ModelArtifact;
import io.seqrec.model.OnnxSequenceModel;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.TearDown;

/**
 * The cost of explanations ({@code --explanations}): a batch of rows of mixed lengths through
 * {@link BatchScorer} as the job scores them, with the model's attention output fetched and each
 * row's strongest position picked, or without. Time per batch.
 */
public class ExplanationBenchmark extends BenchmarkSettings {
    @Param({"model/artifacts/default"})
    public String model;

    @Param({"32"})
    public int batch;

    @Param({"false", "true"})
    public boolean explain;

    private OnnxSequenceModel loaded;
    private BatchScorer scorer;
    private int[][] rows;

    @Setup(Level.Trial)
    public void load() {
        ModelArtifact artifact = Sequences.artifact(model);
        loaded = OnnxSequenceModel.load(artifact, InferenceOptions.cpu(1));
        scorer = new BatchScorer(loaded, artifact, BatchScorer.Padding.BUCKETED, explain);
        rows = Sequences.mixedRows(artifact, batch, 2);
    }

    @TearDown(Level.Trial)
    public void close() {
        loaded.close();
    }

    @Benchmark
    public int score() {
        scorer.score(rows, batch);
        int sum = 0;
        if (explain) {
            for (int r = 0; r < batch; r++) {
                sum += scorer.strongestPosition(r, rows[r].length);
            }
        }
        return sum + scorer.calls();
    }
}
