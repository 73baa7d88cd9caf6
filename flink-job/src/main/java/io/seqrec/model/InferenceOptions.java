package io.seqrec.model;

import java.io.Serializable;

/**
 * How a subtask runs its model: ONNX Runtime intra-op threads (size them to the cores of one slot)
 * and the GPU index, or -1 for the CPU.
 */
public record InferenceOptions(int intraOpThreads, int gpuIndex) implements Serializable {
    public static InferenceOptions cpu(int threads) {
        return new InferenceOptions(threads, -1);
    }
}
