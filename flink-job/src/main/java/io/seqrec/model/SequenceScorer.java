package io.seqrec.model;

/**
 * Scores batches of item sequences: what the recommend operator needs from a model. {@link
 * OnnxSequenceModel} is the implementation the job ships; the interface is the seam through which
 * tests wrap it (e.g. to inject an inference failure around the real model).
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

    @Override
    void close();
}
