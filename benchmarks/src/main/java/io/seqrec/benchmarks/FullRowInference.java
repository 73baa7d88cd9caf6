package io.seqrec.benchmarks;

import org.openjdk.jmh.annotations.Param;

/**
 * The parameters of one inference call on a batch of full-length rows, shared by {@link
 * DjlInferenceBenchmark} and {@link OrtInferenceBenchmark} so the two APIs see the same cases.
 */
public abstract class FullRowInference extends BenchmarkSettings {
    @Param({"model/artifacts/default", "runs/ml1m-random"})
    public String model;

    @Param({"1", "8", "32", "128", "512"})
    public int batch;

    /** Row length: "max" (the model's max_len) or a number. */
    @Param({"max"})
    public String seqLen;

    /** ONNX Runtime intra-op threads. */
    @Param({"1"})
    public int threads;
}
