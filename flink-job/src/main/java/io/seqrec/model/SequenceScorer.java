package io.seqrec.model;

/**
 * Scores batches of item sequences (and, for a type-aware model, their steps' behaviors): what the
 * recommend operator needs from a model. {@link OnnxSequenceModel} is the implementation the job
 * ships; the interface is the seam through which tests wrap it (e.g. to inject an inference failure
 * around the real model).
 */
public interface SequenceScorer extends AutoCloseable {

    /**
     * Scores a batch.
     *
     * @param input {@code batch * seqLen} item indices, row-major, each row left-padded with 0
     * @return {@code batch * (num_items + 1)} scores, row-major; column 0 is padding
     * @throws RuntimeException if inference fails; the caller decides what happens to the batch
     */
    float[] score(long[] input, int batch, int seqLen);

    /**
     * One model call's outputs.
     *
     * @param scores as {@link #score} returns them
     * @param attention {@code batch * seqLen} weights, row-major: the last block's attention of
     *     each row's last position over its input positions; {@code null} if the model has none or
     *     it was not asked for
     */
    record Output(float[] scores, float[] attention) {}

    /**
     * Scores a batch as {@link #score} does and, if {@code withAttention} and the model has an
     * attention output, returns that too. Models without one (and test wrappers) keep this default.
     */
    default Output run(long[] input, int batch, int seqLen, boolean withAttention) {
        return new Output(score(input, batch, seqLen), null);
    }

    /**
     * Scores a batch as {@link #run(long[], int, int, boolean)} does, with each step's behavior for
     * a model that takes them ({@link ModelArtifact#takesBehaviors}).
     *
     * @param behaviors {@code batch * seqLen} behavior codes aligned with {@code input} (0 where
     *     the items are padding), or {@code null} for a model without a behaviors input
     * @throws IllegalArgumentException if {@code behaviors} is given to a model that takes none, or
     *     missing for one that does
     */
    default Output run(
            long[] input, long[] behaviors, int batch, int seqLen, boolean withAttention) {
        if (behaviors != null) {
            throw new IllegalArgumentException("this model takes no behaviors input");
        }
        return run(input, batch, seqLen, withAttention);
    }

    @Override
    void close();
}
