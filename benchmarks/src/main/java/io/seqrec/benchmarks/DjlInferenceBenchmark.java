package io.seqrec.benchmarks;

import io.seqrec.model.InferenceOptions;
import io.seqrec.model.ModelArtifact;
import io.seqrec.model.OnnxSequenceModel;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.TearDown;

/**
 * One model call through {@link OnnxSequenceModel} (DJL's ONNX Runtime engine, what the job runs):
 * a batch of full-length rows in, every item's scores out as a {@code float[]}. Time per call; per
 * sequence = time / batch.
 */
public class DjlInferenceBenchmark extends FullRowInference {
    /** CUDA device index, or -1 for the CPU (a GPU needs the -Pgpu build). */
    @Param({"-1"})
    public int gpu;

    private OnnxSequenceModel loaded;
    private long[] input;
    private int len;

    @Setup(Level.Trial)
    public void load() {
        ModelArtifact artifact = Sequences.artifact(model);
        loaded = OnnxSequenceModel.load(artifact, new InferenceOptions(threads, gpu));
        len = Sequences.length(seqLen, artifact);
        input = Sequences.fullRows(artifact, batch, len, 1);
    }

    @TearDown(Level.Trial)
    public void close() {
        loaded.close();
    }

    @Benchmark
    public float[] score() {
        return loaded.score(input, batch, len);
    }
}
