package io.seqrec.launch;

import io.seqrec.config.JobConfig;
import io.seqrec.event.EventParser;
import io.seqrec.kafka.KafkaConnectors;
import io.seqrec.model.InferenceOptions;
import io.seqrec.model.ModelArtifact;
import io.seqrec.model.ModelVerifier;
import io.seqrec.model.OnnxSequenceModel;
import io.seqrec.pipeline.Pseudonyms;
import io.seqrec.pipeline.RecommendOptions;
import io.seqrec.pipeline.RecommenderJob;
import io.seqrec.registry.ModelRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * Wires the Kafka-backed job into an environment after checking the model up front: the one way
 * {@code seqrec run}, {@code demo} and {@code bench} build the job, and the integration tests too.
 */
public final class JobLauncher {
    private JobLauncher() {}

    /**
     * Loads and probes the model once in the client, so a bad artifact fails the submission with a
     * clear message instead of a restarting job; then adds the dataflow to {@code env}. With a
     * model registry, the model probed (and returned) is the registry's current stable version,
     * fetched into a temporary directory and checked against its reference vectors.
     */
    public static ModelArtifact build(JobConfig config, StreamExecutionEnvironment env) {
        return build(config, env, RecommendOptions.from(config));
    }

    /** As {@link #build(JobConfig, StreamExecutionEnvironment)}, with the operator's options. */
    public static ModelArtifact build(
            JobConfig config, StreamExecutionEnvironment env, RecommendOptions recommend) {
        ModelArtifact artifact;
        RecommendOptions options;
        if (config.modelRegistry() == null) {
            artifact = ModelArtifact.load(config.modelDir());
            try (OnnxSequenceModel ignored =
                    OnnxSequenceModel.load(artifact, InferenceOptions.cpu(1))) {
                // loading probes the graph
            }
            options = recommend.withModel(artifact.dir().toString(), null, 0);
        } else {
            artifact = probeRegistry(config.modelRegistry());
            // The configuration names the model source, whatever options the caller varied.
            options =
                    recommend.withModel(
                            config.modelDir().toString(),
                            config.modelRegistry(),
                            config.modelPollInterval().toMillis());
        }
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
                .pseudonymized(
                        config.pseudonymizeKeyFile() == null
                                ? null
                                : new Pseudonyms(config.pseudonymizeKeyFile()),
                        config.emitPseudonym())
                .build(env);
        return artifact;
    }

    private static ModelArtifact probeRegistry(String uri) {
        ModelRegistry registry = ModelRegistry.open(uri);
        String stable = registry.pointer().stable();
        // The copy is only for the probe: the job's subtasks fetch their own. What is returned
        // (version, items, max_len) is held in memory.
        try (WorkDir probe = WorkDir.create("seqrec-model-probe-")) {
            ModelArtifact artifact = registry.fetch(stable, probe.path());
            ModelVerifier.load(artifact, InferenceOptions.cpu(1)).close();
            return artifact;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
