package io.seqrec.benchmarks;

import io.seqrec.model.ItemVectors;
import io.seqrec.model.ModelArtifact;
import java.util.SplittableRandom;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;

/**
 * The served explanation alone, without the model call it follows: naming each row's {@code
 * because} (the history item most similar to the row's first listed item, {@link ItemVectors}) for
 * a batch of rows of mixed lengths, 1..max_len. Time per batch; {@link ExplanationBenchmark} has
 * the model call beside it. {@code runs/ml1m-random} (L 200) comes from {@code seqrec_model
 * export-random}, as for the other benchmarks.
 */
public class BecauseBenchmark extends BenchmarkSettings {
    @Param({"model/artifacts/default", "runs/ml1m-random"})
    public String model;

    @Param({"32"})
    public int batch;

    private ItemVectors vectors;
    private int[][] rows;
    private int[] firsts;

    @Setup(Level.Trial)
    public void load() {
        ModelArtifact artifact = Sequences.artifact(model);
        vectors = ItemVectors.load(artifact);
        rows = Sequences.mixedRows(artifact, batch, 2);
        SplittableRandom random = new SplittableRandom(3);
        firsts = new int[batch];
        for (int r = 0; r < batch; r++) {
            firsts[r] = 1 + random.nextInt(artifact.numItems());
        }
    }

    @Benchmark
    public int because() {
        int sum = 0;
        for (int r = 0; r < batch; r++) {
            sum += vectors.mostSimilarPosition(rows[r], 0, rows[r].length, firsts[r]);
        }
        return sum;
    }
}
