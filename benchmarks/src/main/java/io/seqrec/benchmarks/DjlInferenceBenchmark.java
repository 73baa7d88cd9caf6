package io.seqrec.benchmarks;

import io.seqrec.model.InferenceOptions;
import io.seqrec.model.ModelArtifact;
import io.seqrec.model.OnnxSequenceModel;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One model call through {@link OnnxSequenceModel} (DJL's ONNX Runtime engine, what the job runs):
 * a batch of full-length rows in, every item's scores out as a {@code float[]}. Time per call; per
 * sequence = time / batch.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(
        value = 1,
        jvmArgsAppend = {"-Dai.djl.offline=true", "-DOPT_OUT_TRACKING=true", "-Xmx2g"})
public class DjlInferenceBenchmark {
    @Param({"model/artifacts/default", "runs/ml1m-random"})
    public String model;

    @Param({"1", "8", "32", "128", "512"})
    public int batch;

    /** Row length: "max" (the model's max_len) or a number. */
    @Param({"max"})
    public String seqLen;

    @Param({"1"})
    public int threads;

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
