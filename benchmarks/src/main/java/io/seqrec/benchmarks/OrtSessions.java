package io.seqrec.benchmarks;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.LongBuffer;
import java.util.Map;

/** Raw ONNX Runtime sessions and inputs set up as the job's model sets up its own. */
final class OrtSessions {
    private OrtSessions() {}

    /** A sequential session with {@code threads} intra-op threads and one inter-op thread. */
    static OrtSession open(OrtEnvironment env, String modelFile, int threads) throws OrtException {
        OrtSession.SessionOptions options = new OrtSession.SessionOptions();
        options.setIntraOpNumThreads(threads);
        options.setInterOpNumThreads(1);
        options.setExecutionMode(OrtSession.SessionOptions.ExecutionMode.SEQUENTIAL);
        return env.createSession(modelFile, options);
    }

    /** {@code rows} in a direct buffer, which ONNX Runtime reads without a copy. */
    static LongBuffer direct(long[] rows) {
        LongBuffer buffer =
                ByteBuffer.allocateDirect(rows.length * Long.BYTES)
                        .order(ByteOrder.nativeOrder())
                        .asLongBuffer();
        buffer.put(rows).flip();
        return buffer;
    }

    /**
     * Runs {@code session} on {@code input} of {@code shape} and copies its first output (the
     * scores) into {@code out}, as the job's model copies them out of ONNX Runtime.
     */
    static float[] scores(
            OrtEnvironment env,
            OrtSession session,
            String inputName,
            LongBuffer input,
            long[] shape,
            float[] out)
            throws OrtException {
        try (OnnxTensor x = OnnxTensor.createTensor(env, input, shape);
                OrtSession.Result result = session.run(Map.of(inputName, x))) {
            ((OnnxTensor) result.get(0)).getFloatBuffer().get(out);
            return out;
        }
    }
}
