package io.seqrec.pipeline;

import io.seqrec.config.Device;
import io.seqrec.config.JobConfig;
import io.seqrec.model.BatchScorer;
import io.seqrec.trending.TrendingSettings;
import java.io.Serializable;

/**
 * The settings {@link RecommendOperator} needs, taken from the job configuration. {@code padding}
 * is not a job option: the job always uses {@link BatchScorer.Padding#BUCKETED}; {@code seqrec
 * bench} sets the others to measure against them. With {@code modelRegistry} the operator serves
 * the registry's versions and polls it every {@code modelPollIntervalMs}; {@code modelDir} is then
 * unused.
 */
public record RecommendOptions(
        String modelDir,
        String modelRegistry,
        long modelPollIntervalMs,
        int topK,
        boolean excludeSeen,
        int batchSize,
        long batchTimeoutMs,
        int inferenceThreads,
        Device device,
        long allowedLatenessMs,
        long stateTtlMs,
        int maxHistory,
        int dedupeWindow,
        int maxEventsPerUserPerSecond,
        TrendingSettings trending,
        int freshSlots,
        int blendMaxHistory,
        double blendWeight,
        boolean explanations,
        long qualityWindowMs,
        BatchScorer.Padding padding)
        implements Serializable {

    /**
     * The same options serving another model source: a directory (resolved, e.g. made absolute), or
     * a registry ({@code registry} not {@code null}) polled every {@code pollIntervalMs}.
     */
    public RecommendOptions withModel(String dir, String registry, long pollIntervalMs) {
        return new RecommendOptions(
                dir,
                registry,
                pollIntervalMs,
                topK,
                excludeSeen,
                batchSize,
                batchTimeoutMs,
                inferenceThreads,
                device,
                allowedLatenessMs,
                stateTtlMs,
                maxHistory,
                dedupeWindow,
                maxEventsPerUserPerSecond,
                trending,
                freshSlots,
                blendMaxHistory,
                blendWeight,
                explanations,
                qualityWindowMs,
                padding);
    }

    /** The same options with another batching policy (for benchmarks). */
    public RecommendOptions withBatching(
            int size, long timeoutMs, BatchScorer.Padding paddingPolicy) {
        return new RecommendOptions(
                modelDir,
                modelRegistry,
                modelPollIntervalMs,
                topK,
                excludeSeen,
                size,
                timeoutMs,
                inferenceThreads,
                device,
                allowedLatenessMs,
                stateTtlMs,
                maxHistory,
                dedupeWindow,
                maxEventsPerUserPerSecond,
                trending,
                freshSlots,
                blendMaxHistory,
                blendWeight,
                explanations,
                qualityWindowMs,
                paddingPolicy);
    }

    /** The bounds of each user's state. */
    public UserState.Limits stateLimits() {
        return new UserState.Limits(
                allowedLatenessMs, maxHistory, dedupeWindow, maxEventsPerUserPerSecond);
    }

    public static RecommendOptions from(JobConfig c) {
        return new RecommendOptions(
                c.modelDir().toString(),
                c.modelRegistry(),
                c.modelPollInterval().toMillis(),
                c.topK(),
                c.excludeSeen(),
                c.batchSize(),
                c.batchTimeout().toMillis(),
                c.inferenceThreads(),
                c.device(),
                c.allowedLateness().toMillis(),
                c.stateTtl().toMillis(),
                c.maxHistory(),
                c.dedupeWindow(),
                c.maxEventsPerUserPerSecond(),
                new TrendingSettings(c.trendingCapacity(), c.trendingHalfLife().toMillis()),
                c.freshSlots(),
                c.blendMaxHistory(),
                c.blendWeight(),
                c.explanations(),
                c.qualityWindow().toMillis(),
                BatchScorer.Padding.BUCKETED);
    }
}
