package io.seqrec.pipeline;

import io.seqrec.config.Device;
import io.seqrec.config.JobConfig;
import java.io.Serializable;

/** The settings {@link RecommendOperator} needs, taken from the job configuration. */
public record RecommendOptions(
        String modelDir,
        int topK,
        boolean excludeSeen,
        int batchSize,
        long batchTimeoutMs,
        int inferenceThreads,
        Device device,
        long allowedLatenessMs,
        long stateTtlMs,
        int dedupeWindow)
        implements Serializable {

    /** The same options with the model directory resolved (e.g. made absolute). */
    public RecommendOptions withModelDir(String dir) {
        return new RecommendOptions(
                dir,
                topK,
                excludeSeen,
                batchSize,
                batchTimeoutMs,
                inferenceThreads,
                device,
                allowedLatenessMs,
                stateTtlMs,
                dedupeWindow);
    }

    public static RecommendOptions from(JobConfig c) {
        return new RecommendOptions(
                c.modelDir().toString(),
                c.topK(),
                c.excludeSeen(),
                c.batchSize(),
                c.batchTimeout().toMillis(),
                c.inferenceThreads(),
                c.device(),
                c.allowedLateness().toMillis(),
                c.stateTtl().toMillis(),
                c.dedupeWindow());
    }
}
