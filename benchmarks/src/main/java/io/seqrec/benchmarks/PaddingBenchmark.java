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
 * A batch of rows of mixed lengths (uniform in 1..max_len) through {@link BatchScorer} with each
 * padding policy: length-bucketed (the job), trimmed to the longest row, padded to max_len (the
 * naive baseline). Time per batch.
 */
public class PaddingBenchmark extends BenchmarkSettings {
    @Param({"model/artifacts/default", "runs/ml1m-random"})
    public String model;

    @Param({"32"})
    public int batch;

    @Param({"BUCKETED", "LONGEST", "FULL"})
    public BatchScorer.Padding padding;

    private OnnxSequenceModel loaded;
    private BatchScorer scorer;
    private int[][] rows;

    @Setup(Level.Trial)
    public void load() {
        ModelArtifact artifact = Sequences.artifact(model);
        loaded = OnnxSequenceModel.load(artifact, InferenceOptions.cpu(1));
        scorer = new BatchScorer(loaded, artifact, padding);
        rows = Sequences.mixedRows(artifact, batch, 2);
    }

    @TearDown(Level.Trial)
    public void close() {
        loaded.close();
    }

    @Benchmark
    public int score() {
        scorer.score(rows, batch);
        return scorer.calls();
    }
}
