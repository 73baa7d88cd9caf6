package io.seqrec.pipeline;

import io.seqrec.model.BatchScorer;
import io.seqrec.model.ItemVectors;
import io.seqrec.model.ModelArtifact;
import io.seqrec.model.SequenceScorer;

/**
 * One model as a subtask serves it: the artifact, the loaded model, its batch scorer and, with
 * explanations, what names the history item behind a list: the artifact's item vectors if it has
 * them (then the attention output is not fetched), else the attention output. Used by the task
 * thread only, once it has been handed over; closed by whoever stops serving it.
 */
final class ServedModel implements AutoCloseable {
    final ModelArtifact artifact;
    final SequenceScorer model;
    final BatchScorer scorer;

    /** The item vectors that explain lists; null without explanations or without vectors. */
    final ItemVectors vectors;

    ServedModel(
            ModelArtifact artifact,
            SequenceScorer model,
            BatchScorer.Padding padding,
            boolean explanations) {
        this.artifact = artifact;
        this.model = model;
        this.vectors =
                explanations && artifact.hasItemVectors() ? ItemVectors.load(artifact) : null;
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
