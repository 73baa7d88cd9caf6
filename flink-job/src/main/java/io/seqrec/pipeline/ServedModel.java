package io.seqrec.pipeline;

import io.seqrec.model.BatchScorer;
import io.seqrec.model.ItemVectors;
import io.seqrec.model.ModelArtifact;
import io.seqrec.model.SequenceScorer;

/**
 * One model as a subtask serves it: the artifact, the loaded model, its batch scorer and its item
 * vectors, if the artifact has them. With explanations, the vectors name the history item behind a
 * list (then the attention output is not fetched); without vectors, the attention output does. Used
 * by the task thread only, once it has been handed over; closed by whoever stops serving it.
 */
final class ServedModel implements AutoCloseable {
    final ModelArtifact artifact;
    final SequenceScorer model;
    final BatchScorer scorer;

    /** The artifact's item vectors (lists' diversity, and because); null if it has none. */
    final ItemVectors vectors;

    /** Whether lists say what they are because of (--explanations). */
    final boolean explains;

    ServedModel(
            ModelArtifact artifact,
            SequenceScorer model,
            BatchScorer.Padding padding,
            boolean explanations) {
        this.artifact = artifact;
        this.model = model;
        this.vectors = artifact.hasItemVectors() ? ItemVectors.load(artifact) : null;
        this.explains = explanations;
        this.scorer = new BatchScorer(model, artifact, padding, explanations && vectors == null);
    }

    String version() {
        return artifact.modelVersion();
    }

    @Override
    public void close() {
        model.close();
    }
}
