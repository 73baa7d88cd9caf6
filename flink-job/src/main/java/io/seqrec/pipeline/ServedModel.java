package io.seqrec.pipeline;

import io.seqrec.model.BatchScorer;
import io.seqrec.model.ModelArtifact;
import io.seqrec.model.SequenceScorer;

/**
 * One model as a subtask serves it: the artifact, the loaded model and its batch scorer. Used by
 * the task thread only, once it has been handed over; closed by whoever stops serving it.
 */
final class ServedModel implements AutoCloseable {
    final ModelArtifact artifact;
    final SequenceScorer model;
    final BatchScorer scorer;

    ServedModel(
            ModelArtifact artifact,
            SequenceScorer model,
            BatchScorer.Padding padding,
            boolean explanations) {
        this.artifact = artifact;
        this.model = model;
        this.scorer = new BatchScorer(model, artifact, padding, explanations);
    }

    String version() {
        return artifact.modelVersion();
    }

    @Override
    public void close() {
        model.close();
    }
}
