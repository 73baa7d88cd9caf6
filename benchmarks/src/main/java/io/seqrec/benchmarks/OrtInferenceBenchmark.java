package io.seqrec.benchmarks;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.seqrec.model.ModelArtifact;
import java.nio.LongBuffer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.TearDown;

/**
 * The same call as {@link DjlInferenceBenchmark} on the raw ONNX Runtime Java API: a direct input
 * buffer filled in place, the scores copied out into a reused {@code float[]}. Runs in its own
 * forked JVM: DJL cannot start after plain ORT created its environment ("Tried to specify the
 * thread pool when creating an OrtEnvironment, but one already exists").
 */
public class OrtInferenceBenchmark extends FullRowInference {
    private OrtEnvironment env;
    private OrtSession session;
    private String inputName;
    private LongBuffer input;
    private long[] shape;
    private float[] out;

    @Setup(Level.Trial)
    public void load() throws OrtException {
        ModelArtifact artifact = Sequences.artifact(model);
        env = OrtEnvironment.getEnvironment();
        session = OrtSessions.open(env, artifact.modelFile().toString(), threads);
        inputName = artifact.inputName();
        int len = Sequences.length(seqLen, artifact);
        long[] rows = Sequences.fullRows(artifact, batch, len, 1);
        input = OrtSessions.direct(rows);
        shape = new long[] {batch, len};
        out = new float[batch * (artifact.numItems() + 1)];
    }

    @TearDown(Level.Trial)
    public void close() throws OrtException {
        session.close();
    }

    @Benchmark
    public float[] score() throws OrtException {
        return OrtSessions.scores(env, session, inputName, input, shape, out);
    }
}
