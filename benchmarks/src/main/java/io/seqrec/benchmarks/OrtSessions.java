package io.seqrec.benchmarks;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.LongBuffer;

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
}
