package io.seqrec.launch;

import io.seqrec.config.JobConfig;
import io.seqrec.event.EventParser;
import io.seqrec.kafka.KafkaConnectors;
import io.seqrec.model.InferenceOptions;
import io.seqrec.model.ModelArtifact;
import io.seqrec.model.OnnxSequenceModel;
import io.seqrec.pipeline.RecommendOptions;
import io.seqrec.pipeline.RecommenderJob;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * Wires the Kafka-backed job into an environment after checking the model up front: the one way
 * {@code seqrec run}, {@code demo} and {@code bench} build the job, and the integration tests too.
 */
public final class JobLauncher {
    private JobLauncher() {}

    /**
     * Loads and probes the model once in the client, so a bad artifact fails the submission with a
     * clear message instead of a restarting job; then adds the dataflow to {@code env}.
     */
    public static ModelArtifact build(JobConfig config, StreamExecutionEnvironment env) {
        return build(config, env, RecommendOptions.from(config));
    }

    /** As {@link #build(JobConfig, StreamExecutionEnvironment)}, with the operator's options. */
    public static ModelArtifact build(
            JobConfig config, StreamExecutionEnvironment env, RecommendOptions recommend) {
        ModelArtifact artifact = ModelArtifact.load(config.modelDir());
        try (OnnxSequenceModel ignored =
                OnnxSequenceModel.load(artifact, InferenceOptions.cpu(1))) {
            // loading probes the graph
        }
        RecommendOptions options = recommend.withModelDir(artifact.dir().toString());
        new RecommenderJob(
                        KafkaConnectors.source(config),
                        KafkaConnectors.recommendationSink(config),
                        KafkaConnectors.deadLetterSink(config),
                        new EventParser(
                                config.maxRecordBytes(),
                                config.maxFieldLength(),
                                config.maxFutureSkew().toMillis()),
                        options,
                        config.maxOutOfOrderness())
                .build(env);
        return artifact;
    }
}
